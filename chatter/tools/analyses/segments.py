"""Rate tests across segments: is a ratio measure (conversion, churn) different by segment?"""

from __future__ import annotations

from chatter.errors import InvalidQueryError
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.model_names import qualify
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.params import Dimension, FilteredParams, Measure, Table
from chatter.tools.stats import chi_square_test, level_vs_rest_test

MISSING = "(missing)"


class SegmentTestParams(FilteredParams):
    """Which rate to test across which dimensions' levels."""

    metric: Measure = "conversion_rate"
    dimensions: tuple[Dimension, ...] = ("plan_type", "industry")
    entity_table: Table = "users"


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
    num, den = measure.numerator.split(".")[-1], measure.denominator.split(".")[-1]
    rec = Recorder(warehouse)
    rows, findings = [], []
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
        findings.append(
            to_finding(
                chi_square_test(
                    [[h, n - h] for _, h, n in levels],
                    [lv for lv, _, _ in levels],
                    (num, f"not {num}"),
                ),
                metric=p.metric,
                dimension=name,
            )
        )
        for level, hits, n in levels:
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
                )
            )
    notes = [
        f"{p.metric} = {num} / {den}. Omnibus: chi-square across all levels of a dimension; "
        "per level: that level against all other levels together. Missing values form a "
        f"level of their own, {MISSING!r}."
    ]
    return rec.result("segment_rate_tests", rows, findings, notes)
