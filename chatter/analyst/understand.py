"""One message understood in context: routed (or read as a follow-up of the last query), then
shaped by the routing rules. The analyst graph's understand node is its one caller."""

from __future__ import annotations

from chatter.analyst.decision import RouteDecision
from chatter.analyst.followups import interpret
from chatter.analyst.route import Router
from chatter.analyst.route_rules import apply_rules, configured_rules
from chatter.analyst.vocabulary import build_vocabulary, data_levels
from chatter.analyst.workflow_window import empty_window
from chatter.context import Context
from chatter.governance.permissions import tool_resources
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.services import Services
from chatter.workflow.template import builtin_templates


def build_router(warehouse: Warehouse) -> Router:
    """A router for a warehouse: vocabulary from its semantic model, the templates, and the
    levels found in its data."""
    templates = builtin_templates()
    vocab = build_vocabulary(warehouse.model, templates, data_levels(warehouse))
    return Router(warehouse.model, vocab, dict(templates))


def router_for(services: Services, warehouse: Warehouse) -> Router:
    """The router of a warehouse, kept per database version, model and data scope (its
    vocabulary holds the levels found in the data the caller may see), with the services' LLM
    when one is configured."""
    key = (
        warehouse.engine.identity,
        warehouse.engine.version,
        warehouse.model.content_hash,
        tuple(f.model_dump_json() for f in warehouse.scope),
    )
    router: Router = services.routers.get(key, lambda: build_router(warehouse))
    llm = services.llm
    if llm is not router.llm:
        router = Router(router.model, router.vocab, router.templates, llm)
    return router


def understand(
    services: Services, ctx: Context, text: str, previous: SemanticQuery | None = None
) -> RouteDecision:
    """Route ``text`` for ``ctx``. Understanding reads the data's vocabulary (level names), so
    it needs read access to queries; a message holding a secret stops here, before the router
    or an LLM sees it (audited; not counted against rate limits: the tool call it leads to is)."""
    services.guard.authorize(
        ctx,
        "read",
        tool_resources("query", "query"),
        action="analyst.understand",
        tool="router",
        params={"message": text},
        count=False,
    )
    warehouse = services.warehouse(ctx)
    router = router_for(services, warehouse)
    decision = interpret(router, text, previous, services.today())
    decision = apply_rules(decision, ctx, text, configured_rules(services))
    template = router.templates.get(decision.route.workflow)
    if template is not None and not decision.needs_clarification:
        nothing = empty_window(warehouse, template, decision)
        if nothing is not None:  # say so instead of running a deep dive on no rows
            decision.clarification = (
                f"{nothing} Ask about a time inside it, or without a time window."
            )
            decision.route = decision.route.model_copy(update={"reason": nothing})
    return decision
