"""Rate tests across segments: is a ratio measure (conversion, churn) different by segment?

A rate of churned accounts is compared per paying month (``exposure``), not as the share that
ever churned: levels followed for less time have had less time to churn.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from chatter.errors import InvalidQueryError
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.churn_exposure import ExposureParams, undated_churns
from chatter.tools.analyses.model_names import qualify
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.segment_churn import churn_per_exposure, counts_churn
from chatter.tools.analyses.snapshot import TimeRoles, observation_end
from chatter.tools.params import Dimension, FilteredParams, Measure
from chatter.tools.stats import chi_square_test, level_vs_rest_test

MISSING = "(missing)"


class SegmentTestParams(FilteredParams, TimeRoles):
    """Which rate to test across which dimensions' levels. ``exposure``: ``auto`` compares a
    churn rate per paying month (to the snapshot) and any other rate as a share of accounts;
    ``accounts`` forces the share."""

    metric: Measure = "conversion_rate"
    dimensions: tuple[Dimension, ...] = ("plan_type", "industry")
    exposure: Literal["auto", "accounts", "paying_months"] = "auto"
    revenue: Measure = "revenue"  # its rows are the paying months
    snapshot_date: dt.date | None = None


def _per_paying_month(warehouse: Warehouse, p: SegmentTestParams) -> bool:
    churn = counts_churn(warehouse.model, p.metric, p)
    if p.exposure == "paying_months" and not churn:
        raise InvalidQueryError(
            f"exposure 'paying_months' compares churn; {p.metric!r} does not count churned "
            f"accounts (no filter on {p.churned_dimension!r}); use exposure 'accounts'."
        )
    return churn and p.exposure != "accounts"


def _churn_tests(warehouse: Warehouse, p: SegmentTestParams) -> AnalysisResult:
    rec = Recorder(warehouse)
    quality = observation_end(warehouse, p, p.snapshot_date)
    rows: list[dict[str, Any]] = []
    findings = []
    base = ExposureParams(**p.model_dump(include=set(ExposureParams.model_fields)))
    for dimension in p.dimensions:
        qualified = qualify(warehouse.model, dimension, p.entity_table)
        name = qualified.split(".")[-1]
        found, tests = churn_per_exposure(
            rec,
            warehouse,
            base.model_copy(update={"segment_dimension": qualified}),
            quality.snapshot,
            p.metric,
            name,
        )
        rows += found
        findings += tests
    notes = [
        f"{p.metric} counts churned accounts, so the levels are compared on churns per paying "
        "month (revenue rows to the snapshot) rather than the share that ever churned: levels "
        "whose accounts started later have had less time to churn. Omnibus: Poisson chi-square "
        "of homogeneity across the levels; per level: the exact conditional rate test against "
        "all other levels together. Assumes a constant monthly hazard within each level; "
        "exposure 'accounts' tests the share instead.",
    ]
    undated = undated_churns(rec, warehouse, base, quality.snapshot)
    if undated:
        notes.append(f"{undated:,} churned accounts have no churn date and are left out.")
    notes.append(quality.note())
    quality.qualify(findings)
    return rec.result("segment_rate_tests", rows, findings, notes, summary=quality.summary())


def segment_rate_tests(
    warehouse: Warehouse, params: SegmentTestParams | None = None
) -> AnalysisResult:
    """For each dimension: one omnibus chi-square test across all its levels, and one test of
    each level against the rest (two-proportion z, or Fisher's exact when counts are small).

    ``metric`` must be a ratio of two counts in the semantic model (e.g. conversion_rate =
    converted_users / users); its numerator and denominator give the contingency counts.
    """
    p = params or SegmentTestParams()
    measure = warehouse.model.measure(p.metric).measure
    if measure.agg != "ratio" or not measure.numerator or not measure.denominator:
        raise InvalidQueryError(
            f"{p.metric!r} is not a ratio measure, so it has no counts to test; "
            "choose a rate such as conversion_rate or churn_rate."
        )
    if _per_paying_month(warehouse, p):
        return _churn_tests(warehouse, p)
    num, den = measure.numerator.split(".")[-1], measure.denominator.split(".")[-1]
    rec = Recorder(warehouse)
    rows, findings = [], []
    pairs: list[str] = []
    for dimension in p.dimensions:
        qualified = qualify(warehouse.model, dimension, p.entity_table)
        name = qualified.split(".")[-1]
        data = rec.query(
            {"measures": [num, den], "dimensions": [qualified], "filters": list(p.filters)}
        )
        levels = [
            (MISSING if r[name] is None else str(r[name]), int(r[num] or 0), int(r[den] or 0))
            for r in data
        ]
        levels = [lv for lv in levels if lv[2] > 0]
        total_hits = sum(h for _, h, _ in levels)
        total_n = sum(n for _, _, n in levels)
        # Two levels are one question (does A differ from B?): it is asked once, as the smaller
        # level against the other; the omnibus and the mirror test say the same and are shown
        # as descriptive, out of the correction family.
        pair = len(levels) == 2
        asked = min(range(len(levels)), key=lambda k: (levels[k][2], k)) if pair else None
        pairs += [name] if pair else []
        findings.append(
            to_finding(
                chi_square_test(
                    [[h, n - h] for _, h, n in levels],
                    [lv for lv, _, _ in levels],
                    (num, f"not {num}"),
                ),
                metric=p.metric,
                dimension=name,
                descriptive=pair,
            )
        )
        for k, (level, hits, n) in enumerate(levels):
            rest_n, rest_hits = total_n - n, total_hits - hits
            rows.append(
                {
                    "dimension": name,
                    "segment": level,
                    den: n,
                    num: hits,
                    p.metric: hits / n,
                    f"{p.metric}_rest": rest_hits / rest_n if rest_n else None,
                }
            )
            findings.append(
                to_finding(
                    level_vs_rest_test(hits, n, rest_hits, rest_n, label=level),
                    metric=p.metric,
                    dimension=name,
                    segment=level,
                    descriptive=pair and k != asked,
                )
            )
    notes = [
        f"{p.metric} = {num} / {den}. Omnibus: chi-square across all levels of a dimension; "
        "per level: that level against all other levels together. Missing values form a "
        f"level of their own, {MISSING!r}."
    ]
    if pairs:
        notes.append(
            f"{', '.join(pairs)} {'has' if len(pairs) == 1 else 'have'} two levels: one question, "
            "tested once (the smaller level against the other); the omnibus and the mirror "
            "test are shown as descriptive, outside the correction."
        )
    return rec.result("segment_rate_tests", rows, findings, notes)
