"""Composite workflows (several templates as one graph, one correction) and the analyst chat
graph (multi-turn memory through its checkpointer, clarifying questions as interrupts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from statsmodels.stats.multitest import multipletests

from chatter import run_workflow
from chatter.analyst.session import ChatSession
from chatter.context import Context
from chatter.errors import BadInputError, UnknownTemplateError
from chatter.semantic.model import default_model
from chatter.services import Services
from chatter.workflow.compiler import build_state_graph
from chatter.workflow.composite import compose

pytestmark = pytest.mark.integration


def test_sequential_composite_orders_templates_and_corrects_once(
    demo_db: Path, services: Services
) -> None:
    template = compose(
        {"templates": ["conversion_deep_dive", "revenue_optimization"], "mode": "sequential"}
    )
    edges = {
        (e.source, e.target)
        for e in build_state_graph(services, template, default_model()).compile().get_graph().edges
    }
    # The revenue template's first steps wait for the conversion template's last ones.
    assert (
        "conversion_deep_dive__statistical_validation",
        "revenue_optimization__revenue_baseline",
    ) in edges
    result = run_workflow(template, database=demo_db)
    assert result.status == "completed"
    assert [s.id for s in result.steps][-1] == "insights"
    sources = {f.source_step.split("__")[0] for f in result.findings}
    assert sources == {"conversion_deep_dive", "revenue_optimization"}
    tested = [f for f in result.findings if f.testable and not f.descriptive]
    _, expected, *_ = multipletests([f.p_value for f in tested], method="fdr_bh")
    assert [f.p_adjusted for f in tested] == pytest.approx(list(expected), rel=1e-12)
    texts = " ".join(i.text for i in result.insights)
    assert "fintech" in texts and "MRR" in texts


def test_parallel_composite_with_customizations(demo_db: Path) -> None:
    template = compose(
        {
            "templates": ["feature_usage_deep_dive", "conversion_deep_dive"],
            "mode": "parallel",
            "customizations": {
                "conversion_deep_dive": {"steps": {"cohort_analysis": {"enabled": False}}}
            },
            "alpha": 0.01,
        }
    )
    roots = [s.id for s in template.steps if not s.after]
    assert "feature_usage_deep_dive__feature_adoption" in roots
    assert "conversion_deep_dive__baseline_conversion" in roots
    result = run_workflow(template, database=demo_db)
    skipped = {s.id: s.error for s in result.steps if s.status == "skipped"}
    assert skipped == {"conversion_deep_dive__cohort_analysis": "disabled by customization"}
    assert all(
        f.significant == (f.p_adjusted is not None and f.p_adjusted < 0.01) for f in result.findings
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"templates": ["conversion_deep_dive"]},
        {"templates": ["conversion_deep_dive", "conversion_deep_dive"]},
        {"templates": ["conversion_deep_dive", "revenue_optimisation"]},
        {"templates": ["conversion_deep_dive", "revenue_optimization"], "mode": "zigzag"},
    ],
)
def test_bad_composites_are_rejected(spec: dict) -> None:
    with pytest.raises(BadInputError) as info:
        compose(spec)
    if "revenue_optimisation" in spec["templates"]:
        assert isinstance(info.value, UnknownTemplateError)
        assert "revenue_optimization" in info.value.message


def test_a_five_turn_conversation_with_follow_ups(demo_db: Path, services: Services) -> None:
    session = ChatSession.open(services, Context(database=demo_db))
    turns = [
        "what's the conversion rate by plan?",
        "now by industry",
        "only enterprise",
        "top 3",
        "same for churn",
    ]
    answers = [session.say(t) for t in turns]
    last = answers[-1]
    assert last.query == {
        "measures": ["churn_rate"],
        "dimensions": ["industry"],
        "filters": [{"field": "users.plan_type", "op": "=", "value": "enterprise"}],
        "time_grain": None,
        "order_by": [{"field": "churn_rate", "descending": True}],
        "limit": 3,
    }
    assert len(last.steps[0].rows) == 3
    rates = [r["churn_rate"] for r in last.steps[0].rows]
    assert rates == sorted(rates, reverse=True)
    assert last.suggestions
    # The memory is the checkpointer's: a new session object on the same id continues.
    again = ChatSession.open(services, Context(database=demo_db), session.session_id)
    assert again.say("show 2").query["limit"] == 2  # type: ignore[index]


def test_a_clarifying_question_is_an_interrupt_answered_by_the_next_message(
    demo_db: Path, services: Services
) -> None:
    session = ChatSession.open(services, Context(database=demo_db))
    asked = session.say("hello there")
    assert asked.clarification and "conversion_deep_dive" in asked.options
    assert session.pending_question() is not None
    chosen = session.say("revenue_optimization")
    assert chosen.workflow == "revenue_optimization" and chosen.insights
    assert session.pending_question() is None


def chatter(*args: str, home: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHATTER_HOME": str(home), "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "chatter.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_ask_prints_route_reason_and_answer(demo_db: Path, chatter_home: Path) -> None:
    out = run_cli(
        "ask", "what's the churn rate by plan?", "--database", str(demo_db), home=chatter_home
    )
    assert out.returncode == 0, out.stderr
    assert "Route: query" in out.stdout and "churn_rate" in out.stdout
    doc = json.loads(
        run_cli(
            "ask",
            "why are fintech trials converting worse?",
            "--database",
            str(demo_db),
            "--json",
            home=chatter_home,
        ).stdout
    )
    assert doc["route"]["workflow"] == "conversion_deep_dive" and doc["insights"]
    unsure = run_cli("ask", "tell me a joke", "--database", str(demo_db), home=chatter_home)
    assert unsure.returncode == 0 and "For example" in unsure.stdout


@pytest.mark.slow
def test_chat_in_the_terminal(demo_db: Path, chatter_home: Path) -> None:
    out = chatter(
        "chat",
        "--database",
        str(demo_db),
        home=chatter_home,
        stdin="conversion rate by plan\nnow by industry\ntop 2\nexit\n",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Route: query") == 3
    assert "education" in out.stdout and "LIMIT 2" in out.stdout
