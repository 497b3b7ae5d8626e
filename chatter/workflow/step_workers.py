"""Reused daemon threads for data steps.

A data step runs off the node's thread so that the node can give up on it at its time limit
(the worker's queries are interrupted; a worker busy in Python is left to finish). Starting a
thread per step cost more than a small step's queries, so idle workers wait for the next step;
a new one starts only when every worker is busy. Daemon threads, unlike a
``ThreadPoolExecutor``'s, never hold up the process's exit behind a step that timed out.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["submit"]

_IDLE_FOR_S = 300.0  # a worker idle this long ends: a quiet server keeps no threads


class _Workers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None]] = []

    def submit(self, func: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(
                target=self._work, args=(inbox,), daemon=True, name="chatter-step"
            ).start()
        inbox.put((func, future))
        return future

    def _work(self, inbox: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None]) -> None:
        while True:
            try:
                task = inbox.get(timeout=_IDLE_FOR_S)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle and inbox.empty():
                        self._idle.remove(inbox)
                        return
                continue
            if task is None:
                return
            func, future = task
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(func())
                except BaseException as err:
                    future.set_exception(err)
            with self._lock:
                self._idle.append(inbox)


_WORKERS = _Workers()


def submit(func: Callable[[], Any]) -> Future[Any]:
    """Run ``func`` on an idle step worker (a new one when none is idle), in a copy of the
    caller's context: what the run tracks in context variables sees the step's work too."""
    context = contextvars.copy_context()
    return _WORKERS.submit(lambda: context.run(func))
