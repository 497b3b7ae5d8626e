"""Result and schema caches on disk (diskcache under CHATTER_HOME/cache).

A result is keyed by everything that decides it: the database file and its data version, the
data scope (mandatory row filters), the SQL with its literals and parameters, and the row limit.
Never by question text: two phrasings of one query share an entry, two literals never do.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import diskcache

from chatter.collecting import collecting
from chatter.logs import get_logger

log = get_logger(__name__)

#: Bump when the cached value's shape changes, so old entries are never read back.
FORMAT = 1
_T = TypeVar("_T")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    oversize: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def as_dict(self) -> dict[str, int]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "stores": self.stores,
            "oversize": self.oversize,
        }


def result_key(
    *, database: str, version: str, scope: Any, sql: str, params: dict[str, Any], limit: Any
) -> str:
    """A digest of everything that decides a query's result."""
    payload = json.dumps(
        {
            "f": FORMAT,
            "db": database,
            "v": version,
            "scope": scope,
            "sql": sql,
            "params": {k: repr(v) for k, v in sorted(params.items())},
            "limit": limit,
        },
        sort_keys=True,
        default=repr,
    )
    return "result:" + hashlib.sha256(payload.encode()).hexdigest()


_HITS: ContextVar[list[float] | None] = ContextVar("chatter_cache_hits", default=None)


def tracking_hits() -> contextlib.AbstractContextManager[list[float]]:
    """When each entry read from a cache in this context expires (``time.time()``; inf for
    none): what is built from them must not outlive the first of them."""
    return collecting(_HITS)


class ResultCache:
    """Query results with a time to live, a size cap per entry and hit/miss counters.

    diskcache opens one SQLite connection per thread that uses it, closed only when the garbage
    collector finds it; so every read and write runs on one thread the cache owns, and the cache
    holds one connection however many threads (the API's, workflow steps') come and go.
    Pickling stays on the caller's thread."""

    def __init__(
        self,
        directory: Path,
        *,
        ttl_s: float = 1800.0,
        schema_ttl_s: float = 86_400.0,
        entry_max_bytes: int = 8 * 1024 * 1024,
        size_limit: int = 1024**3,
    ) -> None:
        self.ttl_s = ttl_s
        self.schema_ttl_s = schema_ttl_s
        self.entry_max_bytes = entry_max_bytes
        self.stats = CacheStats()
        directory.mkdir(parents=True, exist_ok=True)
        self._io: ThreadPoolExecutor | None = None
        self._io_pid = os.getpid()
        self._io_lock = threading.Lock()
        self._disk: diskcache.Cache = self._on_io(
            lambda: diskcache.Cache(
                str(directory), size_limit=size_limit, eviction_policy="least-recently-used"
            )
        )

    def _on_io(self, work: Callable[[], _T]) -> _T:
        """``work()`` on the cache's own thread (started on first use, and anew after a fork
        or a close)."""
        with self._io_lock:
            if self._io is None or self._io_pid != os.getpid():
                self._io = ThreadPoolExecutor(1, thread_name_prefix="chatter-cache")
                self._io_pid = os.getpid()
            io = self._io
        return io.submit(work).result()

    def close(self) -> None:
        """Close the connection and stop the thread; the cache reopens on next use."""
        with self._io_lock:
            io, self._io = self._io, None
        if io is not None and self._io_pid == os.getpid():
            # RuntimeError: the interpreter is exiting and takes no new work; it closes the file.
            with contextlib.suppress(RuntimeError):
                io.submit(self._disk.close).result()
            io.shutdown(wait=True)

    def get(self, key: str) -> Any | None:
        blob, expires = self._on_io(lambda: self._disk.get(key, expire_time=True))
        if blob is None:
            self.stats.count("misses")
            return None
        self.stats.count("hits")
        hits = _HITS.get()
        if hits is not None:
            hits.append(expires if expires is not None else math.inf)
        return pickle.loads(blob)

    def set(self, key: str, value: Any, *, expires_at: float | None = None) -> bool:
        """Store ``value`` unless it is larger than the per-entry cap; True when stored. It
        lives the cache's time to live, or until ``expires_at`` (``time.time()``) if sooner."""
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if len(blob) > self.entry_max_bytes:
            self.stats.count("oversize")
            log.info("cache_entry_too_large", bytes=len(blob), cap=self.entry_max_bytes)
            return False
        expire = self.ttl_s
        if expires_at is not None:
            expire = min(expire, expires_at - time.time())
            if expire <= 0:
                return False
        self._on_io(lambda: self._disk.set(key, blob, expire=expire))
        self.stats.count("stores")
        return True

    def get_schema(self, database: str, version: str) -> dict[str, dict[str, str]] | None:
        value = self._on_io(lambda: self._disk.get(_schema_key(database, version)))
        return None if value is None else dict(value)

    def set_schema(self, database: str, version: str, schema: dict[str, dict[str, str]]) -> None:
        key = _schema_key(database, version)
        self._on_io(lambda: self._disk.set(key, schema, expire=self.schema_ttl_s))

    def clear(self) -> None:
        self._on_io(self._disk.clear)


def _schema_key(database: str, version: str) -> str:
    # The data version is part of the key: a changed file never reads an old schema.
    return "schema:" + hashlib.sha256(f"{FORMAT}|{database}|{version}".encode()).hexdigest()
