"""One watchdog thread for every query's time limit.

A ``threading.Timer`` per query starts and stops an OS thread for each statement: on a run of
twenty small queries that alone cost more than the queries. Here one daemon thread sleeps until
the nearest deadline and calls what is due; a query that ends in time cancels its entry, which
costs a lock and a heap push.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from chatter.logs import get_logger

__all__ = ["Deadline", "after"]

log = get_logger(__name__)


class Deadline:
    """A pending call; ``cancel`` it when the work ended in time."""

    __slots__ = ("_cancelled", "callback", "due")

    def __init__(self, due: float, callback: Callable[[], object]) -> None:
        self.due = due
        self.callback = callback
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled


class _Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def after(self, seconds: float, callback: Callable[[], object]) -> Deadline:
        deadline = Deadline(time.monotonic() + seconds, callback)
        with self._cond:
            heapq.heappush(self._heap, (deadline.due, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():  # a fork leaves none
                self._thread = threading.Thread(
                    target=self._watch, daemon=True, name="chatter-deadlines"
                )
                self._thread.start()
            elif self._heap[0][2] is deadline:
                self._cond.notify()  # sooner than what the watchdog sleeps towards
        return deadline

    def _watch(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)  # ended in time: forget it
                if not self._heap:
                    self._cond.wait(timeout=60.0)
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(timeout=wait)
                    continue
                _, _, due = heapq.heappop(self._heap)
            if not due.cancelled:
                try:
                    due.callback()
                except Exception:  # the watchdog must outlive one failed interrupt
                    log.warning("deadline_callback_failed", exc_info=True)


_WATCHDOG = _Watchdog()


def after(seconds: float, callback: Callable[[], object]) -> Deadline:
    """Call ``callback`` on the watchdog thread in ``seconds`` unless cancelled first."""
    return _WATCHDOG.after(seconds, callback)
