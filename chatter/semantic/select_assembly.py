"""The statement of a resolved query: one grouped SELECT per measure table, combined on the
dimensions when the measures come from several tables, then ordered and limited."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from chatter.semantic import semi_additive
from chatter.semantic.aggregation import aggregate, measure_expr
from chatter.semantic.join_plan import FANOUT_SAFE, distinct_column, distinct_rows, joined_source
from chatter.semantic.model import MeasureRef, SemanticModel
from chatter.semantic.predicates import filter_expr
from chatter.semantic.query import ResolvedDimension, ResolvedQuery, leaf_measures
from chatter.semantic.sql_nodes import Params, col, ident


def dimension_expr(d: ResolvedDimension, column: exp.Expr) -> exp.Expr:
    """The dimension's value, truncated to its time grain (as a DATE) when it has one."""
    if d.grain is None:
        return column
    return exp.cast(exp.DateTrunc(this=column, unit=exp.var(d.grain.upper())), "DATE")


class SelectAssembler:
    """Builds the statement of one query; ``params`` collects the values it binds."""

    def __init__(
        self, query: ResolvedQuery, model: SemanticModel, params: Params | None = None
    ) -> None:
        self.q = query
        self.model = model
        self.params = params or Params()

    def leaves_by_table(self) -> dict[str, list[MeasureRef]]:
        grouped: dict[str, list[MeasureRef]] = {}
        for m in self.q.measures:
            for leaf in leaf_measures(self.model, m):
                bucket = grouped.setdefault(leaf.table, [])
                if leaf not in bucket:
                    bucket.append(leaf)
        return grouped

    def aggregate_select(
        self,
        base: str,
        leaves: list[MeasureRef],
        final: Callable[[Callable[[MeasureRef], exp.Expr]], list[exp.Expr]] | None = None,
    ) -> exp.Select:
        """SELECT dims, aggregates FROM base (joined as needed) WHERE filters GROUP BY dims.

        ``final`` turns a leaf-expression function into the select's measure columns; by default
        each leaf becomes a column named after it (for a CTE)."""
        non_additive = semi_additive.spanning(self.q, base, leaves)
        if non_additive is not None:  # MRR over several months: one month's, not their sum
            return semi_additive.two_level(
                self.q,
                self.model,
                base,
                leaves,
                final,
                non_additive,
                lambda q: SelectAssembler(q, self.model, self.params).aggregate_select(
                    base, leaves
                ),
            )
        source, fans_out = joined_source(self.model, self.q, base)
        conditions = [
            filter_expr(f, col(f.ref.dimension.column, f.ref.table), self.params)
            for f in self.q.filters
        ]
        if conditions:
            source = source.where(exp.and_(*conditions))
        dims = [
            (d.alias, dimension_expr(d, col(d.ref.dimension.column, d.ref.table)))
            for d in self.q.dimensions
        ]

        if not fans_out:

            def column(table: str) -> Callable[[str], exp.Expr]:
                return lambda name: col(name, table)

            select = source
            dim_cols = [expr for _, expr in dims]
        else:
            select = distinct_rows(source, self.model, base, leaves, dims)

            def column(table: str) -> Callable[[str], exp.Expr]:
                return lambda name: distinct_column(table, name)

            dim_cols = [col(alias, FANOUT_SAFE) for alias, _ in dims]

        def leaf(ref: MeasureRef) -> exp.Expr:
            return aggregate(ref, self.model, column(ref.table), self.params)

        measures = (
            final(leaf)
            if final
            else [exp.alias_(leaf(ref), ref.measure.name, quoted=True) for ref in leaves]
        )
        select = select.select(
            *(
                exp.alias_(expr, alias, quoted=True)
                for (alias, _), expr in zip(dims, dim_cols, strict=True)
            ),
            *measures,
        )
        if dim_cols:
            select = select.group_by(*dim_cols)
        return select

    def compile(self, row_cap: int | None) -> exp.Select:
        by_table = self.leaves_by_table()
        aliases = [d.alias for d in self.q.dimensions]
        if len(by_table) <= 1:
            base = next(iter(by_table), self.q.base_tables[0])

            def final(leaf: Callable[[MeasureRef], exp.Expr]) -> list[exp.Expr]:
                return [
                    exp.alias_(measure_expr(m, self.model, leaf), m.measure.name, quoted=True)
                    for m in self.q.measures
                ]

            select = self.aggregate_select(base, by_table.get(base, []), final)
        else:
            select = self.combine(by_table, aliases)
        return self.finish(select, aliases, row_cap)

    def combine(self, by_table: dict[str, list[MeasureRef]], aliases: list[str]) -> exp.Select:
        """One CTE per measure table, joined on the dimensions (every key any CTE has)."""
        ctes: dict[str, exp.Query] = {
            f"agg_{table}": self.aggregate_select(table, leaves)
            for table, leaves in by_table.items()
        }
        names = list(ctes)
        owner = {
            leaf.qualified: f"agg_{table}" for table, leaves in by_table.items() for leaf in leaves
        }

        def leaf(ref: MeasureRef) -> exp.Expr:
            value: exp.Expr = col(ref.measure.name, owner[ref.qualified])
            if ref.measure.agg in ("count", "count_distinct"):
                value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
            return value

        measures = [
            exp.alias_(measure_expr(m, self.model, leaf), m.measure.name, quoted=True)
            for m in self.q.measures
        ]
        if not aliases:
            select = exp.select(*measures).from_(ident(names[0]))
            for name in names[1:]:
                select = select.join(ident(name), join_type="CROSS")
        else:
            keys = exp.union(
                *(exp.select(*(col(a) for a in aliases)).from_(ident(n)) for n in names),
                distinct=True,
            )
            ctes["dimension_keys"] = keys
            select = exp.select(
                *(exp.alias_(col(a, "dimension_keys"), a, quoted=True) for a in aliases), *measures
            ).from_(ident("dimension_keys"))
            for name in names:
                on = exp.and_(
                    *(
                        exp.NullSafeEQ(this=col(a, "dimension_keys"), expression=col(a, name))
                        for a in aliases
                    )
                )
                select = select.join(ident(name), on=on, join_type="LEFT")
        for name, cte in ctes.items():
            select = select.with_(ident(name), as_=cte)
        return select

    def finish(self, select: exp.Select, aliases: list[str], row_cap: int | None) -> exp.Select:
        order = [
            exp.Ordered(this=col(name), desc=desc, nulls_first=False)
            for name, desc in self.q.order_by
        ]
        ordered = {name for name, _ in self.q.order_by}
        # Every dimension breaks ties, so results (and what a LIMIT keeps) are deterministic.
        order += [
            exp.Ordered(this=col(a), desc=False, nulls_first=False)
            for a in aliases
            if a not in ordered
        ]
        if order:
            select = select.order_by(*order)
        limits = [n for n in (self.q.limit, row_cap + 1 if row_cap else None) if n]
        if limits:
            select = select.limit(min(limits))
        return select
