"""Warehouses of one data directory, bounded: one read-only engine (a DuckDB connection, or a
PostgreSQL connection pool) per database, shared by every semantic model and data scope that reads it; one result cache;
and at most ``size`` scoped warehouses, the least recently used dropped first.

A scoped warehouse is light (its compiled-query memo and schema copy), so dropping one costs a
recompile at most. Past ``max_engines`` databases, an engine is closed once no warehouse uses
it, neither a pooled one nor one handed out and still held (a step between two of its
queries), and it runs no query; so a long-lived server with many users' scopes holds one
connection per database, not one per scope.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatter.semantic.cache import ResultCache
from chatter.semantic.engines import DatabaseUrl, Engine, engine_key, open_engine
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import Filter
from chatter.semantic.singleflight import SingleFlight
from chatter.semantic.warehouse import Warehouse


@dataclass(frozen=True)
class PoolLimits:
    """What every warehouse of a pool shares: time limit, row cap, DuckDB settings, cache."""

    timeout_s: float = 120.0
    row_cap: int = 10_000
    engine_config: dict[str, Any] | None = None
    cache_dir: Path | None = None
    cache_ttl_s: float = 1800.0
    schema_ttl_s: float = 86_400.0
    cache_entry_max_bytes: int = 8 * 1024 * 1024
    cache_size_limit_bytes: int = 1024**3


class WarehousePool:
    def __init__(self, limits: PoolLimits, *, size: int = 32, max_engines: int = 8) -> None:
        self.limits = limits
        self.size = size
        self.max_engines = max_engines
        self.flight = SingleFlight()
        self._lock = threading.Lock()
        self._engines: dict[str, Engine] = {}  # engine_key -> engine
        # Every warehouse handed out, by engine, while someone holds it (weak: dropping the
        # last reference is what releases it).
        self._holders: dict[str, weakref.WeakSet[Warehouse]] = {}
        self._warehouses: OrderedDict[tuple[object, ...], Warehouse] = OrderedDict()
        self._cache: ResultCache | None = None
        self._closed = False

    def get(
        self,
        database: Path | DatabaseUrl | str,
        model: SemanticModel,
        *,
        use_cache: bool = True,
        scope: tuple[Filter, ...] = (),
    ) -> Warehouse:
        """The warehouse for a database, model, cache choice and data scope."""
        path = engine_key(database)
        key = (path, model.content_hash, use_cache, tuple(f.model_dump_json() for f in scope))
        with self._lock:
            if self._closed:
                raise RuntimeError("the warehouse pool is closed")
            found = self._warehouses.get(key)
            if found is not None:
                self._warehouses.move_to_end(key)
                return found
            engine = self._engines.get(path)
            if engine is None:
                engine = open_engine(
                    database,
                    timeout_s=self.limits.timeout_s,
                    duckdb_config=self.limits.engine_config,
                )
                self._engines[path] = engine
            warehouse = Warehouse(
                engine,
                model,
                cache=self._result_cache() if use_cache else None,
                row_cap=self.limits.row_cap,
                scope=scope,
                flight=self.flight,
            )
            self._warehouses[key] = warehouse
            self._holders.setdefault(path, weakref.WeakSet()).add(warehouse)
            while len(self._warehouses) > self.size:
                self._warehouses.popitem(last=False)
            self._close_unused_engines()
            return warehouse

    def _result_cache(self) -> ResultCache | None:
        if self._cache is None and self.limits.cache_dir is not None:
            self._cache = ResultCache(
                self.limits.cache_dir,
                ttl_s=self.limits.cache_ttl_s,
                schema_ttl_s=self.limits.schema_ttl_s,
                entry_max_bytes=self.limits.cache_entry_max_bytes,
                size_limit=self.limits.cache_size_limit_bytes,
            )
        return self._cache

    def _close_unused_engines(self) -> None:
        """Past ``max_engines``, close engines that no warehouse uses (pooled, or handed out
        and still held) and that run nothing (caller holds the lock)."""
        for path, engine in list(self._engines.items()):
            if len(self._engines) <= self.max_engines:
                return
            if not self._holders.get(path) and not engine.busy():
                engine.close()
                del self._engines[path]
                self._holders.pop(path, None)

    def interrupt(self, threads: set[int]) -> None:
        """Stop the queries that ``threads`` run, on every engine."""
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            engine.interrupt(threads)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"warehouses": len(self._warehouses), "engines": len(self._engines)}

    def close(self) -> None:
        """Close every engine and the result cache (releases the database files)."""
        with self._lock:
            self._closed = True
            engines = list(self._engines.values())
            self._engines.clear()
            self._warehouses.clear()
            cache, self._cache = self._cache, None
        for engine in engines:
            engine.close()
        if cache is not None:
            cache.close()
