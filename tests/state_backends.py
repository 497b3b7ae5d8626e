"""Both state backends behind one face, for tests/integration/test_state_backends.py: a
``State`` makes each store on SQLite files or on a PostgreSQL database, and the functions
run in other processes (spawned, so they are importable here) write to the same state."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chatter.governance.audit import AuditLog
from chatter.governance.grants import PermissionStore
from chatter.governance.metrics import Metrics
from chatter.governance.postgres import (
    PostgresAuditLog,
    PostgresLimiter,
    PostgresMetrics,
    PostgresPermissionStore,
)
from chatter.governance.ratelimit import RateLimit, SlidingWindowLimiter
from chatter.stores.checkpoints import sqlite_checkpointer
from chatter.stores.postgres import PostgresRunStore, PostgresSessionStore, postgres_checkpointer
from chatter.stores.runs import RunStore
from chatter.stores.sessions import SessionStore


class State:
    """The stores of one backend (``sqlite`` under ``home``, or ``postgres`` at ``url``);
    everything made is closed by ``close()``. Opening a store twice gives two handles on
    the same state, as two workers would have."""

    def __init__(self, kind: str, home: Path, url: str | None) -> None:
        self.kind, self.home, self.url = kind, home, url
        self._opened: list[Any] = []

    @property
    def shared(self) -> bool:
        """Whether every process sees the same rate limits and metrics."""
        return self.kind == "postgres"

    def _keep(self, store: Any) -> Any:
        self._opened.append(store)
        return store

    def runs(self) -> Any:
        if self.url:
            return self._keep(PostgresRunStore(self.url))
        return self._keep(RunStore(self.home / "runs.sqlite"))

    def sessions(self) -> Any:
        if self.url:
            return self._keep(PostgresSessionStore(self.url))
        return self._keep(SessionStore(self.home / "sessions.sqlite"))

    def audit(self) -> Any:
        if self.url:
            return self._keep(PostgresAuditLog(self.url))
        return self._keep(AuditLog(self.home / "audit.sqlite"))

    def grants(self) -> Any:
        if self.url:
            return self._keep(PostgresPermissionStore(self.url))
        return self._keep(PermissionStore(self.home / "permissions.sqlite"))

    def limiter(self, clock: Callable[[], float] | None = None) -> Any:
        if self.url:
            return self._keep(PostgresLimiter(self.url, clock))
        return SlidingWindowLimiter(clock) if clock else SlidingWindowLimiter()

    def metrics(self, **kw: Any) -> Any:
        if self.url:
            return self._keep(PostgresMetrics(self.url, **kw))
        return Metrics(**kw)

    def checkpointer(self) -> Any:
        if self.url:
            saver = postgres_checkpointer(self.url)
        else:
            saver = sqlite_checkpointer(self.home / "checkpoints.sqlite")
        self._opened.append(saver.conn)
        return saver

    def tamper(self, sql: str, *args: object) -> None:
        """What an attacker with write access to the state can do: drop the append-only
        triggers and run ``sql`` (with ``?`` placeholders) on the audit table."""
        if self.url is None:
            con = sqlite3.connect(self.home / "audit.sqlite")
            con.execute("DROP TRIGGER IF EXISTS audit_no_update")
            con.execute("DROP TRIGGER IF EXISTS audit_no_delete")
            con.execute(sql, args)
            con.commit()
            con.close()
            return
        import psycopg

        with psycopg.connect(self.url) as pg:
            for name in ("audit_no_update", "audit_no_delete", "audit_no_truncate"):
                pg.execute(f"DROP TRIGGER IF EXISTS {name} ON audit")
            pg.execute(sql.replace("?", "%s"), args)

    def raw(self, sql: str) -> None:
        """Run ``sql`` on the state as a plain client would (to test what the triggers stop)."""
        if self.url is None:
            con = sqlite3.connect(self.home / "audit.sqlite")
            try:
                con.execute(sql)
                con.commit()
            finally:
                con.close()
            return
        import psycopg

        with psycopg.connect(self.url) as pg:
            pg.execute(sql)

    def close(self) -> None:
        for store in reversed(self._opened):
            store.close()
        self._opened.clear()


def reset_postgres(url: str) -> None:
    """An empty public schema: each test starts from no tables."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("DROP SCHEMA public CASCADE")
        pg.execute("CREATE SCHEMA public")


# ---- work done in other processes -----------------------------------------------------------


def append_audit(kind: str, home: str, url: str | None, worker: int, n: int, start: Any) -> None:
    """``n`` audit rows from worker ``worker``, from three threads at once."""
    import threading

    state = State(kind, Path(home), url)
    log = state.audit()
    start.wait()

    def write(thread: int) -> None:
        for i in range(thread, n, 3):
            log.append(actor=f"p{worker}", role="r", action="x", decision="info", reason=str(i))
            # A pause between appends, as between requests: a SQLite writer that just committed
            # would otherwise take the lock again at once and the workers' rows never interleave.
            time.sleep(0.002)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state.close()


def take_rate_slots(url: str, tries: int, start: Any, admitted: Any) -> None:
    """Try ``tries`` calls against one shared limit; count the ones admitted."""
    limiter = PostgresLimiter(url)
    limit = RateLimit(calls=25, window_s=3600)
    start.wait()
    won = sum(
        limiter.acquire([(("u", "role:r", "tool:query"), limit)]).allowed for _ in range(tries)
    )
    with admitted.get_lock():
        admitted.value += won
    limiter.close()


def record_metrics(url: str, worker: int, calls: int, start: Any) -> None:
    """``calls`` tool calls and one run recorded by worker ``worker``, flushed on close."""
    metrics = PostgresMetrics(url, flush_interval_s=0.05)
    start.wait()
    for i in range(calls):
        metrics.record_tool_call(
            tool=("query", "stats")[i % 2], step_type="query", duration_ms=float(i), ok=i % 5 != 0,
            error_code="internal" if i % 5 == 0 else None, cached=i % 2 == 0,
            run_id=f"w{worker}", step_id=f"s{i % 3}",
        )  # fmt: skip
        if i % 50 == 0:
            time.sleep(0.01)  # let the flusher write some while others record
    metrics.record_run(
        template="funnel", run_id=f"w{worker}", duration_ms=100.0, status="succeeded"
    )
    metrics.close()
