"""One message understood in context: routed (or read as a follow-up of the last query), then
shaped by the routing rules. What every surface (CLI, analyst graph, chat API) calls."""

from __future__ import annotations

from chatter.analyst.followups import interpret
from chatter.analyst.route import RouteDecision
from chatter.analyst.route_rules import apply_rules, configured_rules
from chatter.analyst.routers import router_for
from chatter.context import Context
from chatter.governance.guard import authorize
from chatter.governance.permissions import tool_resources
from chatter.semantic.query import SemanticQuery
from chatter.workflow.resources import warehouse_for


def understand(ctx: Context, text: str, previous: SemanticQuery | None = None) -> RouteDecision:
    """Route ``text`` for ``ctx``. Understanding reads the data's vocabulary (level names), so
    it needs read access to queries; a message holding a secret stops here, before the router
    or an LLM sees it (audited; not counted against rate limits: the tool call it leads to is)."""
    from chatter.llm import get_llm

    authorize(
        ctx,
        "read",
        tool_resources("query", "query"),
        action="analyst.understand",
        tool="router",
        params={"message": text},
        count=False,
    )
    router = router_for(warehouse_for(ctx), get_llm())
    decision = interpret(router, text, previous)
    return apply_rules(decision, ctx, text, configured_rules())
