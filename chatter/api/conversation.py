"""What the chat routes do: a turn of the analyst in a session, a structural refinement of an
answer, feedback, and the session housekeeping (ownership, one turn at a time, idle expiry)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from chatter.analyst.graph import durable_analyst
from chatter.analyst.refine import refine
from chatter.analyst.session import ChatSession
from chatter.api.keys import Principal
from chatter.api.schemas import ChatQuery, ChatResponse, Feedback, Refine, Table
from chatter.context import Context
from chatter.errors import InvalidQueryError
from chatter.result import Answer, StepResult
from chatter.semantic.query import SemanticQuery
from chatter.sensitive import redact_text
from chatter.services import Services
from chatter.stores.sessions import new_session_id

Progress = Callable[[dict[str, Any]], None]
_NOT_WORKFLOWS = ("query", "clarify", "refused")


def context_of(principal: Principal) -> Context:
    return Context(user=principal.user, role=principal.role)


@dataclass
class _TurnLock:
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Turns holding or waiting for it; at 0 it is dropped.
    turns: int = 0


class Conversations:
    """What the API keeps about chat between requests: a lock for each session with a turn
    going on or waiting (turns of one session are serialized; the table holds no session
    longer than its turns, so it never grows with the sessions served) and when idle sessions
    were last expired. The stores are the services', passed in with each call (a test may
    override the services dependency)."""

    def __init__(self) -> None:
        self._locks: dict[str, _TurnLock] = {}
        self._locks_guard = threading.Lock()
        self._last_expiry = 0.0

    # ---- housekeeping --------------------------------------------------------------------

    @contextmanager
    def _turn_lock(self, session_id: str) -> Iterator[None]:
        """One turn at a time per session: two turns at once would race on its thread."""
        with self._locks_guard:
            entry = self._locks.setdefault(session_id, _TurnLock())
            entry.turns += 1
        try:
            with entry.lock:
                yield
        finally:
            with self._locks_guard:
                entry.turns -= 1
                if entry.turns == 0:
                    del self._locks[session_id]

    def turns_going_on(self) -> int:
        """Sessions with a turn going on or waiting (the size of the lock table)."""
        with self._locks_guard:
            return len(self._locks)

    @staticmethod
    def _session(services: Services, principal: Principal, session_id: str) -> ChatSession:
        return ChatSession(services, session_id, context_of(principal), durable_analyst(services))

    def expire_idle(self, services: Services, *, force: bool = False) -> list[str]:
        """Delete sessions idle past CHATTER_SESSION_TTL_S (checked at most once a minute)."""
        now = time.time()
        ttl = services.settings.session_ttl_s
        # At most once a minute (or four times per TTL, for short TTLs).
        if not force and now - self._last_expiry < min(60.0, ttl / 4):
            return []
        self._last_expiry = now
        return services.sessions.expire(ttl, lambda sid: _forget_thread(services, sid))

    def owned(self, services: Services, principal: Principal, session_id: str) -> dict[str, Any]:
        """The caller's session (expired and other users' sessions are unknown)."""
        self.expire_idle(services)
        return services.sessions.get(session_id, principal.user)

    def delete(self, services: Services, principal: Principal, session_id: str) -> None:
        self.owned(services, principal, session_id)
        with self._turn_lock(session_id):
            services.sessions.delete(session_id, lambda sid: _forget_thread(services, sid))

    # ---- turns ---------------------------------------------------------------------------

    def turn(
        self,
        services: Services,
        principal: Principal,
        body: ChatQuery,
        progress: Progress | None = None,
    ) -> ChatResponse:
        question = redact_text(body.message)  # what is stored: never a secret
        store = services.sessions
        new = not body.session_id
        if body.session_id:
            session_id = self.owned(services, principal, body.session_id)["session_id"]
        else:
            session_id = new_session_id()
        with self._turn_lock(session_id), store.turn_lock(session_id):
            reply = self._session(services, principal, session_id).say(body.message, progress)
            if new:  # recorded with its first answer: a turn that never ends leaves no session
                store.create(principal.user, question, session_id=session_id)
            message_id = store.add_message(session_id, question, reply.model_dump(mode="json"))
        return to_response(session_id, message_id, reply, services.settings.api_result_rows)

    def refine(self, services: Services, principal: Principal, body: Refine) -> ChatResponse:
        session_id = self.owned(services, principal, body.session_id)["session_id"]
        source = _source(services, session_id, body.message_id)
        query = SemanticQuery.parse(source["answer"]["query"])
        refined = refine(query, body.type, **body.params)
        asked = redact_text(f"refine {body.type} {json.dumps(body.params, default=str)}")
        reason = f"Refinement {body.type} of message {source['message_id']}."
        with self._turn_lock(session_id), services.sessions.turn_lock(session_id):
            # A turn of the session: follow-ups in words ("now by country") build on it.
            session = self._session(services, principal, session_id)
            reply = session.refine(refined, asked, reason)
            message_id = services.sessions.add_message(
                session_id, asked, reply.model_dump(mode="json")
            )
        return to_response(session_id, message_id, reply, services.settings.api_result_rows)

    def feedback(self, services: Services, principal: Principal, body: Feedback) -> dict[str, Any]:
        self.owned(services, principal, body.session_id)
        store = services.sessions
        store.message(body.session_id, body.message_id)
        comment = redact_text(body.comment) if body.comment else None
        feedback_id = store.add_feedback(
            body.session_id, body.message_id, principal.user, body.rating, comment
        )
        services.metrics.record_feedback(positive=body.rating == "positive")
        return {"feedback_id": feedback_id, "recorded": True}


def _forget_thread(services: Services, session_id: str) -> None:
    """Delete a session's conversation (its checkpointed thread)."""
    durable_analyst(services).checkpointer.delete_thread(session_id)


def _source(services: Services, session_id: str, message_id: str | None) -> dict[str, Any]:
    """The answer a refinement edits: the one named, else the session's latest query."""
    if message_id:
        found = services.sessions.message(session_id, message_id)
        if not found["answer"].get("query"):
            raise InvalidQueryError(
                f"Message {message_id} answered with a workflow, not a query; only a "
                "query's answer can be refined."
            )
        return found
    latest = services.sessions.latest_with_query(session_id)
    if latest is not None:
        return latest
    raise InvalidQueryError(
        f"Session {session_id} has no query answer to refine yet; ask a question first."
    )


def primary_step(result: Answer) -> StepResult | None:
    """The table an answer leads with: the query (rows or none: a zero-row answer still
    carries its SQL), or a workflow's first query with rows."""
    done = [s for s in result.steps if s.status == "completed"]
    if result.workflow == "query" and done:
        return done[0]
    for step in done:
        if step.type == "query" and step.rows:
            return step
    return next((s for s in done if s.rows), None)


def capped(step: StepResult, cap: int) -> Table:
    return Table(
        columns=step.columns,
        rows=step.rows[:cap],
        truncated=step.truncated or len(step.rows) > cap,
        row_count=len(step.rows),
    )


def capped_document(reply: Answer, cap: int) -> dict[str, Any]:
    """The answer document with each step's rows cut at ``cap`` (``truncated`` says so)."""
    doc = reply.model_dump(mode="json")
    for s in doc["steps"]:
        s["truncated"] = s.get("truncated") or len(s.get("rows") or []) > cap
        s["rows"] = (s.get("rows") or [])[:cap]
    return doc


def to_response(session_id: str, message_id: str, reply: Answer, cap: int) -> ChatResponse:
    step = primary_step(reply)
    document = capped_document(reply, cap)
    if reply.error:
        kind = "refusal"
    elif reply.clarification:
        kind = "clarification"
    else:
        kind = "answer"
    return ChatResponse(
        session_id=session_id,
        message_id=message_id,
        message_type=kind,  # type: ignore[arg-type]
        content=reply.text,
        sql_query=step.sql if step else None,
        results=capped(step, cap) if step else Table(),
        visualization=step.chart if step else None,
        findings=[f.model_dump(mode="json") for f in reply.findings],
        insights=[i.model_dump(mode="json") for i in reply.insights],
        suggested_actions=reply.options if reply.clarification else reply.suggestions,
        route=reply.route.model_dump(mode="json") if reply.route else None,
        workflow_result=document if reply.workflow not in _NOT_WORKFLOWS else None,
        answer=document,
        interpretation=(
            reply.interpretation.model_dump(mode="json") if reply.interpretation else None
        ),
        database=reply.database,
        error=reply.error,
    )
