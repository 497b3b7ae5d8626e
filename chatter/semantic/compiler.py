"""ResolvedQuery -> SQL, built as a sqlglot AST; values travel as named parameters.

Fan-out: each measure is aggregated in its own table's grain. Joins along many-to-one edges
never multiply rows; when a dimension or filter sits across a one-to-many edge, the measure
table's rows are first made distinct per (primary key, dimensions), so each row counts once per
group. Measures of different tables are aggregated separately and joined on the dimensions.

This module is the entry point (``compile_query`` and what it returns). The parts:

- ``sql_nodes``: quoted names, columns, model tables and ``$p`` placeholders;
- ``predicates``: filters as conditions (a query's, and a measure's own);
- ``aggregation``: a measure's aggregate, and ratios from their leaves;
- ``join_plan``: which tables join, in what order, and the fan-out guard;
- ``select_assembly``: the grouped selects, their combination, ORDER BY and LIMIT;
- ``literals``: the SQL with its values written in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from chatter.semantic.aggregation import measure_expr
from chatter.semantic.join_plan import SEP
from chatter.semantic.literals import literal_sql, to_literal
from chatter.semantic.model import SemanticModel
from chatter.semantic.predicates import filter_expr, measure_filters
from chatter.semantic.query import ResolvedQuery
from chatter.semantic.select_assembly import SelectAssembler, dimension_expr
from chatter.semantic.sql_nodes import DIALECT

__all__ = [
    "DIALECT",
    "SEP",
    "CompiledQuery",
    "compile_query",
    "dimension_expr",
    "filter_expr",
    "literal_sql",
    "measure_expr",
    "measure_filters",
    "required_columns",
    "to_literal",
]


@dataclass(frozen=True)
class CompiledQuery:
    """SQL with ``$p`` placeholders plus their values, and the same SQL with literals written in."""

    sql: str
    params: dict[str, Any]
    literal_sql: str
    columns: tuple[str, ...]
    required: dict[str, frozenset[str]]  # physical table -> columns the SQL reads
    ast: exp.Expr = field(repr=False, compare=False)
    dimensions: tuple[str, ...] = ()  # the output columns that are dimensions


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
    assembler = SelectAssembler(query, model)
    ast = assembler.compile(row_cap)
    params = assembler.params.values
    columns = tuple([d.alias for d in query.dimensions] + [m.measure.name for m in query.measures])
    return CompiledQuery(
        sql=ast.sql(DIALECT),
        params=dict(params),
        literal_sql=literal_sql(ast, params),
        columns=columns,
        required=required_columns(ast, model),
        ast=ast,
        dimensions=tuple(d.alias for d in query.dimensions),
    )
