"""Churn across segments per paying month (issue 13): the segment rate tests of a churn rate
compare churns per month of exposure, not the share of accounts that ever churned, which favours
levels whose accounts started recently. Generated data in the contract's schema: the trap
first, then no finding where none was planted and the planted one found, in the findings and in
the insight text, with the numbers checked against statsmodels and scipy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from run_findings import corrected
from scipy import stats
from statsmodels.stats import rates as sm_rates
from time_designs import SAME_HAZARD_RECENT_PLAN, plan_hazard_designs

from chatter.errors import InvalidQueryError
from chatter.result import Finding
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.analyses import AnalysisResult
from chatter.tools.insight import audit_insights, render_insights

pytestmark = pytest.mark.integration

DESIGNS: dict[str, dict[str, dict[str, Any]]] = {
    "recent": SAME_HAZARD_RECENT_PLAN,
    # Planted: bronze churns 5% a month, silver and gold 2%, all over the same window.
    "planted": {
        plan: {"hazard": hazard, "accounts": 700, "mrr": mrr}
        for plan, hazard, mrr in (
            ("bronze", 0.05, 10.0),
            ("silver", 0.02, 40.0),
            ("gold", 0.02, 120.0),
        )
    },
    # One 3% hazard, one window; bronze's unconverted trials are mostly marked churned.
    "cancelled_trials": {
        plan: {"hazard": 0.03, "accounts": 700, "mrr": 10.0, "trial_churn": share}
        for plan, share in (("bronze", 0.9), ("silver", 0.0), ("gold", 0.0))
    },
}


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return plan_hazard_designs(tmp_path_factory.mktemp("segment-churn"), DESIGNS)


def _run(path: Path, **params: Any) -> tuple[AnalysisResult, list[Finding], list[str]]:
    p = analyses.SegmentTestParams(metric="churn_rate", dimensions=("plan_type",), **params)
    with Warehouse(Engine(path), default_model()) as wh:
        result = analyses.segment_rate_tests(wh, p)
    findings = corrected({"churn_tests": result})
    step = result.to_step("churn_tests", "statistical_test")
    insights = render_insights([step], findings, alpha=0.05, max_insights=10)
    assert audit_insights(insights, [step], findings, parameters=[0.05]) == []
    return result, findings, [i.text for i in insights]


def _omnibus(findings: list[Finding]) -> Finding:
    return next(f for f in findings if f.segment is None)


def test_a_plan_that_started_recently_is_not_called_different(designs: dict[str, Path]) -> None:
    naive, naive_findings, _ = _run(designs["recent"], exposure="accounts")
    shares = {r["segment"]: r["churn_rate"] for r in naive.rows}
    assert shares["gold"] < 0.5 * min(shares["bronze"], shares["silver"])
    assert _omnibus(naive_findings).significant  # the trap: gold had less time, not less churn
    result, findings, texts = _run(designs["recent"])
    omnibus = _omnibus(findings)
    assert (omnibus.test, omnibus.metric) == ("poisson_homogeneity", "monthly_churn_rate")
    assert not [f for f in findings if f.significant], [f.summary for f in findings]
    assert all(0.02 < r["monthly_churn_rate"] < 0.04 for r in result.rows)
    assert not any("differs across" in t or "per paying month" in t for t in texts), texts


def test_a_planted_hazard_is_found_with_its_direction(designs: dict[str, Path]) -> None:
    _, findings, texts = _run(designs["planted"])
    assert _omnibus(findings).significant
    bronze = next(f for f in findings if f.segment == "bronze")
    assert bronze.test == "poisson_rate_ratio" and bronze.significant
    assert bronze.effect_size is not None and bronze.effect_size > 1.8
    said = next(t for t in texts if "plan type" in t)
    assert "Monthly churn rate differs across plan type (Poisson chi-square" in said, said
    # Silver and gold share one hazard: bronze is set apart, and compared with them.
    assert "higher for bronze vs the 2 alike levels (" in said, said
    assert "per paying month" in said and "do not differ from one another" in said, said


def test_counts_and_p_values_match_an_independent_computation(designs: dict[str, Path]) -> None:
    result, findings, _ = _run(designs["planted"])
    rows = {r["segment"]: r for r in result.rows}
    churns = [rows[s]["churns"] for s in sorted(rows)]
    months = [rows[s]["paying_months"] for s in sorted(rows)]
    expected = [sum(churns) * t / sum(months) for t in months]
    assert _omnibus(findings).p_value == pytest.approx(
        stats.chisquare(churns, expected).pvalue, rel=1e-9
    )
    for level, row in rows.items():
        # Each level against its comparison group (the alike levels, or all the others).
        group = [
            rows[s]
            for s in (
                [x for x in rows if x != level]
                if row["compared_with"] == "all others"
                else row["compared_with"].split(", ")
            )
        ]
        rest_c = sum(r["churns"] for r in group)
        rest_t = sum(r["paying_months"] for r in group)
        want = sm_rates.test_poisson_2indep(
            row["churns"], row["paying_months"], rest_c, rest_t, method="exact-cond"
        ).pvalue
        got = next(f for f in findings if f.segment == level).p_value
        assert got == pytest.approx(want, rel=1e-9)
        assert row["monthly_churn_rate"] == pytest.approx(row["churns"] / row["paying_months"])
        assert row["monthly_churn_rate_rest"] == pytest.approx(rest_c / rest_t)


def test_other_rates_and_a_wrong_exposure(designs: dict[str, Path]) -> None:
    with Warehouse(Engine(designs["planted"]), default_model()) as wh:
        conversion = analyses.segment_rate_tests(
            wh, analyses.SegmentTestParams(dimensions=("plan_type",))
        )
        assert conversion.findings[0].test == "chi_square"  # not a churn: a share of accounts
        with pytest.raises(InvalidQueryError, match="'conversion_rate' does not count churned"):
            analyses.segment_rate_tests(
                wh,
                analyses.SegmentTestParams(dimensions=("plan_type",), exposure="paying_months"),
            )


def test_trials_marked_churned_are_not_paying_churn(designs: dict[str, Path]) -> None:
    path = designs["cancelled_trials"]
    con = duckdb.connect(str(path), read_only=True)
    table = con.execute(
        """SELECT plan_type, count(*) FILTER (WHERE churned),
                  count(*) FILTER (WHERE converted) FROM users GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    con.close()
    # The trap: churned over converted, counting every churned row, puts bronze far above.
    naive = {plan: c / n for plan, c, n in table}
    assert naive["bronze"] > naive["silver"] + 0.1 and naive["bronze"] > naive["gold"] + 0.1
    for exposure in ("accounts", "auto"):
        result, findings, texts = _run(path, exposure=exposure)
        assert not [f for f in findings if f.significant], (exposure, findings)
        assert all(r["churn_rate"] < 0.5 for r in result.rows)
        assert not any("differs across" in t for t in texts), texts
