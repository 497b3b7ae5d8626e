"""What lets a running workflow be stopped: a cancellation flag per run, and the threads
running its steps (whose queries a cancel interrupts)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class RunControl:
    cancelled: threading.Event = field(default_factory=threading.Event)
    threads: set[int] = field(default_factory=set)


class RunControls:
    """The controls of the runs going on in one services object."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunControl] = {}

    def get(self, run_id: str) -> RunControl:
        """The run's control, made on first use."""
        with self._lock:
            return self._runs.setdefault(run_id, RunControl())

    def find(self, run_id: str) -> RunControl | None:
        with self._lock:
            return self._runs.get(run_id)

    def cancel(self, run_id: str, *, create: bool = False) -> set[int] | None:
        """Flag a run as cancelled and return the threads whose queries to interrupt; None
        when the run is unknown here. ``create``: flag a run that has not started yet."""
        with self._lock:
            ctl = self._runs.setdefault(run_id, RunControl()) if create else self._runs.get(run_id)
        if ctl is None:
            return None
        ctl.cancelled.set()
        return set(ctl.threads)

    def forget(self, run_id: str) -> None:
        """The run is over: nothing is left to cancel."""
        with self._lock:
            self._runs.pop(run_id, None)
