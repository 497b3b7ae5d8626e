"""Runs in PostgreSQL, shared by several workers: the same records and life as
:class:`chatter.stores.runs.RunStore` (see there), with every move a single atomic statement
or one transaction holding the run's row."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from chatter.stores.postgres.pool import OwnedPool

# One record shape for both backends: the columns read and how a row becomes a record.
from chatter.stores.runs import _RECORD, ENDED, UNFINISHED, _record, result_json

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    template TEXT NOT NULL,
    context TEXT NOT NULL,
    context_user TEXT,            -- the context's user, for listing a user's runs
    status TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    result TEXT,
    reason TEXT,
    owner TEXT,
    heartbeat_at DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    background BOOLEAN NOT NULL DEFAULT FALSE,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE)
""",
    # Added after the first version (a database made by it gains it).
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS progress TEXT",
    "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status)",
    "CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created_at)",
    "CREATE INDEX IF NOT EXISTS runs_by_user ON runs (context_user, created_at)",
)
_OWNED_BY = "owner IS NOT DISTINCT FROM %s"


class PostgresRunStore:
    """Runs in the database at ``url``; safe to share between threads and processes."""

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        self._pool = OwnedPool(url, name="chatter-runs", max_size=max_connections)
        self._pool.setup(_SCHEMA)

    def _write(self, sql: str, params: Iterable[Any]) -> int:
        with self._pool.statement() as con:
            return con.execute(sql, tuple(params)).rowcount

    def create(
        self, run_id: str, workflow: str, template: dict[str, Any], context: dict[str, Any]
    ) -> None:
        now = time.time()
        user = context.get("user")
        self._write(
            "INSERT INTO runs (run_id, workflow, template, context, context_user, status, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, 'created', %s, %s) "
            "ON CONFLICT (run_id) DO UPDATE SET workflow = EXCLUDED.workflow, "
            "template = EXCLUDED.template, context = EXCLUDED.context, "
            "context_user = EXCLUDED.context_user, status = 'created', "
            "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, result = NULL, "
            "reason = NULL, owner = NULL, heartbeat_at = NULL, attempts = 0, "
            "background = FALSE, cancel_requested = FALSE",
            (
                run_id,
                workflow,
                json.dumps(template),
                json.dumps(context),
                None if user is None else str(user),
                now,
                now,
            ),
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
            f"UPDATE runs SET status = %s, updated_at = %s, result = COALESCE(%s, result), "
            f"reason = COALESCE(%s, reason), owner = {owner_kept} WHERE run_id = %s",
            (status, time.time(), result_json(result), reason, run_id),
        )

    def set_progress(self, run_id: str, event: dict[str, Any]) -> None:
        """The run's last progress event (shown by GET /workflows/{id} in any worker)."""
        self._write(
            "UPDATE runs SET progress = %s WHERE run_id = %s",
            (json.dumps(event, default=str), run_id),
        )

    def get(self, run_id: str) -> dict[str, Any] | None:
        with self._pool.statement() as con:
            row = con.execute(f"SELECT {_RECORD} FROM runs WHERE run_id = %s", (run_id,)).fetchone()
        return None if row is None else _record(row)

    def claim(self, run_id: str, owner: str | None = None, *, background: bool = False) -> bool:
        """Move a created run to running (``background``: to queued), held by ``owner``;
        False when it was not created: exactly one caller, in any process, starts a run."""
        now = time.time()
        status = "queued" if background else "running"
        return (
            self._write(
                "UPDATE runs SET status = %s, owner = %s, heartbeat_at = %s, background = %s, "
                "updated_at = %s WHERE run_id = %s AND status = 'created'",
                (status, owner, now, background, now, run_id),
            )
            > 0
        )

    def start(self, run_id: str, owner: str | None) -> bool:
        """A queued or interrupted run held by ``owner`` begins running; False when it was
        cancelled (or taken over) meanwhile."""
        now = time.time()
        return (
            self._write(
                "UPDATE runs SET status = 'running', heartbeat_at = %s, updated_at = %s "
                "WHERE run_id = %s AND status IN ('queued', 'running', 'interrupted') "
                f"AND {_OWNED_BY} AND NOT cancel_requested",
                (now, now, run_id, owner),
            )
            > 0
        )

    def heartbeat(self, owner: str) -> list[str]:
        """``owner`` is alive: stamp its unfinished runs; the ids of those asked to cancel."""
        with self._pool.connection() as con:
            con.execute(
                "UPDATE runs SET heartbeat_at = %s WHERE owner = %s AND status IN "
                "('queued', 'running')",
                (time.time(), owner),
            )
            rows = con.execute(
                "SELECT run_id FROM runs WHERE owner = %s AND cancel_requested "
                "AND status IN ('queued', 'running')",
                (owner,),
            ).fetchall()
        return [row[0] for row in rows]

    def unfinished(self) -> list[dict[str, Any]]:
        """Runs queued, running or interrupted (whoever holds them), oldest first."""
        with self._pool.statement() as con:
            rows = con.execute(
                f"SELECT {_RECORD} FROM runs WHERE status = ANY(%s) ORDER BY created_at",
                (list(UNFINISHED),),
            ).fetchall()
        return [_record(row) for row in rows]

    def take_over(self, run_id: str, was: str | None, owner: str) -> bool:
        """Hold an unfinished run whose owner ``was`` is gone (atomic: two workers
        recovering at once take it once); counts an attempt."""
        now = time.time()
        return (
            self._write(
                "UPDATE runs SET owner = %s, heartbeat_at = %s, attempts = attempts + 1, "
                f"updated_at = %s WHERE run_id = %s AND {_OWNED_BY} AND status = ANY(%s)",
                (owner, now, now, run_id, was, list(UNFINISHED)),
            )
            > 0
        )

    def release(self, run_id: str, owner: str | None) -> bool:
        """A graceful stop lets go of a run it could not finish: interrupted, no owner, so
        the next start resumes it."""
        return (
            self._write(
                "UPDATE runs SET status = 'interrupted', owner = NULL, updated_at = %s "
                f"WHERE run_id = %s AND {_OWNED_BY} AND status IN ('queued', 'running')",
                (time.time(), run_id, owner),
            )
            > 0
        )

    def request_cancel(self, run_id: str) -> str | None:
        """Cancel a run: one not started (created, queued, interrupted) ends cancelled here;
        a running one is flagged for the process running it. The status it had, or None
        when it had already ended. The row is locked from read to write."""
        now = time.time()
        with self._pool.connection() as con:
            row = con.execute(
                "SELECT status FROM runs WHERE run_id = %s FOR UPDATE", (run_id,)
            ).fetchone()
            if row is None or row[0] in ENDED:
                return None
            if row[0] == "running":
                con.execute(
                    "UPDATE runs SET cancel_requested = TRUE, updated_at = %s WHERE run_id = %s",
                    (now, run_id),
                )
            else:
                con.execute(
                    "UPDATE runs SET status = 'cancelled', cancel_requested = TRUE, "
                    "owner = NULL, reason = COALESCE(reason, 'cancelled before it started'), "
                    "updated_at = %s WHERE run_id = %s",
                    (now, run_id),
                )
            return str(row[0])

    def cancel_if_created(self, run_id: str) -> bool:
        """Mark a run that has not started as cancelled (atomic against a concurrent start)."""
        return (
            self._write(
                "UPDATE runs SET status = 'cancelled', updated_at = %s "
                "WHERE run_id = %s AND status = 'created'",
                (time.time(), run_id),
            )
            > 0
        )

    def list(
        self, *, user: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Runs newest first, without their results (``get`` has them)."""
        sql = "SELECT run_id, workflow, status, created_at, updated_at, context_user, reason FROM runs"
        params: list[Any] = []
        if user is not None:
            sql += " WHERE context_user = %s"
            params.append(user)
        sql += " ORDER BY created_at DESC LIMIT %s OFFSET %s"
        params += [min(max(limit, 1), 1000), max(offset, 0)]
        with self._pool.statement() as con:
            rows = con.execute(sql, params).fetchall()
        keys = ("run_id", "workflow", "status", "created_at", "updated_at", "user", "reason")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def close(self) -> None:
        self._pool.close()
