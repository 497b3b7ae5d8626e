"""Cohorts valid in time (issue 13): a cohort whose trials have not all ended is shown but not
tested, a retention period that has not ended is not shown, and rows after the snapshot are
left out. The trap is shown first: tested naively, flat conversion looks like a collapse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from run_findings import corrected
from scipy import stats
from time_designs import make_churn_design, make_cohort_design

from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.insight import render_insights

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cohort-designs")
    return {d: make_cohort_design(root / f"{d}.duckdb", d) for d in ("flat", "rising")}


def _run(path: Path, grain: str = "month") -> tuple[analyses.AnalysisResult, list, list[str]]:
    with Warehouse(Engine(path), default_model()) as wh:
        result = analyses.cohort_analysis(wh, analyses.CohortParams(grain=grain))
    findings = corrected({"cohort_analysis": result})
    step = result.to_step("cohort_analysis", "analysis")
    return result, findings, [i.text for i in render_insights([step], findings, alpha=0.05)]


def _naive(path: Path, grain: str) -> tuple[float, list[float]]:
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute(
        f"""SELECT date_trunc('{grain}', signup_date) AS c, count(*) FILTER (WHERE converted),
            count(*) FILTER (WHERE NOT converted) FROM users GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    con.close()
    table = [[a, b] for _, a, b in rows]
    return float(stats.chi2_contingency(table, correction=False).pvalue), [
        a / (a + b) for a, b in table
    ]


@pytest.mark.parametrize("grain", ["month", "week"])
def test_flat_conversion_with_unfinished_trials_is_no_finding(
    designs: dict[str, Path], grain: str
) -> None:
    p, rates = _naive(designs["flat"], grain)
    assert p < 1e-6 and rates[-1] == min(rates)  # the trap: the newest cohort looks worst
    result, findings, texts = _run(designs["flat"], grain)
    assert not [f for f in findings if f.significant], [(f.test, f.p_adjusted) for f in findings]
    assert not any("trend" in t and "downward" in t for t in texts), texts
    incomplete = result.summary["incomplete_cohorts"]
    assert incomplete and incomplete[-1] == max(str(r["cohort"]) for r in result.rows)
    assert all(not r["complete"] for r in result.rows if str(r["cohort"]) in incomplete)


def test_a_planted_rise_in_conversion_is_found_on_complete_cohorts(
    designs: dict[str, Path],
) -> None:
    result, findings, texts = _run(designs["rising"])
    trend = next(f for f in findings if f.test == "mann_kendall")
    assert trend.significant and trend.effect_size is not None and trend.effect_size > 0
    said = [t for t in texts if "upward" in t]
    assert said and "The cohort 2025-06-01 is left out: its trials have not all ended" in said[0]
    # The conversion of each complete cohort equals SQL by hand.
    con = duckdb.connect(str(designs["rising"]), read_only=True)
    by_hand = dict(
        con.execute(
            """SELECT CAST(date_trunc('month', signup_date) AS DATE), avg(converted::INT)
               FROM users GROUP BY 1"""
        ).fetchall()
    )
    con.close()
    for row in result.rows:
        assert row["conversion_rate"] == pytest.approx(
            by_hand[dt.date.fromisoformat(row["cohort"])]
        )


def test_future_signups_and_unended_periods_are_not_retention(tmp_path: Path) -> None:
    path = make_churn_design(tmp_path / "churn.duckdb", "none")
    con = duckdb.connect(str(path))
    con.execute("""UPDATE users SET signup_date = DATE '2031-01-05'
                   WHERE user_id IN (SELECT user_id FROM users WHERE churn_date IS NULL
                   ORDER BY user_id LIMIT 200)""")
    con.close()
    with Warehouse(Engine(path), default_model()) as wh:
        result = analyses.cohort_analysis(wh)
    snapshot = dt.date.fromisoformat(result.summary["snapshot_date"])
    assert snapshot < dt.date(2026, 1, 1)
    assert result.summary["left_out"]["future_signups"] == 200
    cohorts = {dt.date.fromisoformat(r["cohort"]) for r in result.rows}
    assert max(cohorts) <= snapshot  # no cohort from the future, none "100% retained"
    for r in result.rows:
        if r["periods_since_signup"] is None:
            continue
        start = dt.date.fromisoformat(r["cohort"])
        months = start.year * 12 + start.month - 1 + r["periods_since_signup"] + 1
        assert dt.date(months // 12, months % 12 + 1, 1) <= snapshot + dt.timedelta(days=1)
    assert "200 signups dated after the snapshot" in result.notes[-1]
