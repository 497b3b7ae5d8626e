"""Analyses valid in time (issue 13), on generated data built to fool analyses that ignore it:
each design first shows the trap is real (the naive comparison finds an effect), then that the
analysis finds none where none was planted and finds the one that was, in its findings and in
the insight text."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from run_findings import corrected
from scipy import stats
from time_designs import make_churn_design

from chatter.result import Finding
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.insight import audit_insights, render_insights

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("time-designs")
    return {
        d: make_churn_design(root / f"{d}.duckdb", d)
        for d in ("leakage", "immortal", "planted", "none")
    }


@pytest.fixture
def warehouse(designs: dict[str, Path], request: pytest.FixtureRequest) -> Iterator[Warehouse]:
    with Warehouse(Engine(designs[request.param]), default_model()) as wh:
        yield wh


def _naive(path: Path, feature: str) -> tuple[float, float, float]:
    """Ever-adopters' churn share against never-adopters', and its p-value: the old design."""
    con = duckdb.connect(str(path), read_only=True)
    (a, ca, r, cr) = con.execute(
        f"""SELECT count(*) FILTER (WHERE used), count(*) FILTER (WHERE used AND churned),
               count(*) FILTER (WHERE NOT used), count(*) FILTER (WHERE NOT used AND churned)
        FROM (SELECT churned, user_id IN (SELECT user_id FROM events
              WHERE event_type = '{feature}') AS used FROM users WHERE converted)"""
    ).fetchone()
    con.close()
    p = stats.chi2_contingency([[ca, a - ca], [cr, r - cr]], correction=False).pvalue
    return ca / a, cr / r, float(p)


def _run(wh: Warehouse) -> tuple[list[Finding], list[str]]:
    result = analyses.churn_relationship(wh)
    findings = corrected({"churn_relationship": result})
    step = result.to_step("churn_relationship", "statistical_test")
    texts = [i.text for i in render_insights([step], findings, alpha=0.05, max_insights=10)]
    return findings, texts


def test_a_feature_used_only_when_leaving_is_no_churn_driver(designs: dict[str, Path]) -> None:
    adopters, others, p = _naive(designs["leakage"], "cancel_flow")
    assert (adopters, others) == (1.0, 0.0) and p < 1e-10  # the trap: 100% vs 0%
    with Warehouse(Engine(designs["leakage"]), default_model()) as wh:
        findings, texts = _run(wh)
    assert not [f for f in findings if f.segment == "cancel_flow" and f.significant]
    assert not any("cancel_flow" in t for t in texts), texts
    assert not [f for f in findings if f.significant], findings


def test_a_feature_adopted_at_a_constant_rate_is_no_retention_driver(
    designs: dict[str, Path],
) -> None:
    adopters, others, p = _naive(designs["immortal"], "exports")
    assert adopters < others and p < 0.001  # the trap: long lives had more months to adopt
    with Warehouse(Engine(designs["immortal"]), default_model()) as wh:
        findings, texts = _run(wh)
    assert not [f for f in findings if f.significant], [(f.segment, f.p_adjusted) for f in findings]
    assert not any("lower for" in t for t in texts), texts


def test_a_planted_retention_effect_is_found_with_its_rate_ratio(designs: dict[str, Path]) -> None:
    with Warehouse(Engine(designs["planted"]), default_model()) as wh:
        findings, texts = _run(wh)
    hits = [f for f in findings if f.significant]
    assert [f.segment for f in hits] == ["sync"]
    assert hits[0].effect_size is not None and 0.35 < hits[0].effect_size < 0.7  # planted 0.5
    assert hits[0].ci_low is not None and hits[0].ci_high is not None and hits[0].ci_high < 1
    said = [t for t in texts if "lower for early adopters of sync" in t]
    assert said and "per paying month" in said[0]
    assert "An association: early adopters of sync may differ" in said[0]  # said, not a note


def test_no_effect_gives_no_finding(designs: dict[str, Path]) -> None:
    with Warehouse(Engine(designs["none"]), default_model()) as wh:
        findings, _ = _run(wh)
    assert findings and not [f for f in findings if f.significant]


def test_the_snapshot_and_rows_left_out_are_reported(
    designs: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "future.duckdb"
    path.write_bytes(designs["planted"].read_bytes())
    con = duckdb.connect(str(path))
    # 200 signups dated in the future, 300 churn dates before their signup.
    con.execute("""UPDATE users SET signup_date = DATE '2031-01-01'
                   WHERE user_id IN (SELECT user_id FROM users WHERE churn_date IS NULL
                   ORDER BY user_id LIMIT 200)""")
    con.execute("""UPDATE users SET churn_date = signup_date - 3, churned = TRUE
                   WHERE converted AND user_id IN (SELECT user_id FROM users WHERE converted
                   ORDER BY user_id DESC LIMIT 300)""")
    con.close()
    with Warehouse(Engine(path), default_model()) as wh:
        result = analyses.churn_relationship(wh)
        pinned = analyses.churn_relationship(
            wh, analyses.ChurnParams(snapshot_date=dt.date(2024, 12, 31))
        )
    assert result.summary["snapshot_date"].startswith("2025-06")  # not 2031: the data, to today
    assert result.summary["left_out"]["future_signups"] == 200
    assert result.summary["left_out"]["churn_before_signup"] == 300
    note = result.notes[-1]
    assert "200 signups dated after the snapshot" in note
    assert "300 churn dates before their signup" in note
    assert pinned.summary["snapshot_date"] == "2024-12-31"
    assert pinned.summary["snapshot_source"] == "parameter"
    assert pinned.summary["accounts_at_landmark"] < result.summary["accounts_at_landmark"]
    assert math.isfinite(pinned.summary["paying_months_after_landmark"])
    # The insight says what was left out, in its own text, with numbers from the run.
    for run, future in ((result, True), (pinned, False)):
        findings = corrected({"churn_relationship": run})
        step = run.to_step("churn_relationship", "statistical_test")
        insights = render_insights([step], findings, alpha=0.05, max_insights=10)
        assert audit_insights(insights, [step], findings, parameters=[0.05]) == []
        said = " ".join(i.text for i in insights)
        # Impossible dates always; rows after the snapshot only when the data set it.
        assert f"Observed to {run.summary['snapshot_date']}; left out " in said, said
        assert "300 churn dates before their signup (accounts left out of churn)" in said
        assert ("200 signups dated after the snapshot" in said) is future, said
        assert "counted as still active" not in said  # a churn after an asked snapshot is fine
