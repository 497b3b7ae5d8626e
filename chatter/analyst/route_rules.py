"""Routing rules applied to a route: context (who asks, their attributes) and the question
(its route, its complexity) pick a template, customizations or a composite. Rules come from
CHATTER_ROUTING_RULES (YAML or JSON, see chatter.rules); the first match wins and the
explicit default applies otherwise. ``then`` may hold ``template``, ``customizations``,
``composite``, or ``{"route": "as_routed"}`` to keep the router's choice.
"""

from __future__ import annotations

from typing import Any

from chatter.analyst.cues import ANALYSIS_CUES
from chatter.analyst.decision import RouteDecision
from chatter.context import Context
from chatter.result import Route
from chatter.rules.rule_file import load_rules
from chatter.rules.ruleset import RuleSet
from chatter.services import Services
from chatter.workflow.template import builtin_templates


def complexity(decision: RouteDecision) -> float:
    """0..1: how much the question asks for (measures, splits, filters, reasons, a workflow)."""
    parsed = decision.parsed
    if parsed is None:
        return 0.0
    cues = sum(s in ANALYSIS_CUES for s in parsed.words.stems)
    score = (
        0.15 * len(parsed.measures)
        + 0.15 * len(parsed.dimensions)
        + 0.1 * len(parsed.levels)
        + 0.15 * cues
        + (0.3 if decision.route.workflow not in ("query", "clarify") else 0.0)
    )
    return round(min(1.0, score), 3)


def rule_context(decision: RouteDecision, ctx: Context, question: str) -> dict[str, Any]:
    return {
        **ctx.attributes,
        "user": ctx.user,
        "role": ctx.role,
        "tenant": ctx.tenant,
        "attributes": dict(ctx.attributes),
        "query_complexity": complexity(decision),
        "question": {"text": question, "complexity": complexity(decision)},
        "route": {"workflow": decision.route.workflow, "confidence": decision.route.confidence},
    }


def apply_rules(
    decision: RouteDecision, ctx: Context, question: str, rules: RuleSet | None
) -> RouteDecision:
    """The decision as the first matching rule (or the default) shapes it."""
    if rules is None or decision.needs_clarification:
        return decision
    name, then = rules.choose(rule_context(decision, ctx, question))
    if then.get("route") == "as_routed" and len(then) == 1:
        return decision
    reason = f"{decision.route.reason} Rule {name!r} applied."
    if "composite" in then:
        spec = then["composite"]
        workflow = "composite__" + "__".join(spec.get("templates", []))
        return RouteDecision(
            Route(workflow=workflow, confidence=decision.route.confidence, reason=reason),
            customizations={"composite": spec},
            parsed=decision.parsed,
        )
    if "template" in then:
        return RouteDecision(
            Route(workflow=then["template"], confidence=decision.route.confidence, reason=reason),
            customizations=then.get("customizations"),
            parsed=decision.parsed,
        )
    if "customizations" in then and decision.route.workflow in builtin_templates():
        return RouteDecision(
            decision.route.model_copy(update={"reason": reason}),
            customizations=then["customizations"],
            parsed=decision.parsed,
        )
    return decision


def configured_rules(services: Services) -> RuleSet | None:
    """The rule set CHATTER_ROUTING_RULES names (re-read when the file changes), or None."""
    path = services.settings.routing_rules
    if path is None:
        return None
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    rules: RuleSet = services.rules.get(
        (str(path), stamp), lambda: load_rules(path, builtin_templates())
    )
    return rules
