"""Churns and paying months per segment, to the snapshot: the exposure churn is compared on.

Paying accounts count from their signup to the snapshot; a churn counts when it is dated on or
before the snapshot. Accounts churned without a date, or (a data error) before their signup,
cannot be placed in time and are left out (and counted). The LTV step and the segment rate tests
of a churn rate share these counts, so both compare the same churns over the same months.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from chatter.errors import InvalidQueryError
from chatter.semantic.predicates import filter_expr
from chatter.semantic.query import Filter, resolve_filter
from chatter.semantic.scope import scope_statement
from chatter.semantic.sql_nodes import Params as SqlParams
from chatter.semantic.sql_nodes import col
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.model_names import dimension_on
from chatter.tools.analyses.result import Recorder
from chatter.tools.analyses.snapshot import TimeRoles, placeholders_in, time_columns
from chatter.tools.analyses.sql_template import build_sql
from chatter.tools.params import Dimension, FilteredParams, Measure


class ExposureParams(FilteredParams, TimeRoles):
    """The segment (a field of the account), the revenue (a sum over the revenue table's
    amount: its rows are the paying months), where the account's outcome lives, and the
    snapshot."""

    segment_dimension: Dimension = "plan_type"
    revenue: Measure = "revenue"
    snapshot_date: dt.date | None = None


@dataclass(frozen=True)
class SegmentExposure:
    """Per segment level: ``churn`` holds accounts at risk and churns, ``money`` paying months,
    accounts billed, revenue and its mean and median per paying month; ``windowed``: the
    filters' window on the billing period bounded the churn dates too."""

    churn: dict[Any, dict[str, Any]]
    money: dict[Any, dict[str, Any]]
    windowed: bool

    def levels(self) -> list[Any]:
        return sorted(set(self.churn) | set(self.money), key=str)


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


def _statement(
    warehouse: Warehouse,
    p: ExposureParams,
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


def _churn_window(
    warehouse: Warehouse, p: ExposureParams
) -> tuple[exp.Expr | None, dict[str, Any]]:
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


def segment_exposure(
    rec: Recorder, warehouse: Warehouse, p: ExposureParams, snapshot: dt.date
) -> SegmentExposure:
    """Churns, accounts at risk and paying months per level of ``p.segment_dimension``, within
    the step's filters (a window on the billing period bounds the churn dates too)."""
    bound = {"snapshot": snapshot}
    window, window_values = _churn_window(warehouse, p)
    churn_sql = _statement(warehouse, p, _CHURNS_SQL, bound | window_values, window)
    churn = _by_segment(rec.arrays(*churn_sql))
    money = _by_segment(rec.arrays(*_statement(warehouse, p, _MONEY_SQL, bound)))
    return SegmentExposure(churn, money, window is not None)


def undated_churns(
    rec: Recorder, warehouse: Warehouse, p: ExposureParams, snapshot: dt.date
) -> int:
    """Converted accounts marked churned without a churn date: left out of the counts above
    (whatever the segment, so counted once per step)."""
    undated = rec.arrays(*_statement(warehouse, p, _UNDATED_SQL, {"snapshot": snapshot}))
    values = undated.get("undated", [0])
    return int(values[0]) if len(values) else 0
