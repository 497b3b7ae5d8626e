"""Charts declared per analysis tool: each draws what its step found, from the rows that analysis
is known to return. ``charts.chart_spec`` asks here first and infers from the columns' values
when the step's tool has no chart here or its rows lack the columns that chart needs.

Inference reads values, not meaning: it drew the cohort analysis' period counter as a series,
the segment tests' sizes instead of their rates, and summed account ids. docs/charts.md lists
what each tool's chart shows and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chatter.chart_parts import (
    Chart,
    Spec,
    field_name,
    fresh,
    has,
    heatmap,
    nominal,
    paired_bars,
    quantitative,
    tooltips,
    utc_dates,
    utc_time,
)

if TYPE_CHECKING:
    from chatter.result import StepResult

ToolChart = Callable[["StepResult"], Chart | None]
# What the cohort chart's lower panel keeps of a cohort's rows (the same on each of its periods).
_COHORT_KEYS = ("cohort", "complete", "users", "converted_users", "conversion_rate")
# Legend entries of the segment chart: a level with its interval, and what it was tested against.
LEVEL, COMPARED = "level (95% interval)", "levels compared with"


def tool_chart(step: StepResult) -> Chart | None:
    """The chart declared for the step's tool, or None (no such chart, no rows, or not the
    columns it draws)."""
    build = TOOL_CHARTS.get(step.tool or "")
    return build(step) if build is not None and step.rows else None


def cohort_chart(step: StepResult) -> Chart | None:
    """Retention by periods since signup, one line per signup cohort (lines rather than a
    heatmap: a curve shows how fast a cohort decays, and cohorts compare by height); below,
    each cohort's conversion by its start, cohorts whose trials have not all ended marked."""
    if not has(step, "cohort", "periods_since_signup", "retention_rate", "conversion_rate"):
        return None
    curves = [
        r
        for r in step.rows
        if r.get("periods_since_signup") is not None and r.get("retention_rate") is not None
    ]
    per_cohort: dict[Any, dict[str, Any]] = {}
    for r in step.rows:  # conversion is the cohort's, repeated on each of its periods
        per_cohort.setdefault(r["cohort"], {k: r.get(k) for k in _COHORT_KEYS if k in r})
    cohorts = list(per_cohort.values())
    retention = {
        "data": {"values": curves},
        "width": 600,
        "height": 300,
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {**quantitative("periods_since_signup"), "axis": {"tickMinStep": 1}},
            "y": quantitative("retention_rate", rate=True),
            # ordinal: a sequential scheme orders the cohorts, oldest to newest
            "color": {**nominal("cohort"), "type": "ordinal", "scale": {"scheme": "viridis"}},
            "tooltip": tooltips(curves, list(curves[0]) if curves else []),
        },
    }
    point = {"type": "point", "filled": True, "size": 60}
    conversion = {
        "data": {"values": cohorts, "format": utc_dates("cohort")},
        "width": 600,
        "height": 200,
        "encoding": {"x": utc_time("cohort"), "y": quantitative("conversion_rate", rate=True)},
        "layer": [
            {"mark": "line"},
            {
                "mark": point,
                "encoding": {
                    "color": nominal("complete") if has(step, "complete") else {"value": "#4c78a8"},
                    "tooltip": tooltips(cohorts, list(cohorts[0])),
                },
            },
        ],
    }
    panels = [retention, conversion] if curves else [conversion]
    what = (
        "Line chart of retention_rate by periods_since_signup, one line per cohort; below, "
        "conversion_rate by cohort."
        if curves
        else "Line chart of conversion_rate by cohort."
    )
    # the cohorts' colours and the completeness marks are two legends, not one scale
    return what, {"vconcat": panels, "resolve": {"scale": {"color": "independent"}}}


def segment_rate_chart(step: StepResult) -> Chart | None:
    """Each level's rate (the column ``<rate>_rest`` accompanies) with its 95% interval when the
    rows carry ``<rate>_low``/``<rate>_high``, and a tick at the rate of the levels it was tested
    against; one panel per dimension, levels by rate."""
    columns = step.columns
    rate = next((c for c in columns if f"{c}_rest" in columns), None)
    if rate is None or not has(step, "dimension", "segment"):
        return None
    low, high, rest = f"{rate}_low", f"{rate}_high", f"{rate}_rest"
    y = {
        **nominal("segment"),
        "title": None,
        "sort": {"field": field_name(rate), "order": "descending"},
    }
    tips = tooltips(step.rows, columns)
    layers: list[Spec] = []
    if has(step, low, high):
        layers.append(
            {
                "mark": {"type": "errorbar", "ticks": True},
                "encoding": {
                    "y": y,
                    "x": quantitative(low, rate=True, title=rate),
                    "x2": {"field": field_name(high)},
                    "color": {"datum": LEVEL, "title": None},
                },
            }
        )
    layers += [
        {
            "mark": {"type": "point", "filled": True, "size": 70},
            "encoding": {
                "y": y,
                "x": quantitative(rate, rate=True),
                "color": {"datum": LEVEL, "title": None},
                "tooltip": tips,
            },
        },
        {
            "mark": {"type": "tick", "thickness": 2},
            "encoding": {
                "y": y,
                "x": quantitative(rest, rate=True, title=rate),
                "color": {"datum": COMPARED, "title": None},
                "tooltip": tips,
            },
        },
    ]
    body = {
        "data": {"values": step.rows},
        "facet": {
            "row": {
                **nominal("dimension"),
                "title": None,
                "header": {"labelAngle": 0, "labelAlign": "left"},
            }
        },
        "spec": {"width": 400, "layer": layers},
        "resolve": {"scale": {"y": "independent"}},
    }
    interval = " with its 95% interval" if has(step, low, high) else ""
    what = (
        f"Dot plot of {rate} per segment{interval}, a tick at {rest} (the levels it was tested "
        "against), one panel per dimension."
    )
    return what, body


def power_user_chart(step: StepResult) -> Chart | None:
    """Each feature's adoption among power users against the rest."""
    pair = ("power_adoption_rate", "rest_adoption_rate")
    return paired_bars(step, "feature", pair, f"Bar chart of {' and '.join(pair)} by feature.")


def churn_relationship_chart(step: StepResult) -> Chart | None:
    """Each feature's monthly churn among its early adopters against the other accounts."""
    pair = ("adopter_monthly_churn", "non_adopter_monthly_churn")
    return paired_bars(step, "feature", pair, f"Bar chart of {' and '.join(pair)} by feature.")


#: The usage correlation's measures of association, each on -1..1: over all accounts, or (the
#: split form) co-adoption over all accounts and intensity among the accounts using both.
CORRELATIONS = ("correlation", "co_adoption_phi", "intensity_correlation")


def correlation_chart(step: StepResult) -> Chart | None:
    """Each pair's correlations, a heatmap each, on one fixed -1..1 diverging scale, so that
    neither a sign nor a weak value is hidden by a scale fitted to the data."""
    shown = [c for c in CORRELATIONS if c in step.columns]
    if not shown or not has(step, "feature_a", "feature_b"):
        return None
    scale = {"scale": {"scheme": "redblue", "domain": [-1, 1]}, "title": "-1 to 1"}
    panels = [heatmap(step, "feature_a", "feature_b", c, scale, ".2f") for c in shown]
    body = {
        "data": {"values": step.rows},
        "hconcat": panels,
        "resolve": {"scale": {"color": "shared"}},
    }
    return f"Heatmap of {', '.join(shown)} by feature_a and feature_b.", body


def adoption_chart(step: StepResult) -> Chart | None:
    """Adoption rate of each feature in each segment (adopters are a count, not the finding)."""
    if not has(step, "feature", "segment", "adoption_rate"):
        return None
    legend = {"legend": {"format": "~%"}}
    body = heatmap(step, "feature", "segment", "adoption_rate", legend, ".0%")
    return "Heatmap of adoption_rate by feature and segment.", {
        "data": {"values": step.rows},
        **body,
    }


def growth_chart(step: StepResult) -> Chart | None:
    """Revenue per period, the periods flagged partial, tiny or missing marked (left out of the
    growth rates and trend tests, or zero), above the period-over-period growth."""
    flags = ("partial", "tiny", "missing")  # in growth's order of precedence
    if not has(step, "period", "growth", *flags):
        return None
    revenue = next((c for c in step.columns if c not in ("period", "growth", *flags)), None)
    if revenue is None:
        return None
    flag = fresh("flag", step.columns)
    values = [{**r, flag: next((f for f in flags if r.get(f)), None)} for r in step.rows]
    x = utc_time("period")
    tips = tooltips(step.rows, step.columns)
    level = {
        "width": 600,
        "height": 250,
        "encoding": {"x": x, "y": quantitative(revenue)},
        "layer": [
            {"mark": {"type": "line", "point": True}, "encoding": {"tooltip": tips}},
            {
                "transform": [{"filter": f"isValid(datum[{flag!r}])"}],
                "mark": {"type": "point", "size": 120, "strokeWidth": 2},
                "encoding": {"color": {"field": flag, "type": "nominal", "title": "flagged"}},
            },
        ],
    }
    growth = {
        "width": 600,
        "height": 150,
        "layer": [
            {
                "mark": {"type": "line", "point": True},
                "encoding": {"x": x, "y": quantitative("growth", rate=True), "tooltip": tips},
            },
            {"mark": {"type": "rule", "strokeDash": [4, 4]}, "encoding": {"y": {"datum": 0}}},
        ],
    }
    body = {
        "data": {"values": values, "format": utc_dates("period")},
        "vconcat": [level, growth],
        "resolve": {"scale": {"x": "shared"}},
    }
    return f"Line chart of {revenue} over period, flagged periods marked; below, growth.", body


def ltv_chart(step: StepResult) -> Chart | None:
    """Lifetime value per segment with its 95% interval, largest first."""
    if not has(step, "segment", "ltv", "ltv_low", "ltv_high"):
        return None
    # an explicit order: a sort by field is lost when the bar and error-bar layers merge
    ranked = sorted(step.rows, key=lambda r: -r["ltv"] if r.get("ltv") is not None else 0.0)
    y = {**nominal("segment"), "sort": [r.get("segment") for r in ranked]}
    body = {
        "data": {"values": step.rows},
        "width": 400,
        "encoding": {"y": y},
        "layer": [
            {
                "mark": "bar",
                "encoding": {
                    "x": quantitative("ltv"),
                    "tooltip": tooltips(step.rows, step.columns),
                },
            },
            {
                "mark": {"type": "errorbar", "ticks": True, "color": "black"},
                "encoding": {
                    "x": quantitative("ltv_low", title="ltv"),
                    "x2": {"field": "ltv_high"},
                },
            },
        ],
    }
    return "Bar chart of ltv by segment with its 95% interval, largest first.", body


def expansion_chart(step: StepResult) -> Chart | None:
    """MRR at stake per move to the next plan, over every candidate: the summary's per-plan
    totals (the rows list only the top candidates), else the rows' own sums."""
    plans = step.summary.get("plans")
    keys = {"plan", "next_plan", "mrr_at_stake"}
    if isinstance(plans, list) and plans and all(keys <= set(p) for p in plans):
        move = fresh("move", list(plans[0]))
        values = [{move: f"{p['plan']} → {p['next_plan']}", **p} for p in plans]
        what = f"Bar chart of mrr_at_stake by {move} to the next plan, over every candidate."
        transform: list[Spec] = []
        tips = tooltips(values, list(values[0]))
    elif has(step, "plan", "suggested_plan", "mrr_at_stake"):
        move = fresh("move", step.columns)
        values = step.rows
        what = f"Bar chart of mrr_at_stake by {move} to the next plan, over the rows shown."
        transform = [
            {
                "aggregate": [
                    {"op": "sum", "field": "mrr_at_stake", "as": "mrr_at_stake"},
                    {"op": "count", "as": "candidates"},
                ],
                "groupby": ["plan", "suggested_plan"],
            },
            {"calculate": "datum.plan + ' → ' + datum.suggested_plan", "as": move},
        ]
        tips = [
            nominal(move),
            {**quantitative("mrr_at_stake"), "format": ","},
            quantitative("candidates"),
        ]
    else:
        return None
    body = {
        "data": {"values": values},
        "width": 400,
        "transform": transform,
        "mark": "bar",
        "encoding": {
            "y": {**nominal(move), "sort": None},  # plans cheapest first, as the step orders them
            "x": quantitative("mrr_at_stake"),
            "tooltip": tips,
        },
    }
    return what, body


TOOL_CHARTS: dict[str, ToolChart] = {
    "cohort_analysis": cohort_chart,
    "conversion_tests": segment_rate_chart,
    "segment_rate_tests": segment_rate_chart,
    "power_users": power_user_chart,
    "churn_relationship": churn_relationship_chart,
    "usage_correlation": correlation_chart,
    "adoption_by_segment": adoption_chart,
    "revenue_growth": growth_chart,
    "ltv_by_segment": ltv_chart,
    "expansion_opportunities": expansion_chart,
}
