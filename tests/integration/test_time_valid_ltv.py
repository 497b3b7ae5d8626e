"""Lifetime value and churn across segments, valid in time (issue 13): churn is compared per
paying month, not as the share of accounts that ever churned, and each LTV carries the exact
interval of its hazard and says what it rests on. Each design is generated data in the
contract's schema: the trap first (the naive comparison finds an effect), then that the step
finds none where none was planted and finds the one that was, in its findings and its text."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from run_findings import corrected
from scipy import stats
from statsmodels.stats.rates import confint_poisson
from time_designs import SAME_HAZARD_RECENT_PLAN, plan_hazard_designs

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
    # 5% vs 2% a month; silver's MRR is log-normal (mean 1.65 x the median).
    "planted": {
        "bronze": {"hazard": 0.05, "accounts": 700, "mrr": 10.0},
        "silver": {"hazard": 0.02, "accounts": 700, "mrr": 40.0, "sigma": 1.0},
    },
    # platinum: 10 accounts x 10 paying months, one churn; diamond: 5 x 6 months, none.
    "sparse": {
        "bronze": {"hazard": 0.03, "accounts": 700, "mrr": 10.0},
        "silver": {"hazard": 0.03, "accounts": 700, "mrr": 40.0},
        "platinum": {"months": 10, "accounts": 10, "churned": 1, "mrr": 500.0},
        "diamond": {"months": 6, "accounts": 5, "churned": 0, "mrr": 800.0},
    },
    # Nothing planted: one hazard, one signup window.
    "none": {
        "bronze": {"hazard": 0.03, "accounts": 700, "mrr": 10.0},
        "silver": {"hazard": 0.03, "accounts": 700, "mrr": 40.0},
        "gold": {"hazard": 0.03, "accounts": 700, "mrr": 120.0},
    },
}


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return plan_hazard_designs(tmp_path_factory.mktemp("ltv-designs"), DESIGNS)


def _sql(path: Path, query: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _naive(path: Path) -> tuple[dict[str, float], float]:
    """Each plan's share of converted accounts ever churned, and the chi-square p-value of
    churned vs retained by plan: the old design."""
    table = _sql(
        path,
        """SELECT plan_type, count(*) FILTER (WHERE churned), count(*) FILTER (WHERE NOT churned)
        FROM users WHERE converted GROUP BY 1 ORDER BY 1""",
    )
    p = stats.chi2_contingency([[c, r] for _, c, r in table], correction=False).pvalue
    return {plan: c / (c + r) for plan, c, r in table}, float(p)


def _run(
    path: Path, params: analyses.LtvParams | None = None
) -> tuple[AnalysisResult, list[Finding], list[str]]:
    with Warehouse(Engine(path), default_model()) as wh:
        result = analyses.ltv_by_segment(wh, params)
    findings = corrected({"ltv_analysis": result})
    step = result.to_step("ltv_analysis", "analysis")
    insights = render_insights([step], findings, alpha=0.05, max_insights=10)
    assert (
        audit_insights(insights, [step], findings, parameters=[0.05]) == []
    )  # every number from the run or alpha
    return result, findings, [i.text for i in insights]


def _row(result: AnalysisResult, segment: str) -> dict[str, Any]:
    return next(r for r in result.rows if r["segment"] == segment)


def test_a_plan_that_started_recently_does_not_churn_differently(designs: dict[str, Path]) -> None:
    shares, p_naive = _naive(designs["recent"])
    assert shares["gold"] < 0.5 * min(shares["bronze"], shares["silver"])
    assert p_naive < 1e-10  # the trap: gold had months, not a lower hazard, to churn less
    result, findings, texts = _run(designs["recent"])
    (finding,) = findings
    assert (finding.test, finding.metric) == ("poisson_homogeneity", "monthly_churn_rate")
    assert finding.p_value is not None and finding.p_value > 0.05 and not finding.significant
    for row in result.rows:  # each plan's interval holds the planted 3%
        assert row["monthly_churn_low"] < 0.03 < row["monthly_churn_high"]
    said = " ".join(texts)
    assert "differs across plan" not in said and "No significant difference" in said, texts


def test_a_planted_hazard_difference_is_found_with_its_direction(
    designs: dict[str, Path],
) -> None:
    result, findings, texts = _run(designs["planted"])
    (finding,) = findings
    assert finding.significant and finding.p_adjusted is not None and finding.p_adjusted < 1e-6
    assert 0.04 < finding.estimates["rate(bronze)"] < 0.06
    assert 0.015 < finding.estimates["rate(silver)"] < 0.03
    lead = next(t for t in texts if "Monthly churn rate differs across plan type" in t)
    assert "highest for bronze" in lead and "lowest for silver" in lead
    # silver keeps its accounts longer: the higher LTV, on a heavy-tailed mean ARPU.
    silver = _row(result, "silver")
    assert silver["arpu_heavy_tailed"] and not _row(result, "bronze")["arpu_heavy_tailed"]
    assert silver["monthly_arpu"] > 1.5 * silver["median_monthly_revenue"]
    assert "LTV by plan type is highest for silver" in lead
    assert f"mean ARPU; the median is {silver['median_monthly_revenue']:.1f}" in lead
    assert any("heavy-tailed in silver" in n for n in result.notes)


def test_an_ltv_on_one_churn_has_a_wide_interval_and_says_so(designs: dict[str, Path]) -> None:
    result, _, texts = _run(designs["sparse"])
    platinum = _row(result, "platinum")
    assert (platinum["churns"], platinum["paying_months"]) == (1, 100)
    assert platinum["ltv"] == pytest.approx(500.0 / 0.01)
    assert platinum["ltv_low"] < 10_000 and platinum["ltv_high"] > 1_000_000
    headline = next(t for t in texts if "LTV by plan type" in t)
    assert "highest for platinum at 50,000 (95% interval 8,974 to 2.0M;" in headline
    assert "rests on 1 churn in 100 paying months" in headline
    # diamond has no churn yet: no LTV number, and the text says it cannot be estimated.
    diamond = _row(result, "diamond")
    assert diamond["ltv"] is None and diamond["ltv_low"] is None and diamond["ltv_high"] is None
    assert diamond["monthly_churn"] == 0 and diamond["monthly_churn_high"] > 0
    assert "LTV cannot be estimated yet for diamond (no churns in 30 paying months)" in headline
    assert "diamond at" not in headline


@pytest.mark.parametrize("design", ["planted", "sparse"])
def test_hazards_intervals_and_the_test_match_an_independent_computation(
    designs: dict[str, Path], design: str
) -> None:
    path = designs[design]
    result, findings, _ = _run(path)
    counts = _sql(
        path,
        """SELECT u.plan_type, count(*) FILTER (WHERE u.churned),
          (SELECT count(*) FROM revenue r JOIN users v USING (user_id)
           WHERE v.plan_type = u.plan_type)
        FROM users u WHERE u.converted GROUP BY 1 ORDER BY 1""",
    )
    assert [r["segment"] for r in result.rows] == [plan for plan, _, _ in counts]
    for (plan, churns, months), row in zip(counts, result.rows, strict=True):
        mrr = np.array(
            [
                m
                for (m,) in _sql(
                    path,
                    f"""SELECT r.mrr FROM revenue r JOIN users u
            USING (user_id) WHERE u.plan_type = '{plan}'""",
                )
            ]
        )
        low, high = confint_poisson(churns, months, method="exact-c")
        assert (row["churns"], row["paying_months"]) == (churns, months)
        assert row["monthly_churn"] == pytest.approx(churns / months)
        assert row["monthly_churn_low"] == pytest.approx(low, rel=1e-9, abs=1e-15)
        assert row["monthly_churn_high"] == pytest.approx(high, rel=1e-9)
        assert row["monthly_arpu"] == pytest.approx(mrr.mean())
        assert row["median_monthly_revenue"] == pytest.approx(np.median(mrr))
        if churns:
            assert row["ltv"] == pytest.approx(mrr.mean() * months / churns)
            assert row["ltv_low"] == pytest.approx(mrr.mean() / high)
            assert row["ltv_high"] == pytest.approx(mrr.mean() / low)
    observed = np.array([c for _, c, _ in counts], dtype=float)
    exposure = np.array([t for _, _, t in counts], dtype=float)
    expected = observed.sum() / exposure.sum() * exposure
    (finding,) = findings
    assert finding.p_value == pytest.approx(stats.chisquare(observed, expected).pvalue, rel=1e-9)


def test_no_effect_gives_no_finding(designs: dict[str, Path]) -> None:
    _, p_naive = _naive(designs["none"])
    result, findings, texts = _run(designs["none"])
    assert findings and not [f for f in findings if f.significant]
    assert not any("differs across" in t for t in texts), texts
    assert p_naive > 0.05  # with one signup window the naive test agrees here
    assert all(not r["arpu_heavy_tailed"] and r["churns"] >= 10 for r in result.rows)
    assert not any("rests on" in t for t in texts)


def test_the_snapshot_and_the_step_filters_bound_what_is_counted(
    designs: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "future.duckdb"
    shutil.copy(designs["none"], path)
    con = duckdb.connect(str(path))
    # 40 revenue rows for a month that has not happened; 25 churn dates before their signup.
    con.execute("""INSERT INTO revenue SELECT user_id, DATE '2031-01-01', plan_type, mrr
                   FROM revenue WHERE month = DATE '2025-06-01' ORDER BY user_id LIMIT 40""")
    con.execute("""UPDATE users SET churn_date = signup_date - 3, churned = TRUE
                   WHERE user_id IN (SELECT user_id FROM users WHERE converted AND NOT churned
                   ORDER BY user_id LIMIT 25)""")
    con.close()
    clean, _, _ = _run(designs["none"])
    result, _, _ = _run(path)
    assert result.summary["snapshot_date"] == "2025-06-30"
    assert result.summary["left_out"] == {"churn_before_signup": 25, "future_revenue_rows": 40}
    assert "40 revenue rows for periods after the snapshot" in result.notes[-1]
    assert result.summary["churns"] == clean.summary["churns"]  # the 25 are not churns
    assert (
        sum(r["paying_accounts"] for r in result.rows)
        == sum(r["paying_accounts"] for r in clean.rows) - 25
    )
    pinned, _, _ = _run(path, analyses.LtvParams(snapshot_date=dt.date(2024, 6, 30)))
    assert pinned.summary["snapshot_source"] == "parameter"
    ((months, churns),) = _sql(
        path,
        """SELECT (SELECT count(*) FROM revenue r JOIN users u USING (user_id)
                   WHERE r.month <= DATE '2024-06-30' AND (u.churn_date IS NULL OR u.churn_date >= u.signup_date)),
                  (SELECT count(*) FROM users WHERE converted AND churned
                   AND churn_date <= DATE '2024-06-30' AND churn_date >= signup_date)""",
    )
    assert (pinned.summary["paying_months"], pinned.summary["churns"]) == (months, churns)
    only, findings, texts = _run(
        path, analyses.LtvParams(filters=({"field": "plan_type", "op": "=", "value": "gold"},))
    )
    assert [r["segment"] for r in only.rows] == ["gold"]
    assert not findings[0].testable  # one plan: nothing to compare
    assert any(t.startswith("LTV by plan type is estimated for gold at") for t in texts), texts
    assert math.isfinite(only.rows[0]["ltv"])


def test_a_window_on_the_billing_month_counts_the_churns_in_it(designs: dict[str, Path]) -> None:
    path = designs["recent"]
    window = ["2024-01-01", "2024-06-30"]
    result, findings, _ = _run(
        path, analyses.LtvParams(filters=({"field": "month", "op": "between", "value": window},))
    )
    between = f"BETWEEN DATE '{window[0]}' AND DATE '{window[1]}'"
    counts = _sql(
        path,
        f"""SELECT u.plan_type, count(*) FILTER (WHERE churned AND churn_date {between}),
          count(*) FILTER (WHERE churned),
          (SELECT count(*) FROM revenue r JOIN users v USING (user_id)
           WHERE v.plan_type = u.plan_type AND r.month {between})
        FROM users u WHERE converted AND EXISTS (SELECT 1 FROM revenue r
          WHERE r.user_id = u.user_id AND r.month {between}) GROUP BY 1 ORDER BY 1""",
    )
    for (plan, in_window, ever, months), row in zip(counts, result.rows, strict=True):
        assert (row["segment"], row["churns"], row["paying_months"]) == (plan, in_window, months)
        assert row["monthly_churn_low"] < 0.03 < row["monthly_churn_high"]
        assert ever / months > 2.5 * 0.03  # every later churn over the window's exposure
    assert [r["segment"] for r in result.rows] == ["bronze", "silver"]  # gold came later
    assert not findings[0].significant
    assert any("applies to churn dates too" in n for n in result.notes)
