"""Revenue growth: revenue per period, its period-over-period and compound growth, and its trend."""

from __future__ import annotations

from typing import Any

import numpy as np

from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.params import Dimension, FilteredParams, Measure
from chatter.tools.stats import mann_kendall_test, ols_trend_test


class GrowthParams(FilteredParams):
    """Which revenue measure to follow over which period."""

    revenue: Measure = "mrr"
    customers: Measure = "paying_users"
    period_dimension: Dimension = "month"


def revenue_growth(warehouse: Warehouse, params: GrowthParams | None = None) -> AnalysisResult:
    """Revenue per period with period-over-period growth, the compound growth rate, and two trend
    tests on revenue: an OLS slope with its confidence interval and Mann-Kendall (no shape
    assumed)."""
    p = params or GrowthParams()
    rec = Recorder(warehouse)
    data = [
        r
        for r in rec.query(
            {
                "measures": [p.revenue, p.customers],
                "dimensions": [p.period_dimension],
                "filters": list(p.filters),
            }
        )
        if r[p.period_dimension] is not None
    ]
    rows, previous = [], None
    for r in data:
        value = r[p.revenue] or 0.0
        rows.append(
            {
                "period": r[p.period_dimension],
                p.revenue: value,
                p.customers: r[p.customers],
                "growth": (value - previous) / previous if previous else None,
            }
        )
        previous = value
    series = [r[p.revenue] for r in rows]
    findings = [
        to_finding(
            ols_trend_test(series),
            metric=p.revenue,
            dimension=p.period_dimension,
            subject="trend over time",
        ),
        to_finding(
            mann_kendall_test(series),
            metric=p.revenue,
            dimension=p.period_dimension,
            subject="trend over time",
        ),
    ]
    summary: dict[str, Any] = {"periods": len(rows)}
    if len(series) >= 2 and series[0] > 0 and series[-1] > 0:
        summary.update(
            first=series[0],
            last=series[-1],
            compound_growth=(series[-1] / series[0]) ** (1 / (len(series) - 1)) - 1,
        )
    growths = [r["growth"] for r in rows if r["growth"] is not None]
    if growths:
        summary.update(
            median_growth=float(np.median(growths)),
            periods_growing=sum(g > 0 for g in growths),
            periods_compared=len(growths),
        )
    notes = [
        "growth: change against the previous period; compound_growth: (last / first) ^ "
        "(1 / (periods - 1)) - 1. The last period may be incomplete if the data ends mid-way."
    ]
    return rec.result("revenue_growth", rows, findings, notes, summary=summary)
