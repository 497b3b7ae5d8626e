"""Runs on disk (SQLite under CHATTER_HOME): what was asked, for whom, and how it ended, so a
run can be resumed from its checkpoints or looked up later."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    template TEXT NOT NULL,      -- the customized template, as JSON
    context TEXT NOT NULL,       -- user, role, database, model, cache choice, scope
    status TEXT NOT NULL,        -- created, running, completed, partial, failed, cancelled
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    result TEXT                  -- the CONTRACT.md section 3 document when finished
)
"""


class RunStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._con.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL sync survives a process crash (what a run must resume from) without an
        # fsync per write; only a power cut can lose the last writes.
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(_SCHEMA)
        self._con.commit()
        self._lock = threading.Lock()

    def create(
        self, run_id: str, workflow: str, template: dict[str, Any], context: dict[str, Any]
    ) -> None:
        now = time.time()
        with self._lock, self._con:
            self._con.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, 'created', ?, ?, NULL)",
                (run_id, workflow, json.dumps(template), json.dumps(context), now, now),
            )

    def set_status(self, run_id: str, status: str, result: dict[str, Any] | None = None) -> None:
        with self._lock, self._con:
            self._con.execute(
                "UPDATE runs SET status = ?, updated_at = ?, result = COALESCE(?, result) "
                "WHERE run_id = ?",
                (status, time.time(), json.dumps(result) if result else None, run_id),
            )

    def get(self, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._con.execute(
                "SELECT run_id, workflow, template, context, status, created_at, updated_at, "
                "result FROM runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            return None
        return {
            "run_id": row[0],
            "workflow": row[1],
            "template": json.loads(row[2]),
            "context": json.loads(row[3]),
            "status": row[4],
            "created_at": row[5],
            "updated_at": row[6],
            "result": json.loads(row[7]) if row[7] else None,
        }

    def cancel_if_created(self, run_id: str) -> bool:
        """Mark a run that has not started as cancelled (atomic against a concurrent start)."""
        with self._lock, self._con:
            cursor = self._con.execute(
                "UPDATE runs SET status = 'cancelled', updated_at = ? "
                "WHERE run_id = ? AND status = 'created'",
                (time.time(), run_id),
            )
        return cursor.rowcount > 0

    def claim(self, run_id: str) -> bool:
        """Move a created run to running; False when it was not created (already started,
        cancelled): exactly one caller starts a run."""
        with self._lock, self._con:
            cursor = self._con.execute(
                "UPDATE runs SET status = 'running', updated_at = ? "
                "WHERE run_id = ? AND status = 'created'",
                (time.time(), run_id),
            )
        return cursor.rowcount > 0

    def list(
        self, *, user: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Runs newest first, without their results (``get`` has them)."""
        sql = (
            "SELECT run_id, workflow, status, created_at, updated_at, "
            "json_extract(context, '$.user') FROM runs"
        )
        params: list[Any] = []
        if user is not None:
            sql += " WHERE json_extract(context, '$.user') = ?"
            params.append(user)
        sql += " ORDER BY created_at DESC LIMIT ? OFFSET ?"
        params += [min(max(limit, 1), 1000), max(offset, 0)]
        with self._lock:
            rows = self._con.execute(sql, params).fetchall()
        keys = ("run_id", "workflow", "status", "created_at", "updated_at", "user")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def close(self) -> None:
        self._con.close()
