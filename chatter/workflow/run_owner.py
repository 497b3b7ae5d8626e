"""Who holds a run: each process that runs workflows is an owner (``host:pid:token``), stamps
the runs it holds every few seconds, and picks up cancels asked of them from other processes.

A run is orphaned, and so recoverable by any other process (see recovery.py), when nobody holds
it, when its owner is a process of this host that is gone, or when its owner has not stamped it
for ``STALE_S`` (another host, or a process that hangs). The token tells apart two processes
that had the same pid.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
import weakref
from typing import Any

from chatter.logs import get_logger
from chatter.services import Services

log = get_logger(__name__)

#: How often a process stamps the runs it holds, and how long without a stamp makes a run's
#: owner presumed dead (several missed stamps, so a busy machine is not taken for a dead one).
HEARTBEAT_S = 5.0
STALE_S = 30.0

_HOST = socket.gethostname()
_owner: tuple[int, str] | None = None
_owner_lock = threading.Lock()


def process_owner() -> str:
    """This process's owner name (made anew in a forked child, which is another process)."""
    global _owner
    with _owner_lock:
        if _owner is None or _owner[0] != os.getpid():
            _owner = (os.getpid(), f"{_HOST}:{os.getpid()}:{secrets.token_hex(4)}")
        return _owner[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def is_orphan(
    record: dict[str, Any], *, now: float | None = None, stale_s: float = STALE_S
) -> bool:
    """Whether nobody live holds this unfinished run (our own runs never are)."""
    owner = record.get("owner")
    if not owner:
        return True
    if owner == process_owner():
        return False
    host, _, rest = str(owner).partition(":")
    pid_text = rest.partition(":")[0]
    if host == _HOST and pid_text.isdigit() and not _pid_alive(int(pid_text)):
        return True
    stamped = record.get("heartbeat_at") or record.get("updated_at") or 0.0
    return (now if now is not None else time.time()) - float(stamped) > stale_s


class Heartbeat:
    """The thread that stamps this process's runs in ``services.runs`` and turns a cancel
    asked from elsewhere into the run's cancel flag; it ends when no run is going on here
    (``keep_alive`` starts another with the next run)."""

    def __init__(self, services: Services, interval_s: float = HEARTBEAT_S) -> None:
        self._services = weakref.ref(services)
        self._interval_s = interval_s
        self._wake = threading.Event()
        self.ended = False  # set under _beats_lock, so keep_alive never counts on an ending one
        self._thread = threading.Thread(target=self._loop, daemon=True, name="chatter-heartbeat")
        self._thread.start()

    def beat(self) -> None:
        """Stamp now (and again every interval)."""
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._interval_s)
            self._wake.clear()
            services = self._services()
            if services is None:
                return
            with _beats_lock:
                if not services.controls.active():  # nothing to stamp (and the store may be
                    self.ended = True  # closed already)
                    if _beats.get(services) is self:
                        del _beats[services]
                    return
            try:
                self._tick(services)
            except Exception:  # a locked store: try again next time
                log.warning("heartbeat_failed", exc_info=True)
            del services

    @staticmethod
    def _tick(services: Services) -> None:
        for run_id in services.runs.heartbeat(process_owner()):
            threads = services.controls.cancel(run_id)
            if threads:
                services.warehouses.interrupt(threads)


_beats: weakref.WeakKeyDictionary[Services, Heartbeat] = weakref.WeakKeyDictionary()
_beats_lock = threading.Lock()


def keep_alive(services: Services) -> None:
    """Make sure the services' runs are stamped; call it once the run's control exists
    (``services.controls.get``), so the heartbeat sees the run going on."""
    with _beats_lock:
        beat = _beats.get(services)
        if beat is None or beat.ended:
            beat = _beats[services] = Heartbeat(services)
    beat.beat()
