"""The connection pool a PostgreSQL store owns: opened on first use, closed by ``close()``,
and made anew in a forked child (connections must not cross a fork).

Each store keeps its own small pool, so closing one store never breaks another, and a store
serves any number of threads with at most ``max_size`` connections (the files stay flat).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import Connection
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

#: Pools a forked child let go of: kept referenced so they are never finalized there, since
#: closing them would close the parent's connections.
_ABANDONED: list[ConnectionPool[Connection[TupleRow]]] = []
#: A connection back in its pool for longer than this is pinged before it is handed out.
IDLE_CHECK_S = 2.0


class IdleCheck:
    """The pool's ``check`` and ``reset`` callbacks: ping a connection before handing it out
    only when it sat idle for over ``after_s`` (long enough for the server to have restarted
    meanwhile). Pinging every checkout, as ``ConnectionPool.check_connection`` alone would,
    costs a round trip per statement, and each round trip of a busy worker waits for the GIL."""

    def __init__(self, after_s: float = IDLE_CHECK_S) -> None:
        self._after_s = after_s
        self._lock = threading.Lock()
        self._returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    def check(self, con: Any) -> None:
        with self._lock:
            returned = self._returned.get(con)
        if returned is None or time.monotonic() - returned > self._after_s:
            ConnectionPool.check_connection(con)

    def reset(self, con: Any) -> None:
        with self._lock:
            self._returned[con] = time.monotonic()


def lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key for ``name`` (the same in every process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class OwnedPool:
    """A psycopg pool over ``url`` that one store owns; connections are in transaction mode
    (``with pool.connection() as con`` commits at the end, or rolls back on an error)."""

    def __init__(self, url: str, *, name: str, max_size: int = 8, timeout_s: float = 30.0) -> None:
        self._url = url
        self._name = name
        self._max_size = max_size
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._pool: ConnectionPool[Connection[TupleRow]] | None = None

    def _get(self) -> ConnectionPool[Connection[TupleRow]]:
        if self._pid != os.getpid():  # forked: the parent's connections are not ours
            if self._pool is not None:
                _ABANDONED.append(self._pool)
            self._pid, self._pool, self._lock = os.getpid(), None, threading.Lock()
        with self._lock:
            if self._pool is None:
                idle = IdleCheck()
                pool: ConnectionPool[Connection[TupleRow]] = ConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=self._max_size,
                    open=False,
                    name=self._name,
                    timeout=self._timeout_s,
                    # a restarted server is survived: idle connections are pinged first
                    check=idle.check,
                    reset=idle.reset,
                    num_workers=1,
                )
                # Wait for the first connection: a wrong URL fails here, saying why.
                pool.open(wait=True, timeout=self._timeout_s)
                self._pool = pool
            return self._pool

    @contextmanager
    def connection(self) -> Iterator[Connection[TupleRow]]:
        """A connection for one transaction (committed when the block ends without error)."""
        with self._get().connection() as con:
            if con.autocommit:  # each checkout sets the mode it needs (see statement)
                con.autocommit = False
            yield con

    @contextmanager
    def statement(self) -> Iterator[Connection[TupleRow]]:
        """A connection for one statement, in autocommit (a statement is atomic on its own):
        one round trip instead of BEGIN, the statement and COMMIT."""
        with self._get().connection() as con:
            if not con.autocommit:
                con.autocommit = True
            yield con

    def setup(self, statements: Sequence[str]) -> None:
        """Run schema statements once per database at a time: concurrent ``CREATE ... IF NOT
        EXISTS`` from several workers would otherwise collide in the catalog."""
        with self.connection() as con:
            con.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("chatter.schema"),))
            for statement in statements:
                con.execute(statement)

    def close(self) -> None:
        """Close the connections; the pool reopens on next use."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()
