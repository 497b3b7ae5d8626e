"""Audit entries of a run's allowed steps, written off the steps' path.

Each audit commit is synced (a power cut must not lose it): a few milliseconds each, paid by
every step of every run. Within a run, the entries of allowed calls are handed to a writer
thread that gathers them for up to ``GATHER_S`` and commits what it has in one transaction,
while the steps go on; the run waits for the last of them before it returns its result, so a
finished run is always fully audited, and a short run costs one synced commit. Refusals are
never queued: they are written before the caller hears of them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from chatter.logs import get_logger

if TYPE_CHECKING:
    from chatter.governance.audit import AuditEntry

__all__ = ["AuditBatch", "batched", "current_batch"]

log = get_logger(__name__)

#: How long the writer gathers entries before a commit: at most this much of a crashed
#: process's audit trail is lost, and a run shorter than it commits once.
GATHER_S = 0.25


class _AppendsMany(Protocol):
    def append_many(self, entries: list[AuditEntry]) -> Any: ...


class AuditBatch:
    """Entries queued for ``audit``, written several to a transaction."""

    def __init__(self, audit: _AppendsMany) -> None:
        self._audit = audit
        self._cond = threading.Condition()
        self._pending: list[AuditEntry] = []
        self._writing = False
        self._flushing = False
        self._error: BaseException | None = None

    def add(self, entry: AuditEntry) -> None:
        with self._cond:
            self._pending.append(entry)
            if self._writing:
                return  # the writer takes it with the next transaction
            self._writing = True
        threading.Thread(target=self._write, daemon=True, name="chatter-audit").start()

    def _write(self) -> None:
        while True:
            with self._cond:
                if not self._flushing:  # gather what else comes, unless the run is ending
                    self._cond.wait_for(lambda: self._flushing, timeout=GATHER_S)
                entries, self._pending = self._pending, []
                if not entries:
                    self._writing = False
                    self._cond.notify_all()
                    return
            try:
                self._audit.append_many(entries)
            except BaseException as err:
                log.error("audit_write_failed", entries=len(entries), exc_info=True)
                with self._cond:
                    self._error = err

    def flush(self) -> None:
        """Wait until every queued entry is committed; raise if one could not be."""
        with self._cond:
            self._flushing = True
            self._cond.notify_all()
            while self._writing or self._pending:
                self._cond.wait()
            self._flushing = False
            error, self._error = self._error, None
        if error is not None:
            raise error


_CURRENT: ContextVar[AuditBatch | None] = ContextVar("chatter_audit_batch", default=None)


def current_batch() -> AuditBatch | None:
    """The batch the calls of this context queue their allowed entries in, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def batched(audit: _AppendsMany) -> Iterator[AuditBatch]:
    """Queue the allowed entries of calls made in this context; all are committed on exit.
    Within a batch of the same log, the outer batch is used (and committed when it ends): a
    run created and executed in one call commits its entries once."""
    outer = _CURRENT.get()
    if outer is not None and outer._audit is audit:
        yield outer
        return
    batch = AuditBatch(audit)
    token = _CURRENT.set(batch)
    try:
        yield batch
    finally:
        _CURRENT.reset(token)
        batch.flush()
