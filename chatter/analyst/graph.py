"""The analyst: a chat graph, the one path from a message to an answer on every surface.

A message comes in and is understood (a follow-up edits the last query, anything else is
routed). Then one of three things: a refusal (the guard said no), a question back (a LangGraph
interrupt, answered by the next message, which is understood again), or the query or workflow
runs and the answer comes back. Every turn leaves its answer document in ``answer``; a question
back is also the interrupt's value.

Memory is the checkpointer's: one thread per session, so "now by industry" finds the last query.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from chatter.analyst.answer import answer
from chatter.analyst.clarification import clarification
from chatter.analyst.decision import RouteDecision
from chatter.analyst.interpretation import interpretation_of
from chatter.analyst.progress import understood
from chatter.analyst.refusal import REFUSALS, refusal
from chatter.analyst.understand import understand as understand_message
from chatter.context import Context
from chatter.errors import ChatterError, SensitiveContentError
from chatter.governance.guard import mark_guarded
from chatter.result import Answer, Interpretation, Route
from chatter.semantic.query import SemanticQuery
from chatter.sensitive import redact_text
from chatter.services import Services
from chatter.workflow.template import builtin_templates

MAX_MESSAGE = 4000  # characters of a question the analyst reads


class AnalystInput(TypedDict):
    messages: list[AnyMessage]
    #: A structured refinement (the API's /refine): this query is answered as it is.
    query: NotRequired[dict[str, Any] | None]
    reason: NotRequired[str | None]


class AnalystState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    query: dict[str, Any] | None  # a refinement to answer (input only)
    reason: str | None  # why the refinement was asked (its route reason)
    last_query: dict[str, Any] | None  # the SemanticQuery of the last answer (follow-ups)
    decision: dict[str, Any] | None  # this turn's route, between nodes
    options: list[str]  # what a reply to the last question back may pick
    #: The question a question back about a missing value was about, and that value's words:
    #: a reply picking an option is that question with the option in their place.
    value_asked: dict[str, str] | None
    answer: dict[str, Any] | None  # this turn's answer document


#: The longest reply to a question back about a value that is tried as that value.
MAX_VALUE_WORDS = 3


def with_value(question: str, said: str, chosen: str) -> str | None:
    """``question`` with the words ``said`` (a value the data lacks) replaced by ``chosen``,
    or None when they are not in it as words."""
    found = re.search(rf"(?<!\w){re.escape(said)}(?!\w)", question, flags=re.IGNORECASE)
    if found is None:
        return None
    return question[: found.start()] + chosen + question[found.end() :]


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


def _decision_state(decision: RouteDecision) -> dict[str, Any]:
    # The interpretation is taken here, where the parsed question still is: the state keeps
    # only JSON.
    return {
        "route": decision.route.model_dump(mode="json"),
        "query": decision.query.model_dump(mode="json") if decision.query else None,
        "customizations": decision.customizations,
        "interpretation": interpretation_of(decision).model_dump(mode="json"),
    }


def _decided(decision: RouteDecision) -> dict[str, Any]:
    """The decision as state, said on the stream as understood (its dicts are the state's:
    nothing is built twice)."""
    decided = _decision_state(decision)
    get_stream_writer()(understood(decided["route"], decided["interpretation"]))
    return decided


def _said(reply: Answer, **extra: Any) -> AIMessage:
    # The message keeps a reference, not the result: every checkpoint stores the whole message
    # list, so a full result on each message made a session's storage grow with its square.
    # The full document is the "answer" channel (the latest turn's) and the API's session store.
    reference: dict[str, Any] = {
        "run_id": reply.run_id,
        "workflow": reply.workflow,
        "status": reply.status,
        "query": reply.query,
        "interpretation": reply.interpretation.text if reply.interpretation else None,
        **extra,
    }
    return AIMessage(content=reply.text, additional_kwargs={"chatter": reference})


def _refused(state: AnalystState, err: ChatterError) -> dict[str, Any]:
    reply = refusal(err)
    messages: list[AnyMessage] = [_said(reply, error=reply.error)]
    asked = _last_human(state)
    if isinstance(err, SensitiveContentError) and asked is not None:
        # Same id: add_messages replaces the stored question, so the thread keeps no secret.
        messages.insert(0, HumanMessage(content=redact_text(_text(asked)), id=asked.id))
    return {"messages": messages, "decision": None, "answer": reply.model_dump(mode="json")}


def build_analyst(services: Services) -> StateGraph[Any, Any, Any, Any]:
    """The analyst's graph (not compiled), its nodes using ``services``."""

    def understand(state: AnalystState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = runtime.context or Context()
        turn: dict[str, Any] = {
            "answer": None,
            "query": None,
            "reason": None,
            "options": [],
            "value_asked": None,
        }
        refined = state.get("query")
        if refined:  # a refinement: the edited query is the decision
            route = Route(workflow="query", confidence=1.0, reason=state.get("reason") or "")
            decision = RouteDecision(route, query=SemanticQuery.parse(refined))
            return {**turn, "decision": _decided(decision)}
        asked = _last_human(state)
        text = _text(asked) if asked is not None else ""
        said_back = text.strip().casefold()
        chosen = next((o for o in state.get("options") or [] if o.casefold() == said_back), None)
        # A reply that picks a template offered; a value offered (a level the data has) is read
        # as a message like any other.
        if chosen is not None and chosen in builtin_templates():
            route = Route(workflow=chosen, confidence=1.0, reason="Chosen when asked.")
            return {**turn, "decision": _decided(RouteDecision(route))}
        previous = state.get("last_query")
        earlier = SemanticQuery.parse(previous) if previous else None
        pending = state.get("value_asked")
        try:
            found: RouteDecision | None = None
            # "Which plan did you mean?" "business": the question asked, with the value picked
            # in place of the missing one (an option, or a short reply that reads as a value).
            if pending and (chosen is not None or len(said_back.split()) <= MAX_VALUE_WORDS):
                meant = with_value(pending["question"], pending["said"], chosen or text.strip())
                tried = understand_message(services, ctx, meant, earlier) if meant else None
                if tried is not None and (chosen is not None or not tried.needs_clarification):
                    found, text = tried, meant or text
            decision = found or understand_message(services, ctx, text, earlier)
        except REFUSALS as err:  # nothing was understood: the refusal is all there is to say
            return {**turn, **_refused(state, err)}
        if decision.needs_clarification:
            reply = clarification(
                decision.clarification or "",
                decision.options,
                decision.route,
                interpretation=interpretation_of(decision),
                database=str(services.database(ctx)),
            ).model_dump(mode="json")
            get_stream_writer()(
                understood(
                    reply["route"],
                    reply["interpretation"],
                    clarification=reply["text"],
                    options=reply["options"],
                )
            )
            if decision.asked_value:
                turn["value_asked"] = {"question": text, "said": decision.asked_value}
            return {**turn, "decision": None, "answer": reply}
        return {**turn, "decision": _decided(decision)}

    def ask_back(state: AnalystState) -> dict[str, Any]:
        """Wait for the reply to the question back; it is understood like any message."""
        asked = state.get("answer") or {}
        reply = interrupt(asked)
        text = str(reply.get("answer", "") if isinstance(reply, dict) else reply)[:MAX_MESSAGE]
        question = Answer.model_validate(asked)
        return {
            "messages": [_said(question), HumanMessage(text)],
            "options": question.options,
        }

    def respond(state: AnalystState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = runtime.context or Context()
        raw = state.get("decision") or {}
        decision = RouteDecision(
            Route.model_validate(raw["route"]),
            query=SemanticQuery.parse(raw["query"]) if raw.get("query") else None,
            customizations=raw.get("customizations"),
        )
        read = raw.get("interpretation")
        try:
            reply = answer(
                services,
                decision,
                ctx,
                progress=get_stream_writer(),
                interpretation=Interpretation.model_validate(read) if read else None,
            )
        except REFUSALS as err:
            return _refused(state, err)
        update: dict[str, Any] = {
            "messages": [_said(reply)],
            "answer": reply.model_dump(mode="json"),
            "decision": None,
        }
        if reply.query is not None:
            update["last_query"] = reply.query
        return update

    builder = StateGraph(AnalystState, context_schema=Context, input_schema=AnalystInput)
    builder.add_node("understand", mark_guarded(understand))
    builder.add_node("ask_back", ask_back)
    builder.add_node("respond", mark_guarded(respond))
    builder.add_edge(START, "understand")
    builder.add_conditional_edges("understand", _after_understanding)
    builder.add_edge("ask_back", "understand")
    builder.add_edge("respond", END)
    return builder


def _after_understanding(state: AnalystState) -> Literal["respond", "ask_back", "__end__"]:
    if state.get("decision"):
        return "respond"
    found = state.get("answer") or {}
    return "ask_back" if found.get("clarification") else "__end__"


def analyst_graph(services: Services, checkpointer: Any = None) -> Any:
    """The compiled analyst (Studio passes no checkpointer: the server keeps the threads)."""
    return build_analyst(services).compile(checkpointer=checkpointer, name="analyst")


def durable_analyst(services: Services) -> Any:
    """The analyst whose threads live in the data directory (chat sessions), compiled once."""
    saver = services.chat_checkpoints
    return services.graphs.get(("analyst", id(saver)), lambda: analyst_graph(services, saver))
