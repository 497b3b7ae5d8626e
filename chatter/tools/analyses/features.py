"""Feature adoption by segment (churn of early adopters is in ``churn_features``)."""

from __future__ import annotations

from typing import Any

from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.model_names import qualify
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.params import Dimension, FilteredParams, Measure, Table
from chatter.tools.stats import chi_square_test


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
