"""Segment findings a careful analyst would sign (issue 14): every dimension is tested, only the
deviating levels are named, and a gap that comes from another dimension's mix is said to.

Each test builds data in the contract's schema with level names the code cannot know, shows the
trap works (the naive reading is wrong on it), then asserts on the run's findings and insights.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from segment_designs import LEVELS, make_segment_design
from statsmodels.stats.contingency_tables import StratifiedTable

import chatter
from chatter.result import Finding, WorkflowResult
from chatter.tools.stats import level_vs_rest_test
from chatter.tools.stats.stratified import Stratum, mantel_haenszel

CHANNELS = LEVELS["acquisition_channel"]
INDUSTRIES = LEVELS["industry"]


def _run(db: Path, customizations: dict[str, object] | None = None) -> WorkflowResult:
    return chatter.run_workflow(
        "conversion_deep_dive", customizations, database=str(db), use_cache=False
    )


def _significant(result: WorkflowResult) -> list[Finding]:
    return [
        f for f in result.findings if f.significant and f.source_step == "statistical_validation"
    ]


def _text(result: WorkflowResult) -> str:
    return " ".join(i.text for i in result.insights)


def test_every_categorical_dimension_is_tested_by_default(tmp_path: Path) -> None:
    """One planted channel effect: the old default (plan and industry only) reports nothing;
    the default now tests every categorical dimension and finds it, and says which it tested."""
    planted = CHANNELS[2]
    db = make_segment_design(
        tmp_path / "channel.duckdb",
        conversion=lambda u: np.where(u["acquisition_channel"] == planted, 0.30, 0.20),
    )
    only_two = _run(
        db,
        {
            "steps": {
                "statistical_validation": {"parameters": {"dimensions": ["plan_type", "industry"]}}
            }
        },
    )
    assert _significant(only_two) == []
    result = _run(db)
    step = next(s for s in result.steps if s.id == "statistical_validation")
    assert step.summary["dimensions_tested"] == [
        "plan_type",
        "industry",
        "acquisition_channel",
        "company_size",
        "country",
    ]
    assert any("Every categorical dimension was tested" in n for n in step.notes)
    found = {(f.dimension, f.segment) for f in _significant(result)}
    assert ("acquisition_channel", planted) in found
    assert {d for d, _ in found} == {"acquisition_channel"}
    assert f"higher for {planted} vs the" in _text(result)
    # Outcome flags are no segments: converted and churned are never tested.
    assert not {f.dimension for f in result.findings} & {"converted", "churned"}


def _one_high_industry(tmp_path: Path) -> Path:
    six = INDUSTRIES[:6]

    def draw(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        return {"industry": rng.choice(six, n)}

    return make_segment_design(
        tmp_path / "one_high.duckdb",
        users=24_000,
        draw=draw,
        conversion=lambda u: np.where(u["industry"] == six[3], 0.40, 0.20),
    )


def test_one_deviating_level_is_named_and_the_others_are_said_alike(tmp_path: Path) -> None:
    db = _one_high_industry(tmp_path)
    high = INDUSTRIES[3]
    con = duckdb.connect(str(db), read_only=True)
    counts = con.execute(
        "SELECT industry, SUM(converted::INT), COUNT(*) FROM users GROUP BY 1 ORDER BY 1"
    ).fetchall()
    con.close()
    # The trap: each ordinary level against all the others (which include the high one) looks
    # lower, beyond a Bonferroni correction of the run's tests.
    hits, n = sum(h for _, h, _ in counts), sum(m for _, _, m in counts)
    naive = [level_vs_rest_test(h, m, hits - h, n - m).p_value for lv, h, m in counts if lv != high]
    assert all(p is not None and p < 1e-3 for p in naive)

    result = _run(db)
    industry = [f for f in _significant(result) if f.dimension == "industry"]
    assert {f.segment for f in industry} == {None, high}
    level = next(f for f in industry if f.segment == high)
    assert level.compared_with is not None and len(level.compared_with) >= 4
    alike = next(
        f
        for f in result.findings
        if f.dimension == "industry" and f.descriptive and f.compared_with
    )
    assert alike.p_value is not None and alike.p_value >= 0.05 and alike.p_adjusted is None
    text = _text(result)
    assert f"higher for {high} vs the {len(level.compared_with)} alike levels" in text
    assert "do not differ from one another" in text
    # The gap holds within every other dimension, and is still said to be an association.
    assert all(r["verdict"] == "holds" for r in level.stratified.values())
    assert "An association in observational data: the gap holds within each plan type" in text
    for ordinary in INDUSTRIES[:6]:
        if ordinary != high:
            assert f"lower for {ordinary}" not in text


def test_null_data_with_many_levels_finds_nothing(tmp_path: Path) -> None:
    result = _run(make_segment_design(tmp_path / "null.duckdb", seed=11))
    assert _significant(result) == []
    assert _text(result).startswith("No significant difference was found")


FIRST_FIVE = INDUSTRIES[:5]


def _plan_in_industries(
    ultra_share: float, others_share: float
) -> Callable[..., dict[str, np.ndarray]]:
    """Plans drawn alike; an ultra account is in the first five industries with chance
    ``ultra_share``, any other with ``others_share`` (so plan and industry are entangled)."""

    def draw(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        plan = rng.choice(LEVELS["plan_type"], n)
        first = rng.random(n) < np.where(plan == "ultra", ultra_share, others_share)
        industry = np.where(first, rng.choice(FIRST_FIVE, n), rng.choice(INDUSTRIES[5:], n))
        return {"plan_type": plan, "industry": industry}

    return draw


def _mix_design(tmp_path: Path, within: float) -> Path:
    """``ultra`` accounts sit mostly in slow industries; within each industry ultra converts
    ``within`` points better than the other plans."""
    fast = FIRST_FIVE
    draw = _plan_in_industries(0.1, 0.7)

    def conversion(users: pd.DataFrame) -> np.ndarray:
        base = np.where(users["industry"].isin(fast), 0.40, 0.10)
        return base + np.where(users["plan_type"] == "ultra", within, 0.0)

    return make_segment_design(
        tmp_path / f"mix{within}.duckdb", users=24_000, draw=draw, conversion=conversion
    )


def _ultra(result: WorkflowResult) -> Finding:
    return next(
        f
        for f in result.findings
        if f.dimension == "plan_type" and f.segment == "ultra" and not f.descriptive
    )


def test_a_gap_that_reverses_within_industries_is_said_to(tmp_path: Path) -> None:
    db = _mix_design(tmp_path, within=0.05)
    # The strata counted here in SQL first (DuckDB keeps one configuration per open file).
    con = duckdb.connect(str(db), read_only=True)
    cells = con.execute(
        """SELECT industry, plan_type = 'ultra', SUM(converted::INT), COUNT(*) FROM users
           GROUP BY 1, 2 ORDER BY 1, 2 DESC"""
    ).fetchall()
    con.close()
    tables = []
    for industry in sorted({c[0] for c in cells}):
        (_, _, a, n1), (_, _, c, n0) = [c for c in cells if c[0] == industry]
        tables.append(np.array([[a, n1 - a], [c, n0 - c]]))
    reference = StratifiedTable(tables)
    result = _run(db)
    ultra = _ultra(result)
    # The trap: overall, ultra converts far worse than the rest.
    assert ultra.significant and ultra.estimates["rate"] < ultra.estimates["rate_rest"] - 0.08
    within = ultra.stratified["industry"]
    assert within["verdict"] == "reverses" and within["ratio"] > 1
    # The pooled odds ratio is statsmodels' on the same strata.
    assert within["measure"] == "odds ratio"
    assert within["ratio"] == pytest.approx(reference.oddsratio_pooled, rel=1e-9)
    # (the statistic, not statsmodels' p-value: it takes 1 - cdf, imprecise this far out)
    assert within["statistic"] == pytest.approx(
        reference.test_null_odds(correction=False).statistic, rel=1e-9
    )
    text = _text(result)
    assert "Within each industry the gap reverses: conversion rate is higher for ultra" in text
    # Other dimensions, unrelated to plan, leave the gap as it is.
    assert ultra.stratified["country"]["verdict"] == "holds"


def test_a_gap_made_only_of_industry_mix_is_said_to_vanish(tmp_path: Path) -> None:
    result = _run(_mix_design(tmp_path, within=0.0))
    ultra = _ultra(result)
    assert ultra.significant
    assert ultra.stratified["industry"]["verdict"] == "vanishes"
    assert "Within each industry the gap vanishes" in _text(result)


def test_mantel_haenszel_matches_statsmodels_with_empty_and_degenerate_strata() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        strata = [
            Stratum(int(rng.integers(0, 30)), 30, int(rng.integers(0, 60)), 60) for _ in range(5)
        ] + [Stratum(0, 0, 4, 9)]  # an empty row: no information, skipped by both
        ours = mantel_haenszel(strata)
        tables = [
            np.array(
                [[s.successes, s.n - s.successes], [s.successes_rest, s.n_rest - s.successes_rest]]
            )
            for s in strata[:-1]
        ]
        ref = StratifiedTable(tables)
        low, high = ref.oddsratio_pooled_confint()
        assert ours.odds_ratio == pytest.approx(ref.oddsratio_pooled, rel=1e-12)
        assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), rel=1e-12)
        assert ours.p_value == pytest.approx(ref.test_null_odds(correction=False).pvalue, rel=1e-9)
        assert ours.strata == 5
    no_odds = mantel_haenszel([Stratum(0, 10, 0, 10)])
    assert no_odds.odds_ratio is None and no_odds.verdict(0.1) == "vanishes"


def test_a_small_expected_count_warning_reaches_the_sentence(tmp_path: Path) -> None:
    """The chi-square's warning (expected counts below 5) is said in the insight that states
    the omnibus, not only kept in the JSON."""
    high = INDUSTRIES[1]
    db = make_segment_design(
        tmp_path / "rare.duckdb",
        users=12_000,
        conversion=lambda u: np.where(u["industry"] == high, 0.40, 0.20),
    )
    con = duckdb.connect(str(db))
    con.execute("UPDATE users SET industry = 'rare_level' WHERE user_id <= 3")
    con.close()
    result = _run(db)
    omnibus = next(
        f
        for f in result.findings
        if f.dimension == "industry" and f.segment is None and f.subject is None
    )
    assert omnibus.significant
    assert any("expected counts are small" in w for w in omnibus.warnings)
    story = next(i.text for i in result.insights if "across industry" in i.text)
    assert "Some expected counts are small" in story and "approximate" in story


def test_a_churn_gap_from_industry_mix_reverses_within_industries(tmp_path: Path) -> None:
    """Churn per paying month: ultra accounts sit in high-churn industries, yet within each
    industry they churn less; the per-month gap is checked within industries (Mantel-Haenszel
    rate ratio) and said to reverse."""
    fast = FIRST_FIVE
    draw = _plan_in_industries(0.85, 0.25)

    def hazard(users: pd.DataFrame) -> np.ndarray:
        base = np.where(users["industry"].isin(fast), 0.08, 0.02)
        return base * np.where(users["plan_type"] == "ultra", 0.7, 1.0)

    db = make_segment_design(
        tmp_path / "churn_mix.duckdb",
        users=30_000,
        draw=draw,
        conversion=lambda u: np.full(len(u), 0.5),
        hazard=hazard,
    )
    from chatter.semantic.engine import Engine
    from chatter.semantic.model import default_model
    from chatter.semantic.warehouse import Warehouse
    from chatter.tools import analyses

    with Warehouse(Engine(db), default_model()) as wh:
        result = analyses.segment_rate_tests(
            wh,
            analyses.SegmentTestParams(metric="churn_rate", dimensions=("plan_type", "industry")),
        )
    ultra = next(f for f in result.findings if f.segment == "ultra" and not f.descriptive)
    # The trap: per paying month, ultra churns more overall.
    assert ultra.estimates["rate"] > ultra.estimates["rate_rest"] and (ultra.p_value or 1) < 1e-6
    within = ultra.stratified["industry"]
    assert within["measure"] == "rate ratio" and within["verdict"] == "reverses"
    assert 0.55 < within["ratio"] < 0.85  # planted 0.7
    assert any(
        "the gap reverses: monthly churn rate is lower for ultra" in w for w in ultra.warnings
    )


def test_mantel_haenszel_rate_test_is_the_poisson_score_test() -> None:
    """Its statistic equals the score test for the group in a Poisson model of the counts with
    one effect per stratum and log exposure as offset (statsmodels GLM)."""
    import statsmodels.api as sm

    from chatter.tools.stats.stratified import mantel_haenszel_rate

    rng = np.random.default_rng(2)
    for _ in range(10):
        strata = [
            Stratum(
                int(rng.integers(0, 40)),
                int(rng.integers(200, 900)),
                int(rng.integers(0, 60)),
                int(rng.integers(300, 2000)),
            )
            for _ in range(5)
        ]
        counts, design, offset, group = [], [], [], []
        for i, s in enumerate(strata):
            for own, (events, exposure) in enumerate(
                [(s.successes_rest, s.n_rest), (s.successes, s.n)]
            ):
                counts.append(events)
                design.append([float(i == k) for k in range(len(strata))])
                offset.append(np.log(exposure))
                group.append([float(own)])
        null = sm.GLM(
            np.array(counts),
            np.array(design),
            family=sm.families.Poisson(),
            offset=np.array(offset),
        ).fit()
        score = float(null.score_test(exog_extra=np.array(group))[0][0])
        assert mantel_haenszel_rate(strata).statistic == pytest.approx(score, rel=1e-6)


def test_a_serial_correlation_warning_reaches_the_trend_sentence() -> None:
    """A trend fitted to a random walk with drift: the residuals are serially correlated, the
    OLS p-value is too optimistic, and the insight stating the trend says so."""
    from chatter.result import StepResult
    from chatter.tools.analyses.result import to_finding
    from chatter.tools.insight import render_insights
    from chatter.tools.stats import correct_findings, ols_trend_test

    rng = np.random.default_rng(4)
    walk = np.cumsum(rng.normal(1.0, 3.0, 40)) + 100
    trend = ols_trend_test(list(walk))
    assert any("serially correlated" in w for w in trend.warnings)
    finding = to_finding(trend, metric="mrr", dimension="month").model_copy(
        update={"source_step": "growth"}
    )
    findings = correct_findings([finding])
    assert findings[0].significant
    step = StepResult(id="growth", type="analysis", status="completed")
    text = " ".join(i.text for i in render_insights([step], findings))
    assert "The residuals are serially correlated, so the trend's p-value" in text
