"""LangGraph checkpoints in PostgreSQL (``langgraph-checkpoint-postgres``): durable runs and
chat threads resume from them in whichever worker picks them up next."""

from __future__ import annotations

import threading
import time

from langgraph.checkpoint.postgres import PostgresSaver
from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from chatter.stores.postgres.pool import IdleCheck, lock_key


def postgres_checkpointer(url: str, *, max_connections: int = 8) -> PostgresSaver:
    """A checkpointer over the database at ``url``, its tables made on first use. It owns
    its pool: ``saver.conn.close()`` releases it (as ``saver.conn.close()`` closes the SQLite
    checkpointer's connection). The saver needs autocommit and rows as dicts.

    The saver serializes every operation behind one lock, which a single shared connection
    needs but a pool does not (langchain-ai/langgraph#7259): here the lock admits as many
    operations at once as the pool has connections."""
    idle = IdleCheck()
    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        url,
        min_size=1,
        max_size=max_connections,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        open=False,
        name="chatter-checkpoints",
        check=idle.check,
        reset=idle.reset,
        num_workers=1,
    )
    pool.open(wait=True)
    try:
        saver = PostgresSaver(pool)
        saver.lock = threading.BoundedSemaphore(max_connections)  # type: ignore[assignment]
        # Its migrations are not safe to run from two workers at once: one at a time, under a
        # lock held by one connection for the whole setup.
        with pool.connection() as con:
            _lock_for_setup(con)
            try:
                PostgresSaver(con).setup()
            finally:
                con.execute("SELECT pg_advisory_unlock(%s)", (lock_key("chatter.checkpoints"),))
    except BaseException:
        pool.close()
        raise
    return saver


def _lock_for_setup(con: Connection[DictRow], *, timeout_s: float = 120.0) -> None:
    """Take the setup lock by trying, not waiting: the migrations build an index
    CONCURRENTLY, which waits for every statement older than it, so a second saver blocked
    inside ``pg_advisory_lock`` would deadlock with the one holding the lock (seen with two
    workers starting at once). Between tries this connection holds no snapshot."""
    deadline = time.monotonic() + timeout_s
    key = lock_key("chatter.checkpoints")
    while True:
        row = con.execute("SELECT pg_try_advisory_lock(%s) AS taken", (key,)).fetchone()
        if row is not None and row["taken"]:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the checkpoint tables' setup lock was not free in {timeout_s} s")
        time.sleep(0.05)
