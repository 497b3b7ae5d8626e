"""Insights from the real analyses on real DuckDB files: the demo's planted effects read with the
right direction, every evidence id resolves, every number is in its evidence; synthetic data
with other names gets insights in its own words, and null data says plainly it found nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from run_findings import corrected
from synthetic import make_dataset

from chatter.result import Finding, Insight, StepResult
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.insight import audit_insights, collect_evidence, render_insights

pytestmark = pytest.mark.integration

ALPHA = 0.05
# Level names of the demo (docs/demo-data.md). "growth" (a plan) and "search" (a feature) are
# left out: they are also ordinary words ("compound growth" comes from a summary key).
DEMO_NAMES = [
    "software",
    "fintech",
    "healthcare",
    "retail",
    "education",
    "media",
    "manufacturing",
    "logistics",
    "organic",
    "paid_search",
    "referral",
    "social",
    "partner",
    "outbound",
    "starter",
    "business",
    "enterprise",
    "dashboard_view",
    "data_import",
    "report_export",
    "team_invite",
    "integration_setup",
    "alert_created",
    "api_call",
    "1-10",
    "11-50",
    "51-200",
    "201-1000",
    "US",
    "GB",
    "DE",
    "IN",
    "FR",
    "CA",
    "BR",
    "AU",
    "NL",
    "JP",
    "ES",
]


def run_analyses(
    wh: Warehouse, which: tuple[str, ...] | None = None
) -> tuple[list[StepResult], list[Finding]]:
    """The analyses of the three templates, as steps in template order, with the run's one
    correction over all their findings."""
    plan = {
        "statistical_validation": (
            lambda: analyses.segment_rate_tests(
                wh,
                analyses.SegmentTestParams(
                    dimensions=("plan_type", "industry", "acquisition_channel")
                ),
            ),
            "statistical_test",
        ),
        "usage_correlation": (lambda: analyses.usage_correlation(wh), "analysis"),
        "churn_relationship": (lambda: analyses.churn_relationship(wh), "statistical_test"),
        "growth_trends": (lambda: analyses.revenue_growth(wh), "analysis"),
        "ltv_analysis": (lambda: analyses.ltv_by_segment(wh), "analysis"),
        "expansion_opportunities": (lambda: analyses.expansion_opportunities(wh), "analysis"),
    }
    results = {k: (make(), kind) for k, (make, kind) in plan.items() if not which or k in which}
    steps = [result.to_step(k, kind) for k, (result, kind) in results.items()]
    findings = corrected({k: result for k, (result, _) in results.items()}, alpha=ALPHA)
    return steps, findings


@pytest.fixture(scope="module")
def demo_run(demo_db: Path) -> Iterator[tuple[list[StepResult], list[Finding]]]:
    with Warehouse(Engine(demo_db), default_model()) as wh:
        yield run_analyses(wh)


@pytest.fixture(scope="module")
def demo_insights(demo_run) -> list[Insight]:
    return render_insights(*demo_run, alpha=ALPHA, max_insights=10)


def clause(insights: list[Insight], name: str) -> str:
    """The clause (between ';' or ':') of the insight that names ``name``."""
    for insight in insights:
        for part in re.split(r"[;:]\s|\.\s", insight.text):
            if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", part):
                return part
    raise AssertionError(f"{name!r} is in no insight: {[i.text for i in insights]}")


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("fintech", "lower for fintech"),
        ("education", "higher for education"),
        ("referral", "higher for referral"),
        ("social", "lower for social"),
        ("enterprise vs the", "higher for enterprise"),
        ("adopters of integration_setup", "lower for early adopters of integration_setup"),
        ("dashboard_view and report_export", "positively correlated"),
        ("MRR grew", "MRR grew from"),
        ("OLS slope", "rising by"),
    ],
)
def test_planted_effects_read_with_the_right_direction(
    demo_insights: list[Insight], name: str, direction: str
) -> None:
    assert direction in clause(demo_insights, name)


def test_one_story_per_dimension(demo_insights: list[Insight]) -> None:
    leads = [i.text.split(" (")[0] for i in demo_insights]
    assert len(leads) == len(set(leads))
    assert sum("differs across industry" in i.text for i in demo_insights) == 1


def test_descriptive_headlines_carry_their_numbers(demo_insights: list[Insight]) -> None:
    texts = " ".join(i.text for i in demo_insights)
    assert "compound growth per month" in texts
    assert "MRR at stake" in texts
    assert re.search(r"LTV by plan type is highest for \w+ at [\d,]+", texts)


def test_every_evidence_id_resolves_and_every_number_is_in_its_evidence(
    demo_run, demo_insights: list[Insight]
) -> None:
    assert demo_insights and all(i.evidence for i in demo_insights)
    assert audit_insights(demo_insights, *demo_run) == []
    evidence = collect_evidence(*demo_run)
    assert {e for i in demo_insights for e in i.evidence} <= set(evidence)


def test_significant_stories_come_first_strongest_first(demo_run, demo_insights) -> None:
    _, findings = demo_run
    cited = [[int(e[9:-1]) for e in i.evidence if e.startswith("findings[")] for i in demo_insights]
    assert all(any(findings[k].significant for k in c) for c in cited if c)
    assert demo_insights[0].text.startswith("MRR grew")  # R² 0.99, tau 1: the strongest effect


def test_rendering_is_deterministic(demo_run, demo_insights: list[Insight]) -> None:
    assert render_insights(*demo_run, alpha=ALPHA, max_insights=10) == demo_insights


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("syn") / "p.duckdb", seed=4, effects=True)


def test_other_level_names_are_spoken_in_their_own_words(synthetic_db: Path) -> None:
    with Warehouse(Engine(synthetic_db), default_model()) as wh:
        steps, findings = run_analyses(wh)
    insights = render_insights(steps, findings, alpha=ALPHA)
    text = " ".join(i.text for i in insights)
    leaked = [n for n in DEMO_NAMES if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
    assert leaked == [], text
    assert "higher for dental" in clause(insights, "dental")
    assert "lower for radio" in clause(insights, "radio")
    assert "lower for early adopters of gamma" in clause(insights, "adopters of gamma")
    assert "alpha and beta are positively correlated" in text
    assert audit_insights(insights, steps, findings) == []


def test_null_data_says_plainly_that_nothing_was_found(tmp_path: Path) -> None:
    path = make_dataset(tmp_path / "null.duckdb", seed=2, effects=False)
    with Warehouse(Engine(path), default_model()) as wh:
        steps, findings = run_analyses(
            wh, ("statistical_validation", "usage_correlation", "churn_relationship")
        )
    tested = sum(f.testable for f in findings)
    assert tested > 20 and not any(f.significant for f in findings)
    insights = render_insights(steps, findings, alpha=ALPHA)
    assert len(insights) == 1
    text = insights[0].text
    assert text.startswith("No significant difference was found")
    assert f"{tested} tests" in text and "alpha 0.05" in text and "Benjamini-Hochberg" in text
    assert len(insights[0].evidence) == tested
    assert audit_insights(insights, steps, findings, parameters=[ALPHA]) == []
