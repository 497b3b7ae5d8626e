"""ResolvedQuery -> SQL, built as a sqlglot AST; values travel as named parameters.

Fan-out: each measure is aggregated in its own table's grain. Joins along many-to-one edges
never multiply rows; when a dimension or filter sits across a one-to-many edge, the measure
table's rows are first made distinct per (primary key, dimensions), so each row counts once per
group. Measures of different tables are aggregated separately and joined on the dimensions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from chatter.errors import InvalidQueryError
from chatter.semantic.model import Edge, FieldRef, MeasureRef, SemanticModel
from chatter.semantic.query import ResolvedDimension, ResolvedFilter, ResolvedQuery, leaf_measures
from chatter.semantic.values import OPERATORS, coerce

DIALECT = "duckdb"


@dataclass(frozen=True)
class CompiledQuery:
    """SQL with ``$p`` placeholders plus their values, and the same SQL with literals written in."""

    sql: str
    params: dict[str, Any]
    literal_sql: str
    columns: tuple[str, ...]
    required: dict[str, frozenset[str]]  # physical table -> columns the SQL reads
    ast: exp.Expr = field(repr=False, compare=False)


class _Params:
    """Hands out ``$p1, $p2, ...`` placeholders and remembers their values."""

    def __init__(self, prefix: str = "p") -> None:
        self.values: dict[str, Any] = {}
        self.prefix = prefix

    def add(self, value: Any) -> exp.Placeholder:
        name = f"{self.prefix}{len(self.values) + 1}"
        self.values[name] = value
        return exp.Placeholder(this=name)


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(column: str, table: str | None = None) -> exp.Column:
    return exp.column(column, table=table, quoted=True)


def _table(model: SemanticModel, name: str) -> exp.Table:
    physical = model.tables[name].table
    return exp.Table(this=_ident(physical), alias=exp.TableAlias(this=_ident(name)))


def dimension_expr(d: ResolvedDimension, column: exp.Expr) -> exp.Expr:
    """The dimension's value, truncated to its time grain (as a DATE) when it has one."""
    if d.grain is None:
        return column
    return exp.cast(exp.DateTrunc(this=column, unit=exp.var(d.grain.upper())), "DATE")


def filter_expr(f: ResolvedFilter, column: exp.Expr, params: _Params) -> exp.Expr:
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


def _aggregate(
    ref: MeasureRef, model: SemanticModel, column: Callable[[str], exp.Expr], params: _Params
) -> exp.Expr:
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


def _joins_for(model: SemanticModel, base: str, tables: set[str]) -> list[Edge]:
    """The edges that join ``tables`` to ``base``, each once, in a valid order."""
    edges: list[Edge] = []
    joined = {base}
    for target in sorted(tables - {base}):
        path = model.join_path(base, target)
        if path is None:
            raise InvalidQueryError(
                f"Table {target} cannot be joined to {base} in the semantic model, so its "
                f"fields cannot split or filter measures of {base}."
            )
        for edge in path:
            if edge.target not in joined:
                joined.add(edge.target)
                edges.append(edge)
    return edges


def _tables_past_fan_out(edges: list[Edge]) -> set[str]:
    """Tables joined across a one-to-many edge, or joined from such a table."""
    many: set[str] = set()
    for edge in edges:  # in join order: a source comes before its targets
        if edge.fans_out or edge.source in many:
            many.add(edge.target)
    return many


def _join_condition(edge: Edge) -> exp.Expr:
    return exp.and_(
        *(exp.EQ(this=_col(a, edge.source), expression=_col(b, edge.target)) for a, b in edge.on)
    )


class _Compiler:
    def __init__(self, query: ResolvedQuery, model: SemanticModel) -> None:
        self.q = query
        self.model = model
        self.params = _Params()

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
        tables = {d.ref.table for d in self.q.dimensions} | {f.ref.table for f in self.q.filters}
        edges = _joins_for(self.model, base, tables)
        many = _tables_past_fan_out(edges)
        # Columns a table behind a one-to-many edge is joined for only as a filter can repeat a
        # base row within one group; then (only then) rows are made distinct below.
        dim_columns = {(d.ref.table, d.ref.dimension.column) for d in self.q.dimensions}
        fans_out = any(
            (f.ref.table, f.ref.dimension.column) not in dim_columns
            for f in self.q.filters
            if f.ref.table in many
        )
        source: exp.Select = exp.select().from_(_table(self.model, base))
        for edge in edges:
            target: exp.Expr = _table(self.model, edge.target)
            if edge.fans_out:
                target = self._distinct_table(edge.target, edges)
            source = source.join(target, on=_join_condition(edge), join_type="LEFT")
        conditions = [
            filter_expr(f, _col(f.ref.dimension.column, f.ref.table), self.params)
            for f in self.q.filters
        ]
        if conditions:
            source = source.where(exp.and_(*conditions))
        dims = [
            (d.alias, dimension_expr(d, _col(d.ref.dimension.column, d.ref.table)))
            for d in self.q.dimensions
        ]

        if not fans_out:

            def column(table: str) -> Callable[[str], exp.Expr]:
                return lambda name: _col(name, table)

            select = source
            dim_cols = [expr for _, expr in dims]
        else:
            # One row per base row and dimension combination, so nothing counts twice.
            table = self.model.tables[base]
            needed = set(table.primary_key) | {
                c for leaf in leaves for c in _leaf_columns(self.model, leaf)
            }
            inner = source.select(
                *(
                    exp.alias_(_col(c, base), f"{base}{SEP}{c}", quoted=True)
                    for c in sorted(needed)
                ),
                *(exp.alias_(expr, alias, quoted=True) for alias, expr in dims),
            )
            inner = inner.distinct()
            select = exp.select().from_(
                exp.alias_(exp.Subquery(this=inner), "fanout_safe", table=True, quoted=True)
            )

            def column(table: str) -> Callable[[str], exp.Expr]:
                return lambda name: _col(f"{table}{SEP}{name}", "fanout_safe")

            dim_cols = [_col(alias, "fanout_safe") for alias, _ in dims]

        def leaf(ref: MeasureRef) -> exp.Expr:
            return _aggregate(ref, self.model, column(ref.table), self.params)

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

    def _distinct_table(self, name: str, edges: list[Edge]) -> exp.Expr:
        """A table across a one-to-many edge, reduced to the distinct values of the columns the
        query uses from it (join keys, dimensions, filters): each row it adds to a base row is
        then a distinct group, and far fewer rows are joined."""
        used = {
            c
            for e in edges
            for t, cols in ((e.source, [a for a, _ in e.on]), (e.target, [b for _, b in e.on]))
            if t == name
            for c in cols
        }
        used |= {d.ref.dimension.column for d in self.q.dimensions if d.ref.table == name}
        used |= {f.ref.dimension.column for f in self.q.filters if f.ref.table == name}
        physical = self.model.tables[name].table
        inner = (
            exp.select(*(_col(c) for c in sorted(used)))
            .from_(exp.Table(this=_ident(physical)))
            .distinct()
        )
        return exp.alias_(exp.Subquery(this=inner), name, table=True, quoted=True)

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
        ctes: dict[str, exp.Query] = {
            f"agg_{table}": self.aggregate_select(table, leaves)
            for table, leaves in by_table.items()
        }
        names = list(ctes)
        owner = {
            leaf.qualified: f"agg_{table}" for table, leaves in by_table.items() for leaf in leaves
        }

        def leaf(ref: MeasureRef) -> exp.Expr:
            value: exp.Expr = _col(ref.measure.name, owner[ref.qualified])
            if ref.measure.agg in ("count", "count_distinct"):
                value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
            return value

        measures = [
            exp.alias_(measure_expr(m, self.model, leaf), m.measure.name, quoted=True)
            for m in self.q.measures
        ]
        if not aliases:
            select = exp.select(*measures).from_(_ident(names[0]))
            for name in names[1:]:
                select = select.join(_ident(name), join_type="CROSS")
        else:
            keys = exp.union(
                *(exp.select(*(_col(a) for a in aliases)).from_(_ident(n)) for n in names),
                distinct=True,
            )
            ctes["dimension_keys"] = keys
            select = exp.select(
                *(exp.alias_(_col(a, "dimension_keys"), a, quoted=True) for a in aliases), *measures
            ).from_(_ident("dimension_keys"))
            for name in names:
                on = exp.and_(
                    *(
                        exp.NullSafeEQ(this=_col(a, "dimension_keys"), expression=_col(a, name))
                        for a in aliases
                    )
                )
                select = select.join(_ident(name), on=on, join_type="LEFT")
        for name, cte in ctes.items():
            select = select.with_(_ident(name), as_=cte)
        return select

    def finish(self, select: exp.Select, aliases: list[str], row_cap: int | None) -> exp.Select:
        order = [
            exp.Ordered(this=_col(name), desc=desc, nulls_first=False)
            for name, desc in self.q.order_by
        ]
        ordered = {name for name, _ in self.q.order_by}
        # Every dimension breaks ties, so results (and what a LIMIT keeps) are deterministic.
        order += [
            exp.Ordered(this=_col(a), desc=False, nulls_first=False)
            for a in aliases
            if a not in ordered
        ]
        if order:
            select = select.order_by(*order)
        limits = [n for n in (self.q.limit, row_cap + 1 if row_cap else None) if n]
        if limits:
            select = select.limit(min(limits))
        return select


SEP = "__"


def _leaf_columns(model: SemanticModel, leaf: MeasureRef) -> set[str]:
    table = model.tables[leaf.table]
    cols = {leaf.measure.column} if leaf.measure.column else set()
    cols |= {table.dimensions[f.field].column for f in leaf.measure.filters}
    return cols


def literal_sql(ast: exp.Expr, params: dict[str, Any]) -> str:
    """The SQL with each placeholder replaced by its value as a typed literal."""

    def fill(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in params:
            return to_literal(params[node.name])
        return node

    return ast.copy().transform(fill).sql(DIALECT)


def to_literal(value: Any) -> exp.Expr:
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.convert(value)


def required_columns(ast: exp.Expr, model: SemanticModel) -> dict[str, frozenset[str]]:
    """Physical table -> physical columns the statement reads (for schema checks)."""
    out: dict[str, set[str]] = {}
    for column in ast.find_all(exp.Column):
        table = model.tables.get(column.table)
        if table is not None:
            out.setdefault(table.table, set()).add(column.name)
    for t in ast.find_all(exp.Table):
        for mt in model.tables.values():
            if t.name == mt.table:
                out.setdefault(mt.table, set())
    return {k: frozenset(v) for k, v in out.items()}


def compile_query(
    query: ResolvedQuery, model: SemanticModel, row_cap: int | None = None
) -> CompiledQuery:
    """Compile a resolved query; ``row_cap`` adds ``LIMIT cap + 1`` so truncation shows."""
    compiler = _Compiler(query, model)
    ast = compiler.compile(row_cap)
    params = compiler.params.values
    columns = tuple([d.alias for d in query.dimensions] + [m.measure.name for m in query.measures])
    return CompiledQuery(
        sql=ast.sql(DIALECT),
        params=dict(params),
        literal_sql=literal_sql(ast, params),
        columns=columns,
        required=required_columns(ast, model),
        ast=ast,
    )
