"""One computation per key at a time: concurrent callers asking for the same uncached result
wait for the first one instead of all running the same query (50 chat clients asking the same
popular question used to miss the cache together)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class _Call:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    ok: bool = False


class SingleFlight:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Hashable, _Call] = {}

    def do(self, key: Hashable, compute: Callable[[], T]) -> tuple[T, bool]:
        """``compute()``'s value, and whether it was shared from a concurrent caller's run. A
        caller whose leader failed computes for itself: the leader's failure may be its own
        (its step was cancelled or timed out), not the query's."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
        if not leader:
            call.done.wait()
            if call.ok:
                return call.value, True
            return compute(), False
        try:
            call.value = compute()
            call.ok = True
            return call.value, False
        finally:
            with self._lock:
                self._calls.pop(key, None)
            call.done.set()
