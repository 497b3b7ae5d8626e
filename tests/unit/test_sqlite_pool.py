"""The stores' SQLite connections are a few the store owns: short-lived threads reuse them (no
file opened per thread), a unit of work left half-done is rolled back before reuse, and close
closes them all, borrowed ones included."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from chatter.governance._sqlite_pool import PoolExhaustedError, SqlitePool
from chatter.governance.audit import AuditLog
from chatter.governance.grants import PermissionStore
from chatter.governance.permissions import Grant, Level


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def in_short_threads(work: object, n: int = 200, at_once: int = 20) -> list[BaseException]:
    """``work()`` in ``n`` threads, ``at_once`` alive at a time, each ending after one call."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    for _ in range(n // at_once):
        batch = [threading.Thread(target=run) for _ in range(at_once)]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    return errors


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_short_lived_threads_share_the_stores_few_connections(tmp_path: Path) -> None:
    grants = PermissionStore(tmp_path / "permissions.sqlite")
    audit = AuditLog(tmp_path / "audit.sqlite")
    grants.put(Grant(subject="user:ana", resource="tool:*", level=Level.EXECUTE))
    before = open_files()

    def work() -> None:
        assert grants.grants()
        grants.scope_for("ana", "analyst")
        audit.append(actor="ana", role="analyst", action="x", decision="info")

    assert in_short_threads(work) == []
    # At most 4 connections each (a database file and its WAL apiece), whatever the threads.
    assert open_files() <= before + 2 * 2 * 4
    assert grants._pool.opened <= 4 and audit._pool.opened <= 4
    report = audit.verify()
    assert report.ok and report.rows == 200, report.problems[:3]
    grants.close()
    audit.close()
    assert grants._pool.opened == 0 and audit._pool.opened == 0


def test_a_transaction_left_open_is_rolled_back_before_reuse(tmp_path: Path) -> None:
    pool = SqlitePool(tmp_path / "x.sqlite", size=1, autocommit=True)
    with pool.connection() as con:
        con.execute("CREATE TABLE t (v INTEGER)")
    with pytest.raises(RuntimeError), pool.connection() as con:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("the unit of work failed half-way")
    with pool.connection() as con:
        assert not con.in_transaction
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
        con.execute("BEGIN IMMEDIATE")  # the write lock was let go
        con.execute("COMMIT")
    pool.close()


def test_a_full_pool_makes_the_next_thread_wait_then_serves_it(tmp_path: Path) -> None:
    pool = SqlitePool(tmp_path / "x.sqlite", size=1)
    got: list[float] = []
    with pool.connection():
        waiter = threading.Thread(target=lambda: got.append(_borrow_time(pool)))
        started = time.monotonic()
        waiter.start()
        time.sleep(0.2)
        assert got == []  # still waiting
    waiter.join(5)
    assert got and got[0] - started >= 0.2
    assert pool.opened == 1
    pool.close()


def _borrow_time(pool: SqlitePool) -> float:
    with pool.connection():
        return time.monotonic()


def test_a_pool_held_too_long_says_so(tmp_path: Path) -> None:
    pool = SqlitePool(tmp_path / "x.sqlite", size=1, wait_s=0.1)
    errors: list[BaseException] = []

    def borrow() -> None:
        try:
            with pool.connection():
                pass
        except PoolExhaustedError as exc:
            errors.append(exc)

    with pool.connection():
        thread = threading.Thread(target=borrow)
        thread.start()
        thread.join(5)
    assert len(errors) == 1 and "were held for over 0.1 s" in str(errors[0])
    pool.close()


def test_close_closes_borrowed_connections_when_given_back(tmp_path: Path) -> None:
    pool = SqlitePool(tmp_path / "x.sqlite", size=2)
    with pool.connection() as held:
        pool.close()
        held.execute("SELECT 1")  # still usable by its borrower until given back
    with pytest.raises(sqlite3.ProgrammingError):
        held.execute("SELECT 1")
    with pool.connection() as fresh:  # the pool reopens on next use
        assert fresh is not held and fresh.execute("SELECT 1").fetchone() == (1,)
    assert pool.opened == 1
    pool.close()


def test_the_pragmas_hold_on_every_connection(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.sqlite")
    seen: list[tuple[object, ...]] = []

    def pragmas() -> None:
        with audit._pool.connection() as con:
            seen.append(
                (
                    con.execute("PRAGMA journal_mode").fetchone()[0],
                    con.execute("PRAGMA busy_timeout").fetchone()[0],
                    con.execute("PRAGMA synchronous").fetchone()[0],
                    con.isolation_level,
                )
            )
            time.sleep(0.05)  # held, so the others open their own

    assert in_short_threads(pragmas, n=4, at_once=4) == []
    assert set(seen) == {("wal", 30000, 2, None)}  # synchronous 2 is FULL; autocommit
    audit.close()
