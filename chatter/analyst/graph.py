"""The analyst: a chat graph. A message comes in; it is understood (a follow-up edits the last
query, anything else is routed); an unsure route asks back (a LangGraph interrupt); the query or
workflow runs; the answer comes back as a message carrying the result and follow-ups.

Memory is the checkpointer's: one thread per session, so "now by industry" finds the last query.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from chatter.analyst.answer import answer
from chatter.analyst.route import RouteDecision
from chatter.analyst.understand import understand as understand_message
from chatter.context import Context
from chatter.errors import (
    ChatterError,
    PermissionDeniedError,
    RateLimitedError,
    SensitiveContentError,
)
from chatter.governance.guard import mark_guarded
from chatter.governance.sensitive import redact_text
from chatter.semantic.query import SemanticQuery

MAX_MESSAGE = 4000  # characters of a question the analyst reads


class AnalystInput(TypedDict):
    messages: list[AnyMessage]


class AnalystState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    last_query: dict[str, Any] | None  # the SemanticQuery of the last answer (follow-ups)
    decision: dict[str, Any] | None  # this turn's route, between nodes
    answer: dict[str, Any] | None  # the last answer: text, result, suggestions


def _text(message: AnyMessage) -> str:
    content = message.content
    if isinstance(content, list):  # multimodal content: keep the text parts
        content = " ".join(c.get("text", "") if isinstance(c, dict) else str(c) for c in content)
    return str(content)[:MAX_MESSAGE]


def _last_human(state: AnalystState) -> HumanMessage | None:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message
    return None


def _last_question(state: AnalystState) -> str:
    message = _last_human(state)
    return _text(message) if message is not None else ""


def _decide(state: AnalystState, ctx: Context, text: str) -> RouteDecision:
    previous = state.get("last_query")
    return understand_message(ctx, text, SemanticQuery.parse(previous) if previous else None)


REFUSALS = (PermissionDeniedError, RateLimitedError, SensitiveContentError)


def _refused(state: AnalystState, question: str, err: ChatterError) -> dict[str, Any]:
    messages: list[AnyMessage] = [_refusal(err)]
    asked = _last_human(state)
    if isinstance(err, SensitiveContentError) and asked is not None:
        # Same id: add_messages replaces the stored question, so the thread keeps no secret.
        messages.insert(0, HumanMessage(content=redact_text(question), id=asked.id))
    return {"messages": messages, "decision": None}


def understand(state: AnalystState, runtime: Runtime[Context]) -> dict[str, Any]:
    ctx = runtime.context or Context()
    question = _last_question(state)
    try:
        decision = _decide(state, ctx, question)
    except REFUSALS as err:
        return _refused(state, question, err)
    if decision.needs_clarification:
        # Ask, and wait: the reply (an option or a rephrased question) is understood instead.
        reply = interrupt({"question": decision.clarification, "options": decision.options})
        text = str(reply.get("answer", "") if isinstance(reply, dict) else reply)[:MAX_MESSAGE]
        chosen = next((o for o in decision.options if o == text.strip()), None)
        if chosen and chosen != "query":
            from chatter.result import Route

            decision = RouteDecision(
                Route(workflow=chosen, confidence=1.0, reason="Chosen when asked.")
            )
        else:
            try:
                decision = _decide(state, ctx, text)
            except REFUSALS as err:
                return {"messages": [_refusal(err)], "decision": None}
    return {
        "decision": {
            "route": decision.route.model_dump(mode="json"),
            "query": decision.query.model_dump(mode="json") if decision.query else None,
            "customizations": decision.customizations,
            "clarification": decision.clarification,
            "options": decision.options,
        }
    }


def respond(state: AnalystState, runtime: Runtime[Context]) -> dict[str, Any]:
    from chatter.result import Route

    ctx = runtime.context or Context()
    raw = state.get("decision") or {}
    decision = RouteDecision(
        Route.model_validate(raw["route"]),
        query=SemanticQuery.parse(raw["query"]) if raw.get("query") else None,
        customizations=raw.get("customizations"),
        clarification=raw.get("clarification"),
        options=raw.get("options") or [],
    )
    writer = _writer()
    try:
        reply = answer(decision, ctx, progress=writer)
    except REFUSALS as err:
        return {"messages": [_refusal(err)], "decision": None}
    payload = reply.model_dump(mode="json")
    # The message keeps a reference, not the result: every checkpoint stores the whole message
    # list, so a full result on each message made a session's storage grow with its square.
    # The full answer is the "answer" channel (the latest turn's) and the API's session store.
    reference = {
        "run_id": reply.result.run_id,
        "workflow": reply.result.workflow,
        "status": reply.result.status,
        "query": payload["query"],
    }
    message = AIMessage(content=reply.text, additional_kwargs={"chatter": reference})
    update: dict[str, Any] = {"messages": [message], "answer": payload, "decision": None}
    if reply.query is not None:
        update["last_query"] = reply.query
    return update


def _refusal(err: ChatterError) -> AIMessage:
    """What the analyst says when the guard refuses: the reason, no result."""
    return AIMessage(content=err.message, additional_kwargs={"chatter": err.to_dict()})


def _writer() -> Any:
    try:
        return get_stream_writer()
    except Exception:  # outside a streaming run
        return None


def _route_after(state: AnalystState) -> Literal["respond", "__end__"]:
    return "respond" if state.get("decision") else "__end__"


def build_analyst() -> StateGraph[Any, Any, Any, Any]:
    builder = StateGraph(AnalystState, context_schema=Context, input_schema=AnalystInput)
    builder.add_node("understand", mark_guarded(understand))
    builder.add_node("respond", mark_guarded(respond))
    builder.add_edge(START, "understand")
    builder.add_conditional_edges("understand", _route_after)
    builder.add_edge("respond", END)
    return builder


def analyst_graph(checkpointer: Any = None) -> Any:
    """The compiled analyst (Studio passes none: the server keeps the threads)."""
    return build_analyst().compile(checkpointer=checkpointer, name="analyst")
