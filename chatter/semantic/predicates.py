"""Filters as SQL conditions: a query's filters and the filters inside a measure."""

from __future__ import annotations

from sqlglot import exp

from chatter.semantic.model import FieldRef, MeasureRef, SemanticModel
from chatter.semantic.query import ResolvedFilter
from chatter.semantic.sql_nodes import Params
from chatter.semantic.values import OPERATORS, coerce


def filter_expr(f: ResolvedFilter, column: exp.Expr, params: Params) -> exp.Expr:
    """One filter as a condition. ``!=`` and ``not_in`` keep rows whose value is empty: "not X"
    means everything that is not X, including the unknown."""
    op, values = f.op, f.values
    if op == "is_null":
        return exp.Is(this=column, expression=exp.Null())
    if op == "is_not_null":
        return exp.not_(exp.Is(this=column, expression=exp.Null()))
    if op in ("in", "not_in"):
        inside = exp.In(this=column, expressions=[params.add(v) for v in values])
        if op == "in":
            return inside
        return exp.or_(exp.not_(inside), exp.Is(this=column, expression=exp.Null()), wrap=True)
    if op == "between":
        return exp.Between(this=column, low=params.add(values[0]), high=params.add(values[1]))
    if op == "contains":
        position = exp.StrPosition(
            this=exp.Lower(this=column), substr=exp.Lower(this=params.add(values[0]))
        )
        return exp.GT(this=position, expression=exp.Literal.number(0))
    comparison: dict[str, type[exp.Binary]] = {
        "=": exp.EQ,
        "!=": exp.NullSafeNEQ,
        "<": exp.LT,
        "<=": exp.LTE,
        ">": exp.GT,
        ">=": exp.GTE,
    }
    return comparison[op](this=column, expression=params.add(values[0]))


def measure_filters(model: SemanticModel, ref: MeasureRef) -> list[ResolvedFilter]:
    """A measure's own filters, resolved against its table (the model validated them)."""
    table = model.tables[ref.table]
    out = []
    for mf in ref.measure.filters:
        dim = table.dimensions[mf.field]
        op = OPERATORS[mf.op]
        raw = mf.value if isinstance(mf.value, list) else [mf.value]
        values = (
            ()
            if op in ("is_null", "is_not_null")
            else tuple(coerce(v, dim.type, f"measure {ref.measure.name}") for v in raw)
        )
        out.append(
            ResolvedFilter(ref=FieldRef(table=ref.table, dimension=dim), op=op, values=values)
        )
    return out
