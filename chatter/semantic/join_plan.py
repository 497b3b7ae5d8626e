"""Joins for one measure table's query, and the fan-out guard.

Joins along many-to-one edges never multiply rows. A table across a one-to-many edge is joined
reduced to the distinct values the query uses from it; when it is joined only to filter, the
measure table's rows are then made distinct per (primary key, dimensions), so each row counts
once per group.
"""

from __future__ import annotations

from sqlglot import exp

from chatter.errors import InvalidQueryError
from chatter.semantic.join_paths import Edge
from chatter.semantic.model import MeasureRef, SemanticModel
from chatter.semantic.query import ResolvedQuery
from chatter.semantic.sql_nodes import col, ident, model_table

SEP = "__"
FANOUT_SAFE = "fanout_safe"


def joined_source(model: SemanticModel, query: ResolvedQuery, base: str) -> tuple[exp.Select, bool]:
    """``SELECT FROM base LEFT JOIN ...`` for every table the query's dimensions and filters
    use, and whether base rows can repeat within one group (then ``distinct_rows`` is needed)."""
    tables = {d.ref.table for d in query.dimensions} | {f.ref.table for f in query.filters}
    edges = joins_for(model, base, tables)
    many = tables_past_fan_out(edges)
    # Columns a table behind a one-to-many edge is joined for only as a filter can repeat a
    # base row within one group; then (only then) rows are made distinct.
    dim_columns = {(d.ref.table, d.ref.dimension.column) for d in query.dimensions}
    fans_out = any(
        (f.ref.table, f.ref.dimension.column) not in dim_columns
        for f in query.filters
        if f.ref.table in many
    )
    source: exp.Select = exp.select().from_(model_table(model, base))
    for edge in edges:
        target: exp.Expr = model_table(model, edge.target)
        if edge.fans_out:
            target = distinct_table(model, query, edge.target, edges)
        source = source.join(target, on=join_condition(edge), join_type="LEFT")
    return source, fans_out


def joins_for(model: SemanticModel, base: str, tables: set[str]) -> list[Edge]:
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


def tables_past_fan_out(edges: list[Edge]) -> set[str]:
    """Tables joined across a one-to-many edge, or joined from such a table."""
    many: set[str] = set()
    for edge in edges:  # in join order: a source comes before its targets
        if edge.fans_out or edge.source in many:
            many.add(edge.target)
    return many


def join_condition(edge: Edge) -> exp.Expr:
    return exp.and_(
        *(exp.EQ(this=col(a, edge.source), expression=col(b, edge.target)) for a, b in edge.on)
    )


def distinct_table(
    model: SemanticModel, query: ResolvedQuery, name: str, edges: list[Edge]
) -> exp.Expr:
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
    used |= {d.ref.dimension.column for d in query.dimensions if d.ref.table == name}
    used |= {f.ref.dimension.column for f in query.filters if f.ref.table == name}
    physical = model.tables[name].table
    inner = (
        exp.select(*(col(c) for c in sorted(used)))
        .from_(exp.Table(this=ident(physical)))
        .distinct()
    )
    return exp.alias_(exp.Subquery(this=inner), name, table=True, quoted=True)


def distinct_rows(
    source: exp.Select,
    model: SemanticModel,
    base: str,
    leaves: list[MeasureRef],
    dims: list[tuple[str, exp.Expr]],
) -> exp.Select:
    """``SELECT FROM (...) AS fanout_safe``: one row per base row and dimension combination, so
    nothing counts twice. It has each base column the leaves read (see ``distinct_column``) and
    each dimension under its alias."""
    table = model.tables[base]
    needed = set(table.primary_key) | {c for leaf in leaves for c in leaf_columns(model, leaf)}
    inner = source.select(
        *(exp.alias_(col(c, base), f"{base}{SEP}{c}", quoted=True) for c in sorted(needed)),
        *(exp.alias_(expr, alias, quoted=True) for alias, expr in dims),
    )
    inner = inner.distinct()
    return exp.select().from_(
        exp.alias_(exp.Subquery(this=inner), FANOUT_SAFE, table=True, quoted=True)
    )


def distinct_column(table: str, name: str) -> exp.Column:
    """Column ``name`` of ``table`` as ``distinct_rows`` selects it."""
    return col(f"{table}{SEP}{name}", FANOUT_SAFE)


def leaf_columns(model: SemanticModel, leaf: MeasureRef) -> set[str]:
    """The columns of its table a leaf measure reads (its column and its filters')."""
    table = model.tables[leaf.table]
    cols = {leaf.measure.column} if leaf.measure.column else set()
    cols |= {table.dimensions[f.field].column for f in leaf.measure.filters}
    return cols
