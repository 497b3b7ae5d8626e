"""One Services object per data directory: everything long-lived that runs share (stores,
caches, pools, the guard, the compiled-graph cache with its checkpointer, routers, the LLM).

The CLI and the HTTP API make their own and pass it down; graphs close over the one that
compiled them; nothing below keeps mutable state of its own. The Python API and LangGraph
Studio, which have no place to keep one, use ``shared_services()``: the process's object for
the current data directory (a new one when CHATTER_HOME or the settings change).
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from langgraph.checkpoint.sqlite import SqliteSaver

from chatter.context import Context
from chatter.governance.admin import Admin
from chatter.governance.audit import AuditLog
from chatter.governance.grants import PermissionStore
from chatter.governance.guard import Guard
from chatter.governance.metrics import Metrics
from chatter.governance.ratelimit import SlidingWindowLimiter
from chatter.llm import make_llm
from chatter.lru import LruCache
from chatter.run_control import RunControls
from chatter.semantic.engine import connection_config
from chatter.semantic.model import SemanticModel, default_model
from chatter.semantic.pool import PoolLimits, WarehousePool
from chatter.semantic.warehouse import Warehouse
from chatter.settings import Settings, get_settings
from chatter.stores.checkpoints import sqlite_checkpointer
from chatter.stores.runs import RunStore
from chatter.stores.sessions import SessionStore

T = TypeVar("T")


class Services:
    """What one data directory's runs share. Parts are opened on first use, so a command
    that needs no store creates no file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home
        self.metrics = Metrics()
        self.limiter = SlidingWindowLimiter()
        self.controls = RunControls()
        self.step_slots = threading.BoundedSemaphore(settings.max_parallel_steps)
        self.warehouses = WarehousePool(
            PoolLimits(
                timeout_s=settings.query_timeout_s,
                row_cap=settings.row_cap,
                engine_config=connection_config(
                    settings.duckdb_memory_limit, settings.duckdb_threads
                ),
                cache_dir=settings.cache_dir,
                cache_ttl_s=settings.cache_ttl_s,
                schema_ttl_s=settings.schema_cache_ttl_s,
                cache_entry_max_bytes=settings.cache_entry_max_bytes,
                cache_size_limit_bytes=settings.cache_size_limit_bytes,
            ),
            size=settings.warehouse_pool_size,
        )
        #: Compiled graphs (workflow templates and the analyst), keyed by what shapes them.
        self.graphs: LruCache[Any] = LruCache(
            settings.graph_cache_size,
            on_lookup=lambda hit: self.metrics.record_graph_cache(hit=hit),
        )
        #: Routers per database version and model (their vocabulary reads the data's levels).
        self.routers: LruCache[Any] = LruCache(16)
        #: Routing rule sets per file and modification time.
        self.rules: LruCache[Any] = LruCache(8)
        self._models: LruCache[SemanticModel] = LruCache(16)
        self._lock = threading.RLock()
        self._opened: dict[str, Any] = {}
        self._closed = False

    def _once(self, name: str, make: Callable[[], T]) -> T:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"the services of {self.home} are closed")
            if name not in self._opened:
                self._opened[name] = make()
            value: T = self._opened[name]
            return value

    # ---- stores and the guard --------------------------------------------------------------

    @property
    def guard(self) -> Guard:
        return self._once(
            "guard",
            lambda: Guard(
                permissions=PermissionStore(self.home / "permissions.sqlite"),
                limiter=self.limiter,
                audit=AuditLog(self.home / "audit.sqlite"),
                metrics=self.metrics,
            ),
        )

    @property
    def admin(self) -> Admin:
        """Grants and data scopes, changed and read through the guard."""
        return Admin(self.guard, lambda by: self.model(by.semantic_model))

    @property
    def runs(self) -> RunStore:
        return self._once("runs", lambda: RunStore(self.home / "runs.sqlite"))

    @property
    def sessions(self) -> SessionStore:
        return self._once("sessions", lambda: SessionStore(self.home / "sessions.sqlite"))

    @property
    def run_checkpoints(self) -> SqliteSaver:
        """Where durable workflow runs checkpoint (a killed run resumes from here)."""
        return self._once(
            "run_checkpoints", lambda: sqlite_checkpointer(self.home / "checkpoints.sqlite")
        )

    @property
    def chat_checkpoints(self) -> SqliteSaver:
        """Where chat threads live (one per session)."""
        return self._once(
            "chat_checkpoints", lambda: sqlite_checkpointer(self.home / "chat.sqlite")
        )

    @property
    def llm(self) -> Any | None:
        """The optional LLM (None without OPENAI_API_KEY); its tokens reach the metrics."""
        return self._once(
            "llm",
            lambda: make_llm(
                self.settings,
                lambda prompt, completion, model: self.metrics.record_tokens(
                    prompt=prompt, completion=completion, model=model
                ),
            ),
        )

    # ---- data ----------------------------------------------------------------------------

    def today(self) -> dt.date:
        """Today's date, which relative time windows count back from (CHATTER_TODAY fixes it)."""
        return self.settings.today or dt.date.today()

    def database(self, ctx: Context) -> Path:
        """The database a context reads; the embedded demo is generated on first use."""
        chosen = ctx.database or self.settings.database
        if chosen is not None:
            return Path(chosen).expanduser()
        from chatter.demo import ensure_demo_database

        settings = self.settings
        return ensure_demo_database(settings.demo_database, settings.demo_users, settings.demo_seed)

    def model(self, path: Path | None) -> SemanticModel:
        """The semantic model at ``path`` (re-read when the file changes), else
        CHATTER_SEMANTIC_MODEL, else the packaged saas model."""
        chosen = path or self.settings.semantic_model
        if chosen is None:
            return default_model()
        chosen = Path(chosen).expanduser()
        stamp = chosen.stat().st_mtime_ns if chosen.exists() else 0
        return self._models.get((str(chosen), stamp), lambda: SemanticModel.from_path(chosen))

    def warehouse(self, ctx: Context) -> Warehouse:
        """The pooled warehouse for the context's database, model, cache choice and data scope
        (the context's own plus the one its user and role carry)."""
        governed = self.guard.governed(ctx)
        return self.warehouses.get(
            self.database(governed),
            self.model(governed.semantic_model),
            use_cache=governed.use_cache,
            scope=governed.scope,
        )

    # ---- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """Release files and connections (the object is not used afterwards)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            opened, self._opened = self._opened, {}
        self.warehouses.close()
        for name, part in opened.items():
            if name in ("run_checkpoints", "chat_checkpoints"):
                part.conn.close()
            elif hasattr(part, "close"):
                part.close()


_shared: dict[Path, Services] = {}
#: Services replaced because the settings changed: graphs built earlier may still use them, so
#: they are closed with the rest, not when replaced.
_replaced: list[Services] = []
_shared_lock = threading.Lock()


def shared_services(settings: Settings | None = None) -> Services:
    """The process's Services for the data directory of ``settings`` (default: the
    environment's, as ``get_settings`` read it), made on first use and made anew when the
    settings change."""
    settings = settings or get_settings()
    home = Path(settings.home).expanduser().resolve()
    with _shared_lock:
        found = _shared.get(home)
        if found is not None and found.settings == settings:
            return found
        if found is not None:
            _replaced.append(found)
        made = _shared[home] = Services(settings)
        return made


def close_shared_services() -> None:
    """Close every shared Services (tests; and at exit, so DuckDB files are released)."""
    with _shared_lock:
        every = [*_shared.values(), *_replaced]
        _shared.clear()
        _replaced.clear()
    for services in every:
        services.close()


# DuckDB objects still open when the interpreter tears down make its bindings complain.
atexit.register(close_shared_services)
