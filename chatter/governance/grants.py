"""Where grants and data scopes live: a SQLite file under CHATTER_HOME, shared by every process
that uses the same data directory (the API server, the CLI, Studio)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from chatter.governance._sqlite_pool import SqlitePool
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
    """Grants and scopes of one SQLite file; its few pooled connections serve every thread."""

    def __init__(self, path: Path, *, connections: int = 4) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pool = SqlitePool(path, size=connections)
        with self._pool.connection() as db, db:
            db.executescript(_SCHEMA)

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._pool.connection() as db:
            return db.execute(sql, args).fetchall()

    def _write(self, sql: str, args: tuple[object, ...]) -> int:
        """Run one statement in its own transaction; the rows it changed."""
        with self._pool.connection() as db, db:
            return db.execute(sql, args).rowcount

    def close(self) -> None:
        """Close the pool's connections (reopened if the store is used again)."""
        self._pool.close()

    # ---- grants --------------------------------------------------------------------------

    def grants(self) -> dict[tuple[str, str], Grant]:
        rows = self._read("SELECT * FROM grants")
        return {(g.subject, g.resource): g for g in map(_grant_from_row, rows)}

    def list_grants(self, subject: str | None = None) -> list[Grant]:
        grants = sorted(self.grants().values(), key=lambda g: (g.subject, g.resource))
        return [g for g in grants if subject is None or g.subject == subject]

    def put(self, grant: Grant) -> None:
        self._write(
            "INSERT OR REPLACE INTO grants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _grant_row(grant)
        )

    def delete(self, subject: str, resource: str) -> bool:
        changed = self._write(
            "DELETE FROM grants WHERE subject = ? AND resource = ?", (subject, resource)
        )
        return changed > 0

    # ---- data scopes ---------------------------------------------------------------------

    def scope(self, subject: str) -> tuple[Filter, ...]:
        rows = self._read("SELECT filters FROM scopes WHERE subject = ?", (subject,))
        return tuple(Filter.model_validate(f) for f in json.loads(str(rows[0][0]))) if rows else ()

    def scopes(self) -> dict[str, tuple[Filter, ...]]:
        rows = self._read("SELECT subject, filters FROM scopes")
        return {
            str(s): tuple(Filter.model_validate(f) for f in json.loads(str(f))) for s, f in rows
        }

    def set_scope(self, subject: str, filters: tuple[Filter, ...], set_by: str) -> None:
        if not filters:
            self._write("DELETE FROM scopes WHERE subject = ?", (subject,))
            return
        self._write(
            "INSERT OR REPLACE INTO scopes VALUES (?, ?, ?, ?)",
            _scope_row(subject, filters, set_by),
        )

    def scope_for(self, user: str, role: str) -> tuple[Filter, ...]:
        """Every mandatory filter on this user: the role's, then the user's own (all apply)."""
        return (*self.scope(f"role:{role}"), *self.scope(f"user:{user}"))


def _grant_row(grant: Grant) -> tuple[object, ...]:
    """A grant as the columns of a ``grants`` row (every backend's), in table order."""
    limit = grant.rate_limit
    return (
        grant.subject,
        grant.resource,
        int(grant.level),
        json.dumps(sorted(grant.methods)) if grant.methods is not None else None,
        limit.calls if limit else None,
        limit.window_s if limit else None,
        grant.expires_at.isoformat() if grant.expires_at else None,
        grant.granted_by,
        grant.granted_at.isoformat(),
    )


def _scope_row(subject: str, filters: tuple[Filter, ...], set_by: str) -> tuple[str, ...]:
    """A data scope as the columns of a ``scopes`` row, set now."""
    return (
        subject,
        json.dumps([f.model_dump(mode="json") for f in filters]),
        set_by,
        dt.datetime.now(dt.UTC).isoformat(),
    )


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
