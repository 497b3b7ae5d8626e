"""A conversation with the analyst graph: one checkpointed thread per session, interrupts
(clarifying questions) answered by the next message."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from chatter.context import Context
from chatter.routing.analyst import analyst_graph
from chatter.routing.answer import Answer
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

    def say(self, text: str) -> Answer:
        """One turn: a new message, or the reply to a pending clarifying question."""
        if self.pending_question() is not None:
            state = self.graph.invoke(Command(resume=text), self.config, context=self.context)
        else:
            state = self.graph.invoke(
                {"messages": [HumanMessage(text)]}, self.config, context=self.context
            )
        interrupts = state.get("__interrupt__") or []
        if interrupts:
            asked = interrupts[0].value
            from chatter.workflow.result import Route, WorkflowResult

            return Answer(
                text=asked["question"],
                clarification=True,
                options=asked["options"],
                result=WorkflowResult(
                    workflow="clarify",
                    run_id=uuid.uuid4().hex,
                    status="completed",
                    route=Route(
                        workflow="clarify", confidence=0.0, reason="Waiting for an answer."
                    ),
                ),
            )
        return Answer.model_validate(state["answer"])
