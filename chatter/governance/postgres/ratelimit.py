"""Sliding-window rate limits in PostgreSQL, exact across every worker: the same decisions as
:class:`chatter.governance.ratelimit.SlidingWindowLimiter` (see there), with the admitted
calls kept as rows of ``rate_hits`` instead of in one process's memory.

``acquire`` takes a transaction-level advisory lock per key (in one order, so two callers
never deadlock), reads the time, and then one statement decides: it counts each key's calls
in its window and records the call against every key only if all have room. Time is the
database server's clock, the one every worker shares (tests may pass their own ``clock``).
Keys are told apart by their ``repr``: use strings, numbers and tuples of them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from psycopg import Connection
from psycopg.rows import TupleRow

from chatter.governance.ratelimit import LimitDecision, RateLimit
from chatter.stores.postgres.pool import OwnedPool, lock_key

_LONGEST_WINDOW_S = 86_400 * 31  # RateLimit.window_s's bound: older calls never count
_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS rate_hits (
    key TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL)
""",
    "CREATE INDEX IF NOT EXISTS rate_hits_by_key ON rate_hits (key, ts)",
)
_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8"
# Parameters: now, then the asked limits as three arrays (key, window, calls) in order.
_DECIDE = """
WITH asked AS (
    SELECT key, window_s, calls, pos
    FROM unnest(%(keys)s::text[], %(windows)s::float8[], %(calls)s::int[])
        WITH ORDINALITY AS a(key, window_s, calls, pos)
), pruned AS (
    DELETE FROM rate_hits h USING asked a WHERE h.key = a.key AND h.ts <= %(now)s - a.window_s
), seen AS (
    SELECT a.pos, a.calls, a.window_s,
        (SELECT count(*) FROM rate_hits h
         WHERE h.key = a.key AND h.ts > %(now)s - a.window_s) AS used,
        (SELECT h.ts FROM rate_hits h WHERE h.key = a.key AND h.ts > %(now)s - a.window_s
         ORDER BY h.ts DESC OFFSET a.calls - 1 LIMIT 1) AS frees_at
    FROM asked a
), refused AS (
    SELECT pos, frees_at + window_s - %(now)s AS retry_s FROM seen
    WHERE used >= calls ORDER BY pos LIMIT 1
), admitted AS (
    INSERT INTO rate_hits (key, ts)
    SELECT key, %(now)s FROM asked WHERE NOT EXISTS (SELECT 1 FROM refused)
)
SELECT pos, retry_s FROM refused
"""


class PostgresLimiter:
    """Rate limits over the database at ``url``, one count per key for every process."""

    def __init__(
        self,
        url: str,
        clock: Callable[[], float] | None = None,
        *,
        max_connections: int = 8,
    ) -> None:
        self._clock = clock
        self._pool = OwnedPool(url, name="chatter-ratelimit", max_size=max_connections)
        self._pool.setup(_SCHEMA)
        with self._pool.connection() as con:  # calls no window can still see
            now = self._now(con)
            con.execute("DELETE FROM rate_hits WHERE ts <= %s", (now - _LONGEST_WINDOW_S,))

    def _now(self, con: Connection[TupleRow]) -> float:
        if self._clock is not None:
            return self._clock()
        row = con.execute(_NOW).fetchone()
        assert row is not None
        return float(row[0])

    def acquire(self, limits: Sequence[tuple[Hashable, RateLimit]]) -> LimitDecision:
        """Admit one call if every ``(key, limit)`` has room, and then count it against all
        of them; otherwise count nothing and say when the tightest one frees a slot."""
        if not limits:
            return LimitDecision(True)
        keys = [repr(key) for key, _ in limits]
        with self._pool.connection() as con:
            for lock in sorted({lock_key(f"chatter.ratelimit:{k}") for k in keys}):
                con.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            row = con.execute(
                _DECIDE,
                {
                    "now": self._now(con),
                    "keys": keys,
                    "windows": [limit.window_s for _, limit in limits],
                    "calls": [limit.calls for _, limit in limits],
                },
            ).fetchone()
        if row is None:
            return LimitDecision(True)
        key, limit = limits[int(row[0]) - 1]
        return LimitDecision(False, max(float(row[1]), 0.0), limit, key)

    def used(self, key: Hashable, limit: RateLimit) -> int:
        """Calls admitted for ``key`` in ``limit``'s current window."""
        with self._pool.statement() as con:
            row = con.execute(
                "SELECT count(*) FROM rate_hits WHERE key = %s AND ts > %s",
                (repr(key), self._now(con) - limit.window_s),
            ).fetchone()
        return int(row[0]) if row else 0

    def reset(self) -> None:
        with self._pool.statement() as con:
            con.execute("DELETE FROM rate_hits")

    def close(self) -> None:
        self._pool.close()
