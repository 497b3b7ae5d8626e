"""Measures as SQL: each leaf measure's aggregate (with its own filters), and ratios built from
their leaves."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from chatter.semantic.model import MeasureRef, SemanticModel
from chatter.semantic.predicates import filter_expr, measure_filters
from chatter.semantic.sql_nodes import Params


def aggregate(
    ref: MeasureRef, model: SemanticModel, column: Callable[[str], exp.Expr], params: Params
) -> exp.Expr:
    """A leaf measure's aggregate over ``column(name)``, filtered by the measure's filters."""
    m = ref.measure
    arg: exp.Expr = column(m.column) if m.column else exp.Star()
    agg: exp.Expr
    if m.agg == "count":
        agg = exp.Count(this=arg)
    elif m.agg == "count_distinct":
        agg = exp.Count(this=exp.Distinct(expressions=[arg]))
    elif m.agg == "sum":
        agg = exp.Sum(this=arg)
    elif m.agg == "avg":
        agg = exp.Avg(this=arg)
    elif m.agg == "min":
        agg = exp.Min(this=arg)
    elif m.agg == "max":
        agg = exp.Max(this=arg)
    elif m.agg == "variance":  # sample variance, as the tests on sufficient statistics expect
        agg = exp.Variance(this=arg)
    elif m.agg == "stddev":
        agg = exp.StddevSamp(this=arg)
    else:  # pragma: no cover - ratios are expanded before this point
        raise AssertionError(m.agg)
    if m.filters:
        conditions = [
            filter_expr(f, column(f.ref.dimension.column), params)
            for f in measure_filters(model, ref)
        ]
        agg = exp.Filter(this=agg, expression=exp.Where(this=exp.and_(*conditions)))
    return agg


def measure_expr(
    ref: MeasureRef, model: SemanticModel, leaf: Callable[[MeasureRef], exp.Expr]
) -> exp.Expr:
    """A measure's value from its leaves: ratios divide (as DOUBLE, NULL over zero)."""
    m = ref.measure
    if m.agg != "ratio":
        return leaf(ref)
    assert m.numerator and m.denominator
    num = measure_expr(model.measure(m.numerator, home=ref.table), model, leaf)
    den = measure_expr(model.measure(m.denominator, home=ref.table), model, leaf)
    return exp.Div(
        this=exp.cast(num, "DOUBLE"),
        expression=exp.Nullif(this=den, expression=exp.Literal.number(0)),
    )
