"""Lifetime value by segment, to the snapshot: monthly ARPU over the monthly churn hazard (churns
per paying month, with its exact Poisson interval), and whether churn per paying month differs
across the segments.

Why per paying month, not "ever churned over accounts": a segment that started recently has had
less time to churn, so its share of accounts ever churned is lower at the same monthly hazard.
Counting churns per month of exposure removes that (under a constant hazard within a segment).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from chatter.errors import InvalidQueryError
from chatter.semantic.predicates import filter_expr
from chatter.semantic.query import Filter, resolve_filter
from chatter.semantic.scope import scope_statement
from chatter.semantic.sql_nodes import Params as SqlParams
from chatter.semantic.sql_nodes import col
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.ltv_rows import CONFIDENCE, caveat_notes, segment_row
from chatter.tools.analyses.model_names import dimension_on
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.snapshot import (
    TimeRoles,
    observation_end,
    placeholders_in,
    time_columns,
)
from chatter.tools.analyses.sql_template import build_sql
from chatter.tools.params import Dimension, FilteredParams, Measure
from chatter.tools.stats.rates import rate_homogeneity_test

# Paying accounts whose churn can be placed in time: converted, signed up by the snapshot, and
# neither churned without a date nor (a data error) churned before their signup.
_AT_RISK = """A_U.C_CONVERTED AND A_U.C_SIGNUP <= $snapshot
  AND NOT (A_U.C_CHURNED AND A_U.C_CHURN IS NULL)
  AND (A_U.C_CHURN IS NULL OR A_U.C_CHURN >= A_U.C_SIGNUP)"""

_CHURNS_SQL = f"""
SELECT A_U.C_SEG AS segment, count(*) AS accounts,
  count(*) FILTER (WHERE A_U.C_CHURNED AND A_U.C_CHURN <= $snapshot AND $in_window)
    AS churns
FROM T_U AS A_U
WHERE {_AT_RISK}
GROUP BY A_U.C_SEG
"""

_MONEY_SQL = f"""
SELECT A_U.C_SEG AS segment, count(*) AS paying_months,
  count(DISTINCT A_REV.C_RKEY) AS billed_accounts, sum(A_REV.C_AMOUNT) AS revenue,
  avg(A_REV.C_AMOUNT) AS mean_revenue, median(A_REV.C_AMOUNT) AS median_revenue
FROM T_REV AS A_REV JOIN T_U AS A_U ON A_REV.C_RKEY = A_U.C_KEY
WHERE A_REV.C_PERIOD <= $snapshot AND {_AT_RISK}
GROUP BY A_U.C_SEG
"""

_UNDATED_SQL = """
SELECT count(*) AS undated FROM T_U AS A_U
WHERE A_U.C_CONVERTED AND A_U.C_SIGNUP <= $snapshot AND A_U.C_CHURNED AND A_U.C_CHURN IS NULL
"""


class LtvParams(FilteredParams, TimeRoles):
    """The segment (a field of the account), the revenue (a sum over the revenue table's
    amount), where the account's outcome lives, and the snapshot."""

    segment_dimension: Dimension = "plan_type"
    revenue: Measure = "revenue"
    converted_dimension: Dimension = "converted"
    churned_dimension: Dimension = "churned"
    snapshot_date: dt.date | None = None
    metric: str = "monthly_churn_rate"


def _statement(
    warehouse: Warehouse,
    p: LtvParams,
    template: str,
    params: dict[str, Any],
    window: exp.Expr | None = None,
) -> tuple[exp.Expr, dict[str, Any]]:
    model = warehouse.model
    cols = time_columns(model, p)
    users = p.entity_table
    amount = model.measure(p.revenue)
    if (
        amount.measure.agg != "sum"
        or not amount.measure.column
        or amount.table != cols.revenue_alias
    ):
        raise InvalidQueryError(
            f"Measure {p.revenue!r} must be a sum over a column of table {cols.revenue_alias!r}, "
            f"the table of {p.revenue_period_dimension!r}."
        )
    names = cols.names() | {
        "C_SEG": dimension_on(model, p.segment_dimension, users).dimension.column,
        "C_CONVERTED": dimension_on(model, p.converted_dimension, users).dimension.column,
        "C_CHURNED": dimension_on(model, p.churned_dimension, users).dimension.column,
        "C_AMOUNT": amount.measure.column,
    }
    ast = build_sql(template, placeholders_in(template, names))
    for node in list(ast.find_all(exp.Placeholder)):
        if node.name == "in_window":
            node.replace(window.copy() if window is not None else exp.true())
    # The step's own filters (a question's window, a segment) keep only their rows.
    return scope_statement(ast, model, tuple(Filter(**f) for f in p.filters), params)


def _churn_window(warehouse: Warehouse, p: LtvParams) -> tuple[exp.Expr | None, dict[str, Any]]:
    """A window the filters set on the billing period, as the same condition on the churn date:
    churns are counted in the months whose paying months are counted."""
    model = warehouse.model
    cols = time_columns(model, p)
    period = model.dimension(p.revenue_period_dimension)
    values = SqlParams(prefix="window")
    conditions = []
    for f in p.filters:
        resolved = resolve_filter(model, Filter(**f), (cols.revenue_alias,))
        if resolved.ref.qualified == period.qualified:
            conditions.append(filter_expr(resolved, col(cols.churn, cols.users_alias), values))
    return (exp.and_(*conditions) if conditions else None), values.values


def _by_segment(arrays: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    columns = list(arrays)
    out = {}
    for values in zip(*(arrays[c] for c in columns), strict=True):
        row = dict(zip(columns, values, strict=True))
        if row["segment"] is not None:
            out[row.pop("segment")] = row
    return out


def ltv_by_segment(warehouse: Warehouse, params: LtvParams | None = None) -> AnalysisResult:
    """Per segment, to the snapshot: churns per paying month (the monthly hazard) with its exact
    95% interval, monthly ARPU (mean, and the median beside it), and LTV = ARPU / hazard with
    the interval the hazard's bounds give. Churn per paying month is compared across the segments by
    the Poisson chi-square of homogeneity."""
    p = params or LtvParams()
    rec = Recorder(warehouse)
    quality = observation_end(warehouse, p, p.snapshot_date)
    bound = {"snapshot": quality.snapshot}
    window, window_values = _churn_window(warehouse, p)
    churn_sql = _statement(warehouse, p, _CHURNS_SQL, bound | window_values, window)
    churn = _by_segment(rec.arrays(*churn_sql))
    money = _by_segment(rec.arrays(*_statement(warehouse, p, _MONEY_SQL, bound)))
    undated = rec.arrays(*_statement(warehouse, p, _UNDATED_SQL, bound)).get("undated", [0])
    rows = [
        segment_row(level, churn.get(level, {}), money.get(level, {}))
        for level in sorted(set(churn) | set(money), key=str)
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
    if window is not None:
        notes.append(
            f"The filters' window on {p.revenue_period_dimension} applies to churn dates too: "
            "churns in the window per paying months in it."
        )
    notes += caveat_notes(rows, int(undated[0]) if len(undated) else 0)
    notes.append(quality.note())
    summary = {
        "confidence": CONFIDENCE,
        "churns": sum(r["churns"] for r in rows),
        "paying_months": sum(r["paying_months"] for r in rows),
        **quality.summary(),
    }
    return rec.result("ltv_by_segment", rows, findings, notes, summary=summary)
