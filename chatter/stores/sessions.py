"""Chat sessions on disk: who owns each, when it was last used, every answer given (for export
and refinement) and the feedback on them. The conversation itself (messages, the last query)
is the analyst's checkpointed thread, keyed by the session id."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chatter.errors import BadInputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, user TEXT NOT NULL, title TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, messages INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user, updated_at);
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at REAL NOT NULL,
    question TEXT NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages (session_id, created_at);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, message_id TEXT NOT NULL,
    user TEXT NOT NULL, rating TEXT NOT NULL, comment TEXT, created_at REAL NOT NULL);
"""


class UnknownSessionError(BadInputError):
    """No such session for this user (another user's session is reported the same way, so
    ids cannot be probed)."""

    code = "unknown_session"
    http_status = 404


class UnknownMessageError(BadInputError):
    code = "unknown_message"
    http_status = 404


#: Longest a turn may hold its session in a shared store before another may take it (a worker
#: that died mid-turn); longer than any turn's time limits.
TURN_LEASE_S = 900.0


class SessionBusyError(BadInputError):
    code = "session_busy"
    http_status = 409


def new_session_id() -> str:
    return uuid.uuid4().hex


class SessionStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.executescript(_SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def turn_lock(self, session_id: str, *, lease_s: float = TURN_LEASE_S) -> Iterator[None]:
        """One turn at a time per session across processes: nothing to do here, since one
        process serves a SQLite data directory (the conversation's own lock is enough)."""
        del session_id, lease_s
        yield

    def create(self, user: str, title: str, *, session_id: str | None = None) -> dict[str, Any]:
        """A new session of ``user`` (``session_id``: one picked beforehand, new_session_id)."""
        now = time.time()
        session = {
            "session_id": session_id or new_session_id(),
            "user": user,
            "title": title[:120],
            "created_at": now,
            "updated_at": now,
            "messages": 0,
        }
        with self._lock, self._con:
            self._con.execute(
                "INSERT INTO sessions VALUES (:session_id, :user, :title, :created_at, "
                ":updated_at, :messages)",
                session,
            )
        return session

    def get(self, session_id: str, user: str | None) -> dict[str, Any]:
        """The session, if ``user`` owns it (None: any owner, for admins)."""
        with self._lock:
            row = self._con.execute(
                "SELECT session_id, user, title, created_at, updated_at, messages FROM sessions "
                "WHERE session_id = ?",
                (session_id,),
            ).fetchone()
        if row is None or (user is not None and row[1] != user):
            raise UnknownSessionError(f"No session {session_id[:64]!r} of yours.")
        return dict(zip(_SESSION_KEYS, row, strict=True))

    def for_user(self, user: str, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._con.execute(
                "SELECT session_id, user, title, created_at, updated_at, messages FROM sessions "
                "WHERE user = ? ORDER BY updated_at DESC LIMIT ? OFFSET ?",
                (user, limit, offset),
            ).fetchall()
        return [dict(zip(_SESSION_KEYS, row, strict=True)) for row in rows]

    def add_message(self, session_id: str, question: str, payload: dict[str, Any]) -> str:
        message_id = uuid.uuid4().hex
        now = time.time()
        with self._lock, self._con:
            self._con.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?)",
                (message_id, session_id, now, question, json.dumps(payload, default=str)),
            )
            self._con.execute(
                "UPDATE sessions SET updated_at = ?, messages = messages + 1 WHERE session_id = ?",
                (now, session_id),
            )
        return message_id

    def messages(self, session_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._con.execute(
                "SELECT message_id, created_at, question, payload FROM messages "
                "WHERE session_id = ? ORDER BY created_at",
                (session_id,),
            ).fetchall()
        return [
            {"message_id": m, "created_at": t, "question": q, "answer": json.loads(p)}
            for m, t, q, p in rows
        ]

    def message(self, session_id: str, message_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._con.execute(
                "SELECT question, payload FROM messages WHERE session_id = ? AND message_id = ?",
                (session_id, message_id),
            ).fetchone()
        if row is None:
            raise UnknownMessageError(
                f"No message {message_id[:64]!r} in session {session_id[:64]!r}."
            )
        return {"message_id": message_id, "question": row[0], "answer": json.loads(row[1])}

    def latest_with_query(self, session_id: str) -> dict[str, Any] | None:
        """The newest message answered with a query (what a refinement edits by default)."""
        with self._lock:
            row = self._con.execute(
                "SELECT message_id FROM messages WHERE session_id = ? "
                "AND json_extract(payload, '$.query') IS NOT NULL "
                "ORDER BY created_at DESC LIMIT 1",
                (session_id,),
            ).fetchone()
        return self.message(session_id, row[0]) if row else None

    def add_feedback(
        self, session_id: str, message_id: str, user: str, rating: str, comment: str | None
    ) -> int:
        with self._lock, self._con:
            cursor = self._con.execute(
                "INSERT INTO feedback (session_id, message_id, user, rating, comment, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, message_id, user, rating, comment, time.time()),
            )
        return int(cursor.lastrowid or 0)

    def delete(self, session_id: str, forget_thread: Callable[[str], None]) -> None:
        """Delete a session, its messages and its conversation (feedback stays: it is what
        users said about answers, kept for the metrics)."""
        forget_thread(session_id)
        with self._lock, self._con:
            self._con.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            self._con.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))

    def expire(self, ttl_s: float, forget_thread: Callable[[str], None]) -> list[str]:
        """Delete sessions idle for longer than ``ttl_s``; returns their ids."""
        cutoff = time.time() - ttl_s
        with self._lock:
            idle = [
                r[0]
                for r in self._con.execute(
                    "SELECT session_id FROM sessions WHERE updated_at < ?", (cutoff,)
                ).fetchall()
            ]
        for session_id in idle:
            self.delete(session_id, forget_thread)
        return idle

    def close(self) -> None:
        self._con.close()


_SESSION_KEYS = ("session_id", "user", "title", "created_at", "updated_at", "messages")
