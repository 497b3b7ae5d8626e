"""Grants and data scopes in PostgreSQL, shared by every worker: the same records as
:class:`chatter.governance.grants.PermissionStore`."""

from __future__ import annotations

import json

from chatter.governance.grants import _grant_from_row, _grant_row, _scope_row
from chatter.governance.permissions import Grant
from chatter.semantic.query import Filter
from chatter.stores.postgres.pool import OwnedPool

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS grants (
    subject TEXT NOT NULL, resource TEXT NOT NULL, level INTEGER NOT NULL, methods TEXT,
    calls INTEGER, window_s DOUBLE PRECISION, expires_at TEXT, granted_by TEXT,
    granted_at TEXT, PRIMARY KEY (subject, resource))
""",
    """
CREATE TABLE IF NOT EXISTS scopes (
    subject TEXT PRIMARY KEY, filters TEXT NOT NULL, set_by TEXT, set_at TEXT)
""",
)
_GRANT = "subject, resource, level, methods, calls, window_s, expires_at, granted_by, granted_at"


class PostgresPermissionStore:
    """Grants and scopes in the database at ``url``; safe to share between threads and
    processes."""

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        self._pool = OwnedPool(url, name="chatter-grants", max_size=max_connections)
        self._pool.setup(_SCHEMA)

    def close(self) -> None:
        """Close the connections (the store is not used afterwards)."""
        self._pool.close()

    # ---- grants --------------------------------------------------------------------------

    def grants(self) -> dict[tuple[str, str], Grant]:
        with self._pool.statement() as con:
            rows = con.execute(f"SELECT {_GRANT} FROM grants").fetchall()
        return {(g.subject, g.resource): g for g in map(_grant_from_row, rows)}

    def list_grants(self, subject: str | None = None) -> list[Grant]:
        grants = sorted(self.grants().values(), key=lambda g: (g.subject, g.resource))
        return [g for g in grants if subject is None or g.subject == subject]

    def put(self, grant: Grant) -> None:
        with self._pool.statement() as con:
            con.execute(
                f"INSERT INTO grants ({_GRANT}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (subject, resource) DO UPDATE SET level = EXCLUDED.level, "
                "methods = EXCLUDED.methods, calls = EXCLUDED.calls, "
                "window_s = EXCLUDED.window_s, expires_at = EXCLUDED.expires_at, "
                "granted_by = EXCLUDED.granted_by, granted_at = EXCLUDED.granted_at",
                _grant_row(grant),
            )

    def delete(self, subject: str, resource: str) -> bool:
        with self._pool.statement() as con:
            cursor = con.execute(
                "DELETE FROM grants WHERE subject = %s AND resource = %s", (subject, resource)
            )
        return cursor.rowcount > 0

    # ---- data scopes ---------------------------------------------------------------------

    def scope(self, subject: str) -> tuple[Filter, ...]:
        with self._pool.statement() as con:
            row = con.execute(
                "SELECT filters FROM scopes WHERE subject = %s", (subject,)
            ).fetchone()
        return tuple(Filter.model_validate(f) for f in json.loads(row[0])) if row else ()

    def scopes(self) -> dict[str, tuple[Filter, ...]]:
        with self._pool.statement() as con:
            rows = con.execute("SELECT subject, filters FROM scopes").fetchall()
        return {s: tuple(Filter.model_validate(f) for f in json.loads(f)) for s, f in rows}

    def set_scope(self, subject: str, filters: tuple[Filter, ...], set_by: str) -> None:
        with self._pool.statement() as con:
            if not filters:
                con.execute("DELETE FROM scopes WHERE subject = %s", (subject,))
                return
            con.execute(
                "INSERT INTO scopes (subject, filters, set_by, set_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (subject) DO UPDATE SET filters = EXCLUDED.filters, "
                "set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at",
                _scope_row(subject, filters, set_by),
            )

    def scope_for(self, user: str, role: str) -> tuple[Filter, ...]:
        """Every mandatory filter on this user: the role's, then the user's own (all apply).
        Both read in one round trip: this runs before every governed query."""
        with self._pool.statement() as con:
            rows = con.execute(
                "SELECT subject, filters FROM scopes WHERE subject = ANY(%s)",
                ([f"role:{role}", f"user:{user}"],),
            ).fetchall()
        found = dict(rows)
        return tuple(
            Filter.model_validate(f)
            for subject in (f"role:{role}", f"user:{user}")
            for f in json.loads(found.get(subject, "[]"))
        )
