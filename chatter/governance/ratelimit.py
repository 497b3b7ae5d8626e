"""Sliding-window rate limits, exact under concurrency.

A limit is ``calls`` per ``window_s`` seconds for one key (a user and the grant that set it).
The window slides: a call is allowed when fewer than ``calls`` calls were admitted in the last
``window_s`` seconds, so there is no burst at a fixed window's edge. Checking several limits and
recording the call happen under one lock, so a call that any limit refuses consumes none of
them, and 50 threads racing for the last slot admit exactly one.

Limits are per services object (one per data directory in a process): the API server and a CLI
run are separate processes with separate counts (docs/security.md says so).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field


class RateLimit(BaseModel):
    """At most ``calls`` calls in any ``window_s`` seconds."""

    calls: int = Field(ge=1, le=1_000_000)
    window_s: float = Field(gt=0, le=86_400 * 31)

    def describe(self) -> str:
        return f"{self.calls} calls per {self.window_s:g} s"


@dataclass(frozen=True)
class LimitDecision:
    allowed: bool
    retry_after_s: float = 0.0
    #: The limit that refused the call (None when allowed).
    limit: RateLimit | None = None
    key: Hashable | None = None


class SlidingWindowLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._admitted: dict[Hashable, deque[float]] = {}

    def acquire(self, limits: Sequence[tuple[Hashable, RateLimit]]) -> LimitDecision:
        """Admit one call if every ``(key, limit)`` has room, and then count it against all
        of them; otherwise count nothing and say when the tightest one frees a slot."""
        now = self._clock()
        with self._lock:
            for key, limit in limits:
                times = self._window(key, limit, now)
                if len(times) >= limit.calls:
                    # The oldest call in the window leaves it at times[-calls] + window.
                    retry = times[len(times) - limit.calls] + limit.window_s - now
                    return LimitDecision(False, max(retry, 0.0), limit, key)
            for key, _ in limits:
                self._admitted.setdefault(key, deque()).append(now)
            return LimitDecision(True)

    def used(self, key: Hashable, limit: RateLimit) -> int:
        """Calls admitted for ``key`` in ``limit``'s current window."""
        with self._lock:
            return len(self._window(key, limit, self._clock()))

    def reset(self) -> None:
        with self._lock:
            self._admitted.clear()

    def _window(self, key: Hashable, limit: RateLimit, now: float) -> deque[float]:
        times = self._admitted.setdefault(key, deque())
        while times and times[0] <= now - limit.window_s:
            times.popleft()
        return times
