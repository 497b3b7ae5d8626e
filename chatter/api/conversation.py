"""What the chat routes do: a turn of the analyst in a session, a structural refinement of an
answer, feedback, and the session housekeeping (ownership, one turn at a time, idle expiry)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from chatter.analyst.answer import Answer, answer
from chatter.analyst.refine import refine
from chatter.analyst.route import RouteDecision
from chatter.analyst.session import ChatSession, durable_analyst
from chatter.api.keys import Principal
from chatter.api.schemas import ChatQuery, ChatResponse, Feedback, Refine, Table
from chatter.context import Context
from chatter.errors import InvalidQueryError
from chatter.governance.metrics import metrics
from chatter.governance.sensitive import redact_text
from chatter.result import Route, StepResult, WorkflowResult
from chatter.semantic.query import SemanticQuery
from chatter.settings import Settings
from chatter.stores.sessions import SessionStore

Progress = Callable[[dict[str, Any]], None]
_NOT_WORKFLOWS = ("query", "clarify", "refused")


def context_of(principal: Principal) -> Context:
    return Context(user=principal.user, role=principal.role)


class Conversations:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = SessionStore(settings.home / "sessions.sqlite")
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._last_expiry = 0.0

    # ---- housekeeping --------------------------------------------------------------------

    def _turn_lock(self, session_id: str) -> threading.Lock:
        """One turn at a time per session: two turns at once would race on its thread."""
        with self._locks_guard:
            return self._locks.setdefault(session_id, threading.Lock())

    def forget_thread(self, session_id: str) -> None:
        durable_analyst().checkpointer.delete_thread(session_id)

    def expire_idle(self, *, force: bool = False) -> list[str]:
        """Delete sessions idle past CHATTER_SESSION_TTL_S (checked at most once a minute)."""
        now = time.time()
        # At most once a minute (or four times per TTL, for short TTLs).
        if not force and now - self._last_expiry < min(60.0, self.settings.session_ttl_s / 4):
            return []
        self._last_expiry = now
        gone = self.store.expire(self.settings.session_ttl_s, self.forget_thread)
        with self._locks_guard:
            for session_id in gone:
                self._locks.pop(session_id, None)
        return gone

    def owned(self, principal: Principal, session_id: str) -> dict[str, Any]:
        """The caller's session (expired and other users' sessions are unknown)."""
        self.expire_idle()
        return self.store.get(session_id, principal.user)

    def delete(self, principal: Principal, session_id: str) -> None:
        self.owned(principal, session_id)
        with self._turn_lock(session_id):
            self.store.delete(session_id, self.forget_thread)

    # ---- turns ---------------------------------------------------------------------------

    def turn(
        self, principal: Principal, body: ChatQuery, progress: Progress | None = None
    ) -> ChatResponse:
        question = redact_text(body.message)  # what is stored: never a secret
        if body.session_id:
            session_id = self.owned(principal, body.session_id)["session_id"]
        else:
            session_id = self.store.create(principal.user, question)["session_id"]
        with self._turn_lock(session_id):
            chat = ChatSession(session_id, context_of(principal), durable_analyst())
            reply = chat.say(body.message, progress)
            message_id = self.store.add_message(session_id, question, reply.model_dump(mode="json"))
        return to_response(session_id, message_id, reply, self.settings.api_result_rows)

    def refine(self, principal: Principal, body: Refine) -> ChatResponse:
        session_id = self.owned(principal, body.session_id)["session_id"]
        source = self._source(session_id, body.message_id)
        query = SemanticQuery.parse(source["answer"]["query"])
        refined = refine(query, body.type, **body.params)
        decision = RouteDecision(
            Route(
                workflow="query",
                confidence=1.0,
                reason=f"Refinement {body.type} of message {source['message_id']}.",
            ),
            query=refined,
        )
        ctx = context_of(principal)
        with self._turn_lock(session_id):
            reply = answer(decision, ctx)
            # Follow-ups in words ("now by country") build on the refined query.
            config = {"configurable": {"thread_id": session_id}}
            graph = durable_analyst()
            if graph.get_state(config).values:
                graph.update_state(config, {"last_query": reply.query}, as_node="respond")
            asked = f"refine {body.type} {json.dumps(body.params, default=str)}"
            message_id = self.store.add_message(
                session_id, redact_text(asked), reply.model_dump(mode="json")
            )
        return to_response(session_id, message_id, reply, self.settings.api_result_rows)

    def _source(self, session_id: str, message_id: str | None) -> dict[str, Any]:
        if message_id:
            found = self.store.message(session_id, message_id)
            if not found["answer"].get("query"):
                raise InvalidQueryError(
                    f"Message {message_id} answered with a workflow, not a query; only a "
                    "query's answer can be refined."
                )
            return found
        latest = self.store.latest_with_query(session_id)
        if latest is not None:
            return latest
        raise InvalidQueryError(
            f"Session {session_id} has no query answer to refine yet; ask a question first."
        )

    def feedback(self, principal: Principal, body: Feedback) -> dict[str, Any]:
        self.owned(principal, body.session_id)
        self.store.message(body.session_id, body.message_id)
        comment = redact_text(body.comment) if body.comment else None
        feedback_id = self.store.add_feedback(
            body.session_id, body.message_id, principal.user, body.rating, comment
        )
        metrics().record_feedback(positive=body.rating == "positive")
        return {"feedback_id": feedback_id, "recorded": True}


def primary_step(result: WorkflowResult) -> StepResult | None:
    """The table an answer leads with: the query, or a workflow's first query with rows."""
    done = [s for s in result.steps if s.status == "completed"]
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


def to_response(session_id: str, message_id: str, reply: Answer, cap: int) -> ChatResponse:
    result = reply.result
    step = primary_step(result)
    workflow = None
    if result.workflow not in _NOT_WORKFLOWS:
        doc = result.model_dump(mode="json")
        for s in doc["steps"]:
            s["truncated"] = s.get("truncated") or len(s.get("rows") or []) > cap
            s["rows"] = (s.get("rows") or [])[:cap]
        workflow = doc
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
        findings=[f.model_dump(mode="json") for f in result.findings],
        insights=[i.model_dump(mode="json") for i in result.insights],
        suggested_actions=reply.options if reply.clarification else reply.suggestions,
        route=result.route.model_dump(mode="json") if result.route else None,
        workflow_result=workflow,
        error=reply.error,
    )
