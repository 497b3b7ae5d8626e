"""Measures that do not add up over a date (MRR, subscribers: ``non_additive`` in the model).

When a query spans several periods of such a measure's date (it does not split by that date,
or splits by a coarser grain: MRR by quarter), the measure takes the value of one period per
bucket (the last, or the first) or the average over the bucket's periods, as the model says,
like MetricFlow's non-additive dimension. The statement aggregates in two steps: per period
(the measure table's rows grouped by the query's dimensions and the period), then per bucket,
keeping the window's period for the non-additive leaves and adding up the others.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from chatter.errors import InvalidQueryError
from chatter.semantic.model import FieldRef, MeasureRef, NonAdditive, SemanticModel
from chatter.semantic.query import ResolvedDimension, ResolvedQuery
from chatter.semantic.sql_nodes import col, ident

PERIOD = "__period"
PER_PERIOD = "per_period"
EDGES = "period_edges"
_ORDER = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4}


def spanning(query: ResolvedQuery, base: str, leaves: list[MeasureRef]) -> NonAdditive | None:
    """The non-additive date of ``base``'s leaves when the query spans several of its periods."""
    declared = {leaf.measure.non_additive for leaf in leaves if leaf.measure.non_additive}
    if not declared:
        return None
    if len({na.dimension for na in declared}) > 1:
        raise InvalidQueryError(
            "These measures do not add up over different dates; ask for them separately."
        )
    na = next(iter(declared))
    for d in query.dimensions:
        same = d.ref.table == base and d.ref.dimension.name == na.dimension
        if same and _ORDER[d.grain or "day"] <= _ORDER[na.grain]:
            return None  # one period per group already
    return na


def _bucket(d: ResolvedDimension | None, period: exp.Expr) -> exp.Expr:
    """The bucket a period falls in: its grain's first day, or one bucket for the window."""
    if d is None:
        return exp.Literal.number(1)
    assert d.grain is not None
    return exp.cast(exp.DateTrunc(this=period, unit=exp.var(d.grain.upper())), "DATE")


def two_level(
    q: ResolvedQuery,
    model: SemanticModel,
    base: str,
    leaves: list[MeasureRef],
    final: Callable[[Callable[[MeasureRef], exp.Expr]], list[exp.Expr]] | None,
    na: NonAdditive,
    per_period_select: Callable[[ResolvedQuery], exp.Select],
) -> exp.Select:
    """The two-step statement, with the output columns a one-step aggregate would give;
    ``per_period_select`` builds the first step (the query split by the period as well)."""
    table = model.tables[base]
    on_date = [
        d for d in q.dimensions if d.ref.table == base and d.ref.dimension.name == na.dimension
    ]
    coarse = on_date[0] if on_date else None
    period = ResolvedDimension(
        ref=FieldRef(table=base, dimension=table.dimensions[na.dimension]),
        grain=None if na.grain == "day" else na.grain,
        alias=PERIOD,
    )
    others = [d for d in q.dimensions if d not in on_date]
    per_period = per_period_select(q.model_copy(update={"dimensions": (*others, period)}))

    at_period = col(PERIOD, PER_PERIOD)
    bucket = _bucket(coarse, at_period)
    edges = (
        exp.select(
            exp.alias_(_bucket(coarse, col(PERIOD)), "bucket", quoted=True),
            exp.alias_(exp.Max(this=col(PERIOD)), "last_period", quoted=True),
            exp.alias_(exp.Min(this=col(PERIOD)), "first_period", quoted=True),
            exp.alias_(
                exp.Count(this=exp.Distinct(expressions=[col(PERIOD)])), "periods", quoted=True
            ),
        )
        .from_(ident(PER_PERIOD))
        .group_by(exp.Literal.number(1))
    )

    def leaf(ref: MeasureRef) -> exp.Expr:
        value = col(ref.measure.name, PER_PERIOD)
        own = ref.measure.non_additive
        if own is not None and own.window == "average":
            total = exp.cast(exp.Sum(this=value), "DOUBLE")
            return exp.Div(this=total, expression=exp.Max(this=col("periods", EDGES)))
        if own is not None:
            edge = col("last_period" if own.window == "last" else "first_period", EDGES)
            keep = exp.Where(this=exp.EQ(this=at_period, expression=edge))
            return exp.Filter(this=exp.Sum(this=value), expression=keep)
        if ref.measure.agg in ("count", "sum"):
            return exp.Sum(this=value)
        if ref.measure.agg in ("min", "max"):
            return (exp.Min if ref.measure.agg == "min" else exp.Max)(this=value)
        raise InvalidQueryError(
            f"{ref.measure.name} cannot be combined with a measure that does not add up over "
            f"{na.dimension} (it cannot be re-aggregated from periods); ask for it separately."
        )

    outputs = [
        exp.alias_(_bucket(d, at_period) if d is coarse else col(d.alias, PER_PERIOD), d.alias,
                   quoted=True)
        for d in q.dimensions
    ]  # fmt: skip
    measures = (
        final(leaf)
        if final
        else [exp.alias_(leaf(ref), ref.measure.name, quoted=True) for ref in leaves]
    )
    on = exp.NullSafeEQ(this=col("bucket", EDGES), expression=bucket)
    select = (
        exp.select(*outputs, *measures)
        .from_(ident(PER_PERIOD))
        .join(ident(EDGES), on=on, join_type="LEFT")
    )
    if outputs:
        select = select.group_by(*(o.this for o in outputs))
    return select.with_(ident(PER_PERIOD), as_=per_period).with_(ident(EDGES), as_=edges)
