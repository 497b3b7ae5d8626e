"""Runs on disk (SQLite under CHATTER_HOME): what was asked, for whom, how it ended, and who is
running it now, so a run can be resumed from its checkpoints, taken over when its process died,
cancelled from any process, or looked up later.

A run's life: ``created`` -> ``queued`` (a background run claimed and waiting for a thread) or
straight to ``running`` (a foreground run, someone waiting on it) -> ``completed``, ``partial``,
``failed`` or ``cancelled``. ``interrupted`` is a run let go by a graceful stop: resumable, with
no owner. ``owner`` names the process holding a queued or running run (see run_owner.py) and
``heartbeat_at`` when it last said it was alive; ``attempts`` counts the times it was taken over.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    template TEXT NOT NULL,      -- the customized template, as JSON
    context TEXT NOT NULL,       -- user, role, database, model, cache choice, scope
    status TEXT NOT NULL,        -- created, queued, running, interrupted, completed, partial,
                                 -- failed, cancelled
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    result TEXT                  -- the CONTRACT.md section 3 document when finished
)
"""
# Added after the first version: a store made by it gains them when opened.
_ADDED = (
    ("reason", "TEXT"),  # why a run ended failed or cancelled without a result
    ("owner", "TEXT"),  # the process running it (queued or running), else NULL
    ("heartbeat_at", "REAL"),
    ("attempts", "INTEGER NOT NULL DEFAULT 0"),  # takeovers after its process stopped
    ("background", "INTEGER NOT NULL DEFAULT 0"),  # nobody waits on it: resumable on its own
    ("cancel_requested", "INTEGER NOT NULL DEFAULT 0"),
    ("progress", "TEXT"),  # its last progress event, as JSON: any worker can show it
)
#: Statuses a run can still leave: one with no live owner is recovered (see recovery.py).
UNFINISHED = ("queued", "running", "interrupted")
ENDED = ("completed", "partial", "failed", "cancelled")
_RECORD = (
    "run_id, workflow, template, context, status, created_at, updated_at, result, reason, "
    "owner, heartbeat_at, attempts, background, cancel_requested, progress"
)


class RunStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._con.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL sync survives a process crash (what a run must resume from) without an
        # fsync per write; only a power cut can lose the last writes.
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(_SCHEMA)
        have = {row[1] for row in self._con.execute("PRAGMA table_info(runs)")}
        for name, kind in _ADDED:
            if name not in have:
                self._con.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        self._con.execute("CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status)")
        self._con.commit()
        self._lock = threading.Lock()

    def _write(self, sql: str, params: Iterable[Any]) -> int:
        with self._lock, self._con:
            return self._con.execute(sql, tuple(params)).rowcount

    def create(
        self, run_id: str, workflow: str, template: dict[str, Any], context: dict[str, Any]
    ) -> None:
        now = time.time()
        self._write(
            "INSERT OR REPLACE INTO runs (run_id, workflow, template, context, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, 'created', ?, ?)",
            (run_id, workflow, json.dumps(template), json.dumps(context), now, now),
        )

    def set_status(
        self,
        run_id: str,
        status: str,
        result: dict[str, Any] | str | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Record where a run is; an ended run also lets go of its owner. ``result``: the
        run's document, or its JSON text already written (pydantic writes it faster)."""
        owner_kept = "owner" if status not in ENDED else "NULL"
        self._write(
            f"UPDATE runs SET status = ?, updated_at = ?, result = COALESCE(?, result), "
            f"reason = COALESCE(?, reason), owner = {owner_kept} WHERE run_id = ?",
            (status, time.time(), result_json(result), reason, run_id),
        )

    def set_progress(self, run_id: str, event: dict[str, Any]) -> None:
        """The run's last progress event (shown by GET /workflows/{id} in any process)."""
        self._write(
            "UPDATE runs SET progress = ? WHERE run_id = ?",
            (json.dumps(event, default=str), run_id),
        )

    def get(self, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._con.execute(
                f"SELECT {_RECORD} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        return None if row is None else _record(row)

    def claim(self, run_id: str, owner: str | None = None, *, background: bool = False) -> bool:
        """Move a created run to running (``background``: to queued, waiting for a thread),
        held by ``owner``; False when it was not created (already started, cancelled):
        exactly one caller starts a run."""
        now = time.time()
        status = "queued" if background else "running"
        return (
            self._write(
                "UPDATE runs SET status = ?, owner = ?, heartbeat_at = ?, background = ?, "
                "updated_at = ? WHERE run_id = ? AND status = 'created'",
                (status, owner, now, int(background), now, run_id),
            )
            > 0
        )

    def start(self, run_id: str, owner: str | None) -> bool:
        """A queued or interrupted run held by ``owner`` begins running; False when it was
        cancelled (or taken over) meanwhile."""
        now = time.time()
        return (
            self._write(
                "UPDATE runs SET status = 'running', heartbeat_at = ?, updated_at = ? "
                "WHERE run_id = ? AND status IN ('queued', 'running', 'interrupted') "
                "AND owner IS ? AND cancel_requested = 0",
                (now, now, run_id, owner),
            )
            > 0
        )

    def heartbeat(self, owner: str) -> list[str]:
        """``owner`` is alive: stamp its unfinished runs; the ids of those asked to cancel."""
        now = time.time()
        with self._lock, self._con:
            self._con.execute(
                "UPDATE runs SET heartbeat_at = ? WHERE owner = ? AND status IN "
                "('queued', 'running')",
                (now, owner),
            )
            rows = self._con.execute(
                "SELECT run_id FROM runs WHERE owner = ? AND cancel_requested = 1 "
                "AND status IN ('queued', 'running')",
                (owner,),
            ).fetchall()
        return [row[0] for row in rows]

    def unfinished(self) -> list[dict[str, Any]]:
        """Runs queued, running or interrupted (whoever holds them), oldest first."""
        marks = ", ".join("?" * len(UNFINISHED))
        with self._lock:
            rows = self._con.execute(
                f"SELECT {_RECORD} FROM runs WHERE status IN ({marks}) ORDER BY created_at",
                UNFINISHED,
            ).fetchall()
        return [_record(row) for row in rows]

    def take_over(self, run_id: str, was: str | None, owner: str) -> bool:
        """Hold an unfinished run whose owner ``was`` is gone (atomic: two processes
        recovering at once take it once); counts an attempt."""
        now = time.time()
        marks = ", ".join("?" * len(UNFINISHED))
        return (
            self._write(
                f"UPDATE runs SET owner = ?, heartbeat_at = ?, attempts = attempts + 1, "
                f"updated_at = ? WHERE run_id = ? AND owner IS ? AND status IN ({marks})",
                (owner, now, now, run_id, was, *UNFINISHED),
            )
            > 0
        )

    def release(self, run_id: str, owner: str | None) -> bool:
        """A graceful stop lets go of a run it could not finish: interrupted, no owner, so
        the next start resumes it."""
        return (
            self._write(
                "UPDATE runs SET status = 'interrupted', owner = NULL, updated_at = ? "
                "WHERE run_id = ? AND owner IS ? AND status IN ('queued', 'running')",
                (time.time(), run_id, owner),
            )
            > 0
        )

    def request_cancel(self, run_id: str) -> str | None:
        """Cancel a run: one not started (created, queued, interrupted) ends cancelled here;
        a running one is flagged for the process running it. The status it had, or None
        when it had already ended."""
        now = time.time()
        with self._lock, self._con:
            row = self._con.execute(
                "SELECT status FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if row is None or row[0] in ENDED:
                return None
            if row[0] == "running":
                self._con.execute(
                    "UPDATE runs SET cancel_requested = 1, updated_at = ? WHERE run_id = ?",
                    (now, run_id),
                )
            else:
                self._con.execute(
                    "UPDATE runs SET status = 'cancelled', cancel_requested = 1, owner = NULL, "
                    "reason = COALESCE(reason, 'cancelled before it started'), updated_at = ? "
                    "WHERE run_id = ?",
                    (now, run_id),
                )
            return str(row[0])

    def cancel_if_created(self, run_id: str) -> bool:
        """Mark a run that has not started as cancelled (atomic against a concurrent start)."""
        return (
            self._write(
                "UPDATE runs SET status = 'cancelled', updated_at = ? "
                "WHERE run_id = ? AND status = 'created'",
                (time.time(), run_id),
            )
            > 0
        )

    def list(
        self, *, user: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Runs newest first, without their results (``get`` has them)."""
        sql = (
            "SELECT run_id, workflow, status, created_at, updated_at, "
            "json_extract(context, '$.user'), reason FROM runs"
        )
        params: list[Any] = []
        if user is not None:
            sql += " WHERE json_extract(context, '$.user') = ?"
            params.append(user)
        sql += " ORDER BY created_at DESC LIMIT ? OFFSET ?"
        params += [min(max(limit, 1), 1000), max(offset, 0)]
        with self._lock:
            rows = self._con.execute(sql, params).fetchall()
        keys = ("run_id", "workflow", "status", "created_at", "updated_at", "user", "reason")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def close(self) -> None:
        self._con.close()


def _record(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "run_id": row[0],
        "workflow": row[1],
        "template": json.loads(row[2]),
        "context": json.loads(row[3]),
        "status": row[4],
        "created_at": row[5],
        "updated_at": row[6],
        "result": json.loads(row[7]) if row[7] else None,
        "reason": row[8],
        "owner": row[9],
        "heartbeat_at": row[10],
        "attempts": row[11],
        "background": bool(row[12]),
        "cancel_requested": bool(row[13]),
        "progress": json.loads(row[14]) if row[14] else None,
    }


def result_json(result: dict[str, Any] | str | None) -> str | None:
    """A run's document as stored: JSON text (given as text already, kept as it is)."""
    if not result:
        return None
    return result if isinstance(result, str) else json.dumps(result)
