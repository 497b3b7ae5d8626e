"""A conversation with the analyst graph: one checkpointed thread per session; a question back
(an interrupt) is answered by the next message. Every surface talks to the analyst through
here: the chat API and ``chatter chat`` in durable sessions, ``chatter ask`` and
``chatter.ask`` in a one-turn session that is forgotten after it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from chatter.analyst.graph import analyst_graph, durable_analyst
from chatter.analyst.progress import Progress
from chatter.analyst.refusal import refusal
from chatter.context import Context
from chatter.errors import SensitiveContentError
from chatter.result import Answer
from chatter.semantic.query import SemanticQuery
from chatter.services import Services


def one_turn_analyst(services: Services) -> Any:
    """The analyst for one-turn sessions: threads in memory (a question back still needs a
    checkpointer), each deleted when its turn is over."""
    return services.graphs.get(
        ("analyst", "one_turn"), lambda: analyst_graph(services, InMemorySaver())
    )


@dataclass
class ChatSession:
    services: Services
    session_id: str
    context: Context
    graph: Any

    @classmethod
    def open(
        cls, services: Services, context: Context, session_id: str | None = None
    ) -> ChatSession:
        """A durable session (its thread in the data directory), new or continued."""
        return cls(services, session_id or uuid.uuid4().hex, context, durable_analyst(services))

    @property
    def config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.session_id}}

    def pending_question(self) -> dict[str, Any] | None:
        """The question back the analyst is waiting on, if any (its answer document)."""
        snapshot = self.graph.get_state(self.config)
        for task in snapshot.tasks or ():
            for pending in task.interrupts or ():
                return dict(pending.value)
        return None

    def say(self, text: str, progress: Progress | None = None) -> Answer:
        """One turn: a new message, or the reply to a pending question back. With
        ``progress``, the run's progress events are passed to it as they happen."""
        try:
            # Before the graph: its checkpoints would keep the question as it was asked.
            self.services.guard.refuse_secrets(
                self.context, action="analyst.understand", tool="router", params={"message": text}
            )
        except SensitiveContentError as err:
            return refusal(err)
        turn: Any = (
            Command(resume=text)
            if self.pending_question() is not None
            else {"messages": [HumanMessage(text)]}
        )
        return self._run(turn, progress)

    def refine(self, query: SemanticQuery, asked: str, reason: str) -> Answer:
        """Answer ``query`` (a structural edit of an earlier answer's) as a turn of this
        session: follow-ups in words build on it."""
        try:
            # Before the graph, as for a message: its input checkpoint would keep the query.
            self.services.guard.refuse_secrets(
                self.context,
                action="analyst.refine",
                tool="query",
                params=query.model_dump(mode="json"),
            )
        except SensitiveContentError as err:
            return refusal(err)
        turn = {
            "messages": [HumanMessage(asked)],
            "query": query.model_dump(mode="json"),
            "reason": reason,
        }
        return self._run(turn, None)

    def _run(self, turn: Any, progress: Progress | None) -> Answer:
        # No listener, no custom stream: the nodes' stream writer is then LangGraph's no-op,
        # so an answer nobody watches pays nothing for its progress events.
        modes = ["custom", "updates"] if progress is not None else ["updates"]
        for mode, chunk in self.graph.stream(
            turn, self.config, context=self.context, stream_mode=modes
        ):
            if mode == "custom" and progress is not None and isinstance(chunk, dict):
                progress(chunk)
        state = self.graph.get_state(self.config).values
        return Answer.model_validate(state["answer"])

    def forget(self) -> None:
        """Delete this session's conversation (its checkpoints)."""
        self.graph.checkpointer.delete_thread(self.session_id)


def ask_once(
    services: Services, question: str, context: Context, progress: Progress | None = None
) -> Answer:
    """A question in a one-turn session: the same graph and answer as a chat's first turn."""
    session = ChatSession(services, uuid.uuid4().hex, context, one_turn_analyst(services))
    try:
        return session.say(question, progress)
    finally:
        session.forget()
