"""Lifetime value by segment, to the snapshot: monthly ARPU over the monthly churn hazard (churns
per paying month, with its exact Poisson interval), and whether churn per paying month differs
across the segments.

Why per paying month, not "ever churned over accounts": a segment that started recently has had
less time to churn, so its share of accounts ever churned is lower at the same monthly hazard.
Counting churns per month of exposure removes that (under a constant hazard within a segment).
"""

from __future__ import annotations

from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.churn_exposure import (
    ExposureParams,
    segment_exposure,
    undated_churns,
)
from chatter.tools.analyses.ltv_rows import CONFIDENCE, caveat_notes, segment_row
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.snapshot import observation_end
from chatter.tools.stats.rates import rate_homogeneity_test


class LtvParams(ExposureParams):
    """The segment, the revenue, where the account's outcome lives, and the snapshot."""

    metric: str = "monthly_churn_rate"


def ltv_by_segment(warehouse: Warehouse, params: LtvParams | None = None) -> AnalysisResult:
    """Per segment, to the snapshot: churns per paying month (the monthly hazard) with its exact
    95% interval, monthly ARPU (mean, and the median beside it), and LTV = ARPU / hazard with
    the interval the hazard's bounds give. Churn per paying month is compared across the segments by
    the Poisson chi-square of homogeneity."""
    p = params or LtvParams()
    rec = Recorder(warehouse)
    quality = observation_end(warehouse, p, p.snapshot_date)
    exposure = segment_exposure(rec, warehouse, p, quality.snapshot)
    rows = [
        segment_row(level, exposure.churn.get(level, {}), exposure.money.get(level, {}))
        for level in exposure.levels()
    ]
    tested = [r for r in rows if r["paying_months"]]
    seg = p.segment_dimension.split(".")[-1]
    test = rate_homogeneity_test(
        [r["churns"] for r in tested],
        [r["paying_months"] for r in tested],
        [str(r["segment"]) for r in tested],
        unit="paying month",
    )
    findings = [to_finding(test, metric=p.metric, dimension=seg)]
    notes = [
        "monthly_churn = churns / paying months (revenue rows to the snapshot), a constant "
        f"monthly hazard, with its exact {CONFIDENCE:.0%} Poisson interval; "
        "expected_lifetime_months = 1 / monthly_churn; ltv = monthly_arpu / monthly_churn, "
        "undiscounted and before costs, and ltv_low / ltv_high divide the ARPU by the hazard's "
        "upper and lower bounds. Churn is compared across segments per paying month (Poisson "
        "chi-square), since segments observed for less time have had less time to churn.",
        "observed_revenue_per_account = revenue so far / accounts billed: a floor on lifetime "
        "value, since accounts still paying will pay more.",
        f"Segments are {p.entity_table}.{seg}, fixed per account; accounts churned without a "
        "churn date or before their signup are left out of churns and paying months.",
    ]
    if exposure.windowed:
        notes.append(
            f"The filters' window on {p.revenue_period_dimension} applies to churn dates too: "
            "churns in the window per paying months in it."
        )
    notes += caveat_notes(rows, undated_churns(rec, warehouse, p, quality.snapshot))
    notes.append(quality.note())
    summary = {
        "confidence": CONFIDENCE,
        "churns": sum(r["churns"] for r in rows),
        "paying_months": sum(r["paying_months"] for r in rows),
        **quality.summary(),
    }
    quality.qualify(findings)
    return rec.result("ltv_by_segment", rows, findings, notes, summary=summary)
