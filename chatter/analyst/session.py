"""A conversation with the analyst graph: one checkpointed thread per session, interrupts
(clarifying questions) answered by the next message."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from chatter.analyst.answer import Answer
from chatter.analyst.graph import analyst_graph
from chatter.context import Context
from chatter.errors import SensitiveContentError
from chatter.governance.guard import refuse_secrets
from chatter.result import Route, WorkflowResult
from chatter.settings import get_settings

_graphs: dict[str, Any] = {}


def durable_analyst() -> Any:
    """The analyst compiled with a SQLite checkpointer under CHATTER_HOME (one per process)."""
    path = get_settings().home / "chat.sqlite"
    key = str(path)
    if key not in _graphs:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(key, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        _graphs[key] = analyst_graph(SqliteSaver(con))
    return _graphs[key]


@dataclass
class ChatSession:
    session_id: str
    context: Context
    graph: Any

    @classmethod
    def open(cls, context: Context, session_id: str | None = None) -> ChatSession:
        return cls(session_id or uuid.uuid4().hex, context, durable_analyst())

    @property
    def config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.session_id}}

    def pending_question(self) -> dict[str, Any] | None:
        """The clarifying question the analyst is waiting on, if any."""
        snapshot = self.graph.get_state(self.config)
        for task in snapshot.tasks or ():
            for pending in task.interrupts or ():
                return dict(pending.value)
        return None

    def say(self, text: str, progress: Callable[[dict[str, Any]], None] | None = None) -> Answer:
        """One turn: a new message, or the reply to a pending clarifying question. With
        ``progress``, the run's progress events are passed to it as they happen."""
        try:
            # Before the graph: its checkpoints would keep the question as it was asked.
            refuse_secrets(
                self.context, action="analyst.understand", tool="router", params={"message": text}
            )
        except SensitiveContentError as err:
            return _refusal(err.message, err.to_dict()["error"])
        turn: Any = (
            Command(resume=text)
            if self.pending_question() is not None
            else {"messages": [HumanMessage(text)]}
        )
        state: dict[str, Any] = {}
        for mode, chunk in self.graph.stream(
            turn, self.config, context=self.context, stream_mode=["custom", "values"]
        ):
            if mode == "values":
                state = chunk
            elif progress is not None and isinstance(chunk, dict):
                progress(chunk)
        asked = self.pending_question()
        if asked is not None:
            return _clarifying(asked)
        last = (state.get("messages") or [None])[-1]
        payload = getattr(last, "additional_kwargs", {}).get("chatter") or {}
        if payload.get("error"):  # the guard refused: the reason, no result
            return _refusal(str(last.content), payload["error"])
        return Answer.model_validate(state["answer"])

    def forget(self) -> None:
        """Delete this session's conversation (its checkpoints)."""
        self.graph.checkpointer.delete_thread(self.session_id)


def _clarifying(asked: dict[str, Any]) -> Answer:
    return Answer(
        text=asked["question"],
        clarification=True,
        options=asked["options"],
        result=WorkflowResult(
            workflow="clarify",
            run_id=uuid.uuid4().hex,
            status="completed",
            route=Route(workflow="clarify", confidence=0.0, reason="Waiting for an answer."),
        ),
    )


def _refusal(text: str, error: dict[str, Any]) -> Answer:
    return Answer(
        text=text,
        error=error,
        result=WorkflowResult(
            workflow="refused",
            run_id=uuid.uuid4().hex,
            status="failed",
            route=Route(workflow="refused", confidence=1.0, reason=error.get("code", "refused")),
        ),
    )
