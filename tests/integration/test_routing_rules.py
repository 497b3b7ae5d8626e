"""Routing rules on context: the seed's example (premium tiers with complex questions get a
composite), customizations by rule, the explicit default, bad rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatter.analyst.answer import answer
from chatter.analyst.route_rules import complexity
from chatter.analyst.understand import understand
from chatter.context import Context
from chatter.errors import ConditionError, UnknownTemplateError
from chatter.rules.rule_file import load_rules
from chatter.services import Services
from chatter.settings import get_settings
from chatter.workflow.template import builtin_templates

pytestmark = pytest.mark.integration

RULES = """
rules:
  - name: premium_deep
    when: user_tier in [premium, enterprise] and query_complexity between 0.7 and 1.0
    then:
      composite: {templates: [conversion_deep_dive, revenue_optimization], mode: parallel}
  - name: strict_for_finance
    when: role eq analyst and team eq finance and route.workflow ne query
    then: {customizations: {alpha: 0.01}}
default: {route: as_routed}
"""


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    monkeypatch.setenv("CHATTER_ROUTING_RULES", str(path))
    get_settings.cache_clear()
    return path


def test_premium_complex_questions_get_the_composite(
    rules: Path, demo_db: Path, services: Services
) -> None:
    question = "why are fintech trials converting worse and what drives churn by plan?"
    premium = understand(
        services, Context(database=demo_db, attributes={"user_tier": "premium"}), question
    )
    assert complexity(premium) >= 0.7
    assert premium.route.workflow == "composite__conversion_deep_dive__revenue_optimization"
    assert "premium_deep" in premium.route.reason
    free = understand(
        services, Context(database=demo_db, attributes={"user_tier": "free"}), question
    )
    assert free.route.workflow == "conversion_deep_dive"  # the default keeps the route
    simple = understand(
        services,
        Context(database=demo_db, attributes={"user_tier": "premium"}),
        "conversion rate by plan",
    )
    assert simple.route.workflow == "query"
    result = answer(services, premium, Context(database=demo_db))
    assert result.workflow == "composite__conversion_deep_dive__revenue_optimization"
    assert {f.source_step.split("__")[0] for f in result.findings} == {
        "conversion_deep_dive",
        "revenue_optimization",
    }


def test_rules_can_customize_the_chosen_template(
    rules: Path, demo_db: Path, services: Services
) -> None:
    ctx = Context(database=demo_db, role="analyst", attributes={"team": "finance"})
    decision = understand(services, ctx, "why are fintech trials converting worse?")
    assert decision.route.workflow == "conversion_deep_dive"
    assert decision.customizations == {"alpha": 0.01}
    result = answer(services, decision, ctx)
    assert all(
        f.significant == (f.p_adjusted is not None and f.p_adjusted < 0.01) for f in result.findings
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("rules: []\n", "default"),
        (
            "rules: [{name: a, when: 'tier betwen 1 and 2', then: {template: x}}]\ndefault: {route: "
            "as_routed}\n",
            "between",
        ),
        (
            "rules: [{name: a, when: 'tier eq 1', then: {wibble: 1}}]\ndefault: {route: as_routed}\n",
            "wibble",
        ),
    ],
)
def test_bad_rule_files_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConditionError, match=needle):
        load_rules(path, builtin_templates())


def test_a_rule_naming_an_unknown_template(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "rules: [{name: a, when: 'tier eq 1', then: {template: conversion_dive}}]\n"
        "default: {route: as_routed}\n"
    )
    with pytest.raises(UnknownTemplateError, match="conversion_deep_dive"):
        load_rules(path, builtin_templates())
