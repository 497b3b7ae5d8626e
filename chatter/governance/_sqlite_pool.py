"""A small, fixed pool of SQLite connections to one file, owned by the store that makes it.

Every thread borrows a connection for one unit of work and gives it back, so the open files
stay at most ``size`` connections however many threads come and go (the API's threadpool,
workflow step threads). A connection opened per thread, kept until the store closes, made them
grow with every short-lived thread. Borrowing never nests: a unit of work that needs the
database again reuses the connection it holds.

After a fork the child never touches the parent's connections (SQLite forbids carrying one
across a fork): it opens its own, and leaves the inherited ones alone, unclosed.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

#: Setting up a fresh connection (pragmas); it may raise, and the connection is then closed.
Setup = Callable[[sqlite3.Connection], None]


class PoolExhaustedError(sqlite3.OperationalError):
    """Every connection stayed borrowed past the wait limit (a unit of work that hangs)."""


class SqlitePool:
    """At most ``size`` connections to ``path``, opened on demand and reused by every thread.

    >>> import tempfile
    >>> pool = SqlitePool(Path(tempfile.mkdtemp()) / "x.sqlite", size=2)
    >>> with pool.connection() as con:
    ...     con.execute("SELECT 1").fetchone()
    (1,)
    >>> pool.opened
    1
    >>> pool.close()
    """

    def __init__(
        self,
        path: Path,
        *,
        size: int = 4,
        setup: Setup | None = None,
        wait_s: float = 120.0,
        autocommit: bool = False,
        timeout_s: float = 30.0,
    ) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one connection, not {size}")
        self.path = path
        self.size = size
        self._setup = setup
        self._wait_s = wait_s
        # Autocommit: every transaction explicit (BEGIN ...); else sqlite3's implicit BEGIN.
        self._isolation_level: Literal["DEFERRED"] | None = None if autocommit else "DEFERRED"
        self._timeout_s = timeout_s
        self._cond = threading.Condition(threading.Lock())
        self._generation = 0  # bumped by close(): connections borrowed before it are closed
        self._reset()
        #: Connections inherited through a fork: never used, never closed (see the module doc).
        self._inherited: list[sqlite3.Connection] = []

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._idle: list[sqlite3.Connection] = []
        self._opened = 0
        self._generation += 1

    @property
    def opened(self) -> int:
        """Connections open now (idle or borrowed)."""
        with self._cond:
            return self._opened

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of the pool, for this thread alone until the block ends; an open
        transaction left behind (an error mid-way) is rolled back before it is reused."""
        con, generation = self._borrow()
        try:
            yield con
        finally:
            self._give_back(con, generation)

    def _borrow(self) -> tuple[sqlite3.Connection, int]:
        deadline = time.monotonic() + self._wait_s
        with self._cond:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours
                self._inherited.extend(self._idle)
                self._reset()
            while not self._idle and self._opened >= self.size:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PoolExhaustedError(
                        f"all {self.size} connections to {self.path.name} were held "
                        f"for over {self._wait_s:g} s"
                    )
                self._cond.wait(left)
            generation = self._generation
            if self._idle:
                return self._idle.pop(), generation
            self._opened += 1
        try:
            return self._open(), generation
        except BaseException:
            with self._cond:
                if generation == self._generation:
                    self._opened -= 1
                    self._cond.notify()
            raise

    def _open(self) -> sqlite3.Connection:
        # check_same_thread=False: a connection moves between threads, one at a time.
        con = sqlite3.connect(
            self.path,
            timeout=self._timeout_s,
            isolation_level=self._isolation_level,
            check_same_thread=False,
        )
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self._timeout_s * 1000)}")
            con.execute("PRAGMA journal_mode = WAL")
            if self._setup is not None:
                self._setup(con)
        except BaseException:
            con.close()
            raise
        return con

    def _give_back(self, con: sqlite3.Connection, generation: int) -> None:
        healthy = True
        if con.in_transaction:
            try:
                con.rollback()
            except sqlite3.Error:
                healthy = False
        with self._cond:
            if self._pid != os.getpid():
                self._inherited.append(con)  # borrowed before a fork, given back after it
                return
            if generation != self._generation:  # the pool was closed meanwhile
                healthy = False
            elif healthy:
                self._idle.append(con)
            else:
                self._opened -= 1
            self._cond.notify()
        if not healthy:
            con.close()

    def close(self) -> None:
        """Close every connection: idle ones now, borrowed ones when given back. The pool
        opens new ones on next use."""
        with self._cond:
            if self._pid != os.getpid():
                self._inherited.extend(self._idle)
                idle = []
            else:
                idle = self._idle
            self._reset()
            self._cond.notify_all()
        for con in idle:
            con.close()
