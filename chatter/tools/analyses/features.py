"""Feature analyses: adoption by segment, and churn of each feature's adopters."""

from __future__ import annotations

from typing import Any

from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.model_names import qualify
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.params import Dimension, FilteredParams, Measure, Table
from chatter.tools.stats import (
    chi_square_test,
    level_vs_rest_test,
)


class AdoptionParams(FilteredParams):
    """Which features' adoption to compare across which segments."""

    feature_dimension: Dimension = "event_type"
    segment_dimension: Dimension = "plan_type"
    adopters: Measure = "active_users"
    population: Measure = "users"
    entity_table: Table = "users"


def adoption_by_segment(
    warehouse: Warehouse, params: AdoptionParams | None = None
) -> AnalysisResult:
    """Share of each segment's accounts that used each feature; per feature, a chi-square test
    of whether adoption differs across the segment's levels."""
    p = params or AdoptionParams()
    rec = Recorder(warehouse)
    segment = qualify(warehouse.model, p.segment_dimension, p.entity_table)
    seg = segment.split(".")[-1]
    used = rec.query(
        {
            "measures": [p.adopters],
            "dimensions": [p.feature_dimension, segment],
            "filters": list(p.filters),
        }
    )
    sizes = {
        r[seg]: r[p.population] or 0
        for r in rec.query(
            {"measures": [p.population], "dimensions": [segment], "filters": list(p.filters)}
        )
    }
    by_feature: dict[str, dict[Any, int]] = {}
    for r in used:
        if r[p.feature_dimension] is not None and r[seg] in sizes:
            by_feature.setdefault(r[p.feature_dimension], {})[r[seg]] = r[p.adopters] or 0
    rows, findings = [], []
    levels = [level for level in sizes if sizes[level]]
    for feature in sorted(by_feature):
        counts = by_feature[feature]
        for level in levels:
            n_used = counts.get(level, 0)
            rows.append(
                {
                    "feature": feature,
                    "segment": level,
                    "adopters": n_used,
                    "accounts": sizes[level],
                    "adoption_rate": n_used / sizes[level],
                }
            )
        table = [[counts.get(level, 0), sizes[level] - counts.get(level, 0)] for level in levels]
        findings.append(
            to_finding(
                chi_square_test(table, [str(level) for level in levels], ("used", "did not use")),
                metric="adoption_rate",
                dimension=seg,
                subject=feature,
            )
        )
    notes = [
        f"An adopter of a feature is an account of {p.entity_table} with at least one "
        f"{p.feature_dimension} event of it; segments are {segment}."
    ]
    return rec.result("adoption_by_segment", rows, findings, notes)


class ChurnParams(FilteredParams):
    """Churn of each feature's adopters against non-adopters."""

    feature_dimension: Dimension = "event_type"
    customers: Measure = "converted_users"
    churned: Measure = "churned_users"
    metric: Measure = "churn_rate"


def churn_relationship(warehouse: Warehouse, params: ChurnParams | None = None) -> AnalysisResult:
    """Churn of each feature's adopters against the paying accounts that never used it, tested
    (two-proportion z-test, or Fisher's exact test for small counts)."""
    p = params or ChurnParams()
    rec = Recorder(warehouse)
    by_feature = rec.query(
        {
            "measures": [p.customers, p.churned],
            "dimensions": [p.feature_dimension],
            "filters": list(p.filters),
        }
    )
    total = rec.query({"measures": [p.customers, p.churned], "filters": list(p.filters)})[0]
    all_customers, all_churned = total[p.customers] or 0, total[p.churned] or 0
    rows, findings = [], []
    for r in by_feature:
        feature = r[p.feature_dimension]
        if feature is None:
            continue
        n_a, c_a = r[p.customers] or 0, r[p.churned] or 0
        n_r, c_r = all_customers - n_a, all_churned - c_a
        rate_a = c_a / n_a if n_a else None
        rate_r = c_r / n_r if n_r else None
        rows.append(
            {
                "feature": feature,
                "adopters": n_a,
                "adopter_churn_rate": rate_a,
                "non_adopters": n_r,
                "non_adopter_churn_rate": rate_r,
                "difference": rate_a - rate_r
                if rate_a is not None and rate_r is not None
                else None,
                "relative_risk": rate_a / rate_r if rate_a is not None and rate_r else None,
            }
        )
        findings.append(
            to_finding(
                level_vs_rest_test(c_a, n_a, c_r, n_r, label=str(feature)),
                metric=p.metric,
                dimension=p.feature_dimension,
                segment=str(feature),
                subject=f"adopters of {feature} vs non-adopters",
            )
        )
    notes = [
        "Among paying accounts. Observational: adopters may differ from non-adopters in "
        "other ways (tenure, plan, size), so a difference is an association, not proof "
        "that the feature causes retention."
    ]
    return rec.result(
        "churn_relationship",
        rows,
        findings,
        notes,
        summary={"paying_accounts": all_customers, "churned": all_churned},
    )
