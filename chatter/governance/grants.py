"""Where grants and data scopes live: a SQLite file under CHATTER_HOME, shared by every process
that uses the same data directory (the API server, the CLI, Studio)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

from chatter.governance.permissions import Grant, Level
from chatter.governance.ratelimit import RateLimit
from chatter.semantic.query import Filter

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (
    subject TEXT NOT NULL, resource TEXT NOT NULL, level INTEGER NOT NULL, methods TEXT,
    calls INTEGER, window_s REAL, expires_at TEXT, granted_by TEXT, granted_at TEXT,
    PRIMARY KEY (subject, resource));
CREATE TABLE IF NOT EXISTS scopes (
    subject TEXT PRIMARY KEY, filters TEXT NOT NULL, set_by TEXT, set_at TEXT);
"""


class PermissionStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []  # every thread's, so close() can close all
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
            with self._lock:
                self._opened.append(db)
        return db

    def close(self) -> None:
        """Close every thread's connection (the store is not used afterwards)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()
        self._local = threading.local()

    # ---- grants --------------------------------------------------------------------------

    def grants(self) -> dict[tuple[str, str], Grant]:
        rows = self._connect().execute("SELECT * FROM grants").fetchall()
        return {(g.subject, g.resource): g for g in map(_grant_from_row, rows)}

    def list_grants(self, subject: str | None = None) -> list[Grant]:
        grants = sorted(self.grants().values(), key=lambda g: (g.subject, g.resource))
        return [g for g in grants if subject is None or g.subject == subject]

    def put(self, grant: Grant) -> None:
        limit = grant.rate_limit
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO grants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    grant.subject,
                    grant.resource,
                    int(grant.level),
                    json.dumps(sorted(grant.methods)) if grant.methods is not None else None,
                    limit.calls if limit else None,
                    limit.window_s if limit else None,
                    grant.expires_at.isoformat() if grant.expires_at else None,
                    grant.granted_by,
                    grant.granted_at.isoformat(),
                ),
            )

    def delete(self, subject: str, resource: str) -> bool:
        with self._connect() as db:
            cursor = db.execute(
                "DELETE FROM grants WHERE subject = ? AND resource = ?", (subject, resource)
            )
        return cursor.rowcount > 0

    # ---- data scopes ---------------------------------------------------------------------

    def scope(self, subject: str) -> tuple[Filter, ...]:
        row = (
            self._connect()
            .execute("SELECT filters FROM scopes WHERE subject = ?", (subject,))
            .fetchone()
        )
        return tuple(Filter.model_validate(f) for f in json.loads(row[0])) if row else ()

    def scopes(self) -> dict[str, tuple[Filter, ...]]:
        rows = self._connect().execute("SELECT subject, filters FROM scopes").fetchall()
        return {s: tuple(Filter.model_validate(f) for f in json.loads(f)) for s, f in rows}

    def set_scope(self, subject: str, filters: tuple[Filter, ...], set_by: str) -> None:
        with self._connect() as db:
            if not filters:
                db.execute("DELETE FROM scopes WHERE subject = ?", (subject,))
                return
            db.execute(
                "INSERT OR REPLACE INTO scopes VALUES (?, ?, ?, ?)",
                (
                    subject,
                    json.dumps([f.model_dump(mode="json") for f in filters]),
                    set_by,
                    dt.datetime.now(dt.UTC).isoformat(),
                ),
            )

    def scope_for(self, user: str, role: str) -> tuple[Filter, ...]:
        """Every mandatory filter on this user: the role's, then the user's own (all apply)."""
        return (*self.scope(f"role:{role}"), *self.scope(f"user:{user}"))


def _grant_from_row(row: tuple[object, ...]) -> Grant:
    subject, resource, level, methods, calls, window_s, expires, by, at = row
    return Grant(
        subject=str(subject),
        resource=str(resource),
        level=Level(int(str(level))),
        methods=json.loads(str(methods)) if methods is not None else None,
        rate_limit=RateLimit(calls=int(str(calls)), window_s=float(str(window_s)))
        if calls is not None
        else None,
        expires_at=dt.datetime.fromisoformat(str(expires)) if expires else None,
        granted_by=str(by or ""),
        granted_at=dt.datetime.fromisoformat(str(at)),
    )
