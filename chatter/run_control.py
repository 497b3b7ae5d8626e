"""What lets a running workflow be stopped: a cancellation flag per run, the threads running
its steps (whose queries a cancel interrupts), and the services-wide ``stopping`` flag of a
graceful stop (steps not yet started wait for the next server instead)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


class ServerStopping(BaseException):
    """Raised by a step that would start, or was interrupted, during a graceful stop: not an
    error of the step, so nothing records it as failed, and the run's checkpoint keeps the
    steps that finished; the next server resumes the run. A BaseException so that no
    ``except Exception`` of a tool swallows it."""


@dataclass
class RunControl:
    cancelled: threading.Event = field(default_factory=threading.Event)
    threads: set[int] = field(default_factory=set)


class RunControls:
    """The controls of the runs going on in one services object."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunControl] = {}
        #: Set once by a graceful stop: no step starts after it.
        self.stopping = threading.Event()
        #: Set when the stop's grace is over: steps still going on are given up (their
        #: threads left behind; the next server runs those steps again).
        self.abandon = threading.Event()

    def get(self, run_id: str) -> RunControl:
        """The run's control, made on first use."""
        with self._lock:
            return self._runs.setdefault(run_id, RunControl())

    def find(self, run_id: str) -> RunControl | None:
        with self._lock:
            return self._runs.get(run_id)

    def cancel(self, run_id: str) -> set[int] | None:
        """Flag a run as cancelled and return the threads whose queries to interrupt; None
        when the run is not going on here (a run not started is cancelled in the store)."""
        with self._lock:
            ctl = self._runs.get(run_id)
        if ctl is None:
            return None
        ctl.cancelled.set()
        return set(ctl.threads)

    def forget(self, run_id: str) -> None:
        """The run is over: nothing is left to cancel."""
        with self._lock:
            self._runs.pop(run_id, None)

    def active(self) -> list[str]:
        """The runs going on here now."""
        with self._lock:
            return list(self._runs)

    def threads(self) -> set[int]:
        """Every thread running a step of any run here (a stop past its grace interrupts
        their queries)."""
        with self._lock:
            return set().union(*(ctl.threads for ctl in self._runs.values()))
