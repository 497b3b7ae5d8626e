"""One Services object per data directory: everything long-lived that runs share (stores,
caches, pools, the guard, the compiled-graph cache with its checkpointer, routers, the LLM).

The CLI and the HTTP API make their own and pass it down; graphs close over the one that
compiled them; nothing below keeps mutable state of its own. The Python API and LangGraph
Studio, which have no place to keep one, use ``shared_services()``: the process's object for
the current data directory (a new one when CHATTER_HOME or the settings change).

Where the shared state lives follows ``CHATTER_STATE_URL`` (chatter.stores.state): SQLite
files under CHATTER_HOME by default, or one PostgreSQL database that several worker processes
share; both backends' stores have the same methods, so nothing past this module tells them
apart.
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from langgraph.checkpoint.base import BaseCheckpointSaver

from chatter.context import Context
from chatter.governance.admin import Admin
from chatter.governance.audit import AuditLog
from chatter.governance.grants import PermissionStore
from chatter.governance.guard import Guard
from chatter.governance.metrics import Metrics
from chatter.governance.ratelimit import SlidingWindowLimiter
from chatter.lazy_import import lazy_module
from chatter.llm import make_llm
from chatter.lru import LruCache
from chatter.run_control import RunControls
from chatter.semantic.engine import connection_config
from chatter.semantic.engines.locator import DatabaseUrl, parse_database
from chatter.semantic.model import SemanticModel, default_model
from chatter.semantic.pool import PoolLimits, WarehousePool
from chatter.semantic.warehouse import Warehouse
from chatter.settings import Settings, get_settings
from chatter.stores.checkpoints import sqlite_checkpointer
from chatter.stores.runs import RunStore
from chatter.stores.sessions import SessionStore
from chatter.stores.state import StateBackend, probe, state_backend, unavailable

if TYPE_CHECKING:
    from chatter.governance import postgres as pg_governance
    from chatter.stores import postgres as pg_stores

    #: Either backend's store; each pair has the same methods
    #: (tests/integration/test_state_backends.py).
    Runs = RunStore | pg_stores.PostgresRunStore
    Sessions = SessionStore | pg_stores.PostgresSessionStore
    MetricsStore = Metrics | pg_governance.PostgresMetrics
    Limiter = SlidingWindowLimiter | pg_governance.PostgresLimiter
else:
    # psycopg and the PostgreSQL stores load only when the state lives on PostgreSQL
    pg_governance = lazy_module("chatter.governance.postgres")
    pg_stores = lazy_module("chatter.stores.postgres")

T = TypeVar("T")


class Services:
    """What one data directory's runs share. Parts are opened on first use, so a command
    that needs no store creates no file (nor, on PostgreSQL, a connection)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home
        #: Where sessions, runs, audit, grants, rate limits, metrics and checkpoints live
        #: (a bad CHATTER_STATE_URL fails here, naming the variable).
        self.state: StateBackend = state_backend(settings)
        # In memory on SQLite (one process's worth, as before); made on first use on PostgreSQL.
        self._metrics = Metrics() if self.state.kind == "sqlite" else None
        self._limiter = SlidingWindowLimiter() if self.state.kind == "sqlite" else None
        self._probed = False
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

    def _postgres(self, make: Callable[[str, int], T]) -> T:
        """A PostgreSQL store made by ``make(url, max_connections)``; the first one checks the
        server answers, and a failure names CHATTER_STATE_URL (without its password)."""
        import psycopg
        import psycopg_pool

        url = self.state.url or ""
        try:
            if not self._probed:
                probe(self.state, timeout_s=self.settings.state_connect_timeout_s)
                self._probed = True
            return make(url, self.settings.state_pool_size)
        except (psycopg.Error, psycopg_pool.PoolTimeout, TimeoutError) as err:
            raise unavailable(self.state, err) from None

    @property
    def metrics(self) -> MetricsStore:
        """Operational metrics: this process's on SQLite, every worker's on PostgreSQL."""
        if self._metrics is not None:
            return self._metrics
        return self._once(
            "metrics",
            lambda: self._postgres(
                lambda url, size: pg_governance.PostgresMetrics(url, max_connections=size)
            ),
        )

    @property
    def limiter(self) -> Limiter:
        """Rate limits: this process's on SQLite, exact across workers on PostgreSQL."""
        if self._limiter is not None:
            return self._limiter
        return self._once(
            "limiter",
            lambda: self._postgres(
                lambda url, size: pg_governance.PostgresLimiter(url, max_connections=size)
            ),
        )

    # ---- stores and the guard --------------------------------------------------------------

    @property
    def guard(self) -> Guard:
        return self._once("guard", self._make_guard)

    def _make_guard(self) -> Guard:
        limiter, metrics = self.limiter, self.metrics  # first: they are closed on their own
        if self.state.kind == "postgres":
            permissions: Any = self._postgres(
                lambda url, size: pg_governance.PostgresPermissionStore(url, max_connections=size)
            )
            try:
                audit: Any = self._postgres(
                    lambda url, size: pg_governance.PostgresAuditLog(url, max_connections=size)
                )
            except BaseException:
                permissions.close()  # not the guard's yet: nobody else would close it
                raise
        else:
            permissions = PermissionStore(self.home / "permissions.sqlite")
            audit = AuditLog(self.home / "audit.sqlite")
        # Guard's fields name the SQLite classes; the PostgreSQL ones have the same methods.
        return Guard(
            permissions=cast(PermissionStore, permissions),
            limiter=cast(SlidingWindowLimiter, limiter),
            audit=cast(AuditLog, audit),
            metrics=cast(Metrics, metrics),
        )

    @property
    def admin(self) -> Admin:
        """Grants and data scopes, changed and read through the guard."""
        return Admin(self.guard, lambda by: self.model(by.semantic_model))

    @property
    def runs(self) -> Runs:
        def make() -> Runs:
            if self.state.kind == "postgres":
                return self._postgres(
                    lambda url, size: pg_stores.PostgresRunStore(url, max_connections=size)
                )
            return RunStore(self.home / "runs.sqlite")

        return self._once("runs", make)

    @property
    def sessions(self) -> Sessions:
        def make() -> Sessions:
            if self.state.kind == "postgres":
                return self._postgres(
                    lambda url, size: pg_stores.PostgresSessionStore(url, max_connections=size)
                )
            return SessionStore(self.home / "sessions.sqlite")

        return self._once("sessions", make)

    def _checkpointer(self, sqlite_file: str) -> BaseCheckpointSaver[Any]:
        # On PostgreSQL runs and chats share the checkpoint tables (their thread ids differ:
        # run ids and session ids), each saver with its own pool.
        if self.state.kind == "postgres":
            return self._postgres(
                lambda url, size: pg_stores.postgres_checkpointer(url, max_connections=size)
            )
        return sqlite_checkpointer(self.home / sqlite_file)

    @property
    def run_checkpoints(self) -> BaseCheckpointSaver[Any]:
        """Where durable workflow runs checkpoint (a killed run resumes from here)."""
        return self._once("run_checkpoints", lambda: self._checkpointer("checkpoints.sqlite"))

    @property
    def chat_checkpoints(self) -> BaseCheckpointSaver[Any]:
        """Where chat threads live (one per session)."""
        return self._once("chat_checkpoints", lambda: self._checkpointer("chat.sqlite"))

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

    def database(self, ctx: Context) -> Path | DatabaseUrl:
        """The database a context reads (a DuckDB file, or a URL whose ``str`` shows no
        password); the embedded demo is generated on first use."""
        chosen = ctx.database or self.settings.database
        if chosen is not None:
            return parse_database(chosen)
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
        # The metrics last (on PostgreSQL closing flushes them), so nothing recorded is lost.
        last = opened.pop("metrics", None)
        for name, part in [*opened.items(), ("metrics", last)]:
            if part is None:
                continue
            if name in ("run_checkpoints", "chat_checkpoints"):
                part.conn.close()  # a SQLite connection, or a PostgreSQL pool
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
