"""The deterministic analyst over levels a test invents (no database), for the analyst's unit
tests: a router for those levels, and what a routed question must have come to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from chatter.analyst.decision import RouteDecision
from chatter.analyst.route import Router
from chatter.analyst.vocabulary import build_vocabulary
from chatter.semantic.model import default_model
from chatter.workflow.template import builtin_templates


def router_for(levels: Mapping[str, Sequence[str]]) -> Router:
    """The packaged model's router, as if the data held exactly ``levels``."""
    model = default_model()
    templates = builtin_templates()
    return Router(model, build_vocabulary(model, templates, dict(levels)), dict(templates))


def answered(router: Router, question: str, *, today: dt.date) -> RouteDecision:
    """The decision for ``question``, which must be a query (not asked back)."""
    decision = router.route(question, today=today)
    assert not decision.needs_clarification, decision.clarification
    assert decision.query is not None, decision.route.reason
    return decision


def filtered(decision: RouteDecision) -> dict[str, object]:
    """The answer's filters, field (without table) to value."""
    assert decision.query is not None
    return {f.field.split(".")[-1]: f.value for f in decision.query.filters}


def asked_about(router: Router, question: str, said: str, levels: str, *, today: dt.date) -> None:
    """``question`` is asked back about the value ``said``, naming the valid ``levels``."""
    decision = router.route(question, today=today)
    assert decision.needs_clarification, decision.route.reason
    assert decision.query is None
    assert f"called {said!r}" in (decision.clarification or ""), decision.clarification
    assert levels in (decision.clarification or ""), decision.clarification
