"""Data scope for statements an analysis built itself (not from a SemanticQuery).

A scope is a set of mandatory row filters (``country = 'DE'``). Semantic queries get them from
``resolve``; an analysis's own statement gets them here: every model table it reads is replaced
by the subquery of that table's rows in scope, so no statement can see a row outside it, whatever
its joins and CTEs do. A filter on another table applies through the model's join path as an
``EXISTS`` (a semi-join: it never multiplies rows). A filter that cannot reach a table fails the
statement rather than running it unscoped.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from chatter.errors import InvalidQueryError
from chatter.semantic.model import SemanticModel
from chatter.semantic.predicates import filter_expr
from chatter.semantic.query import Filter, ResolvedFilter, resolve_filter
from chatter.semantic.sql_nodes import Params, col, ident

_ROWS = "__scope_rows"


def _condition(model: SemanticModel, table: str, f: ResolvedFilter, params: Params) -> exp.Expr:
    """``f`` as a condition on the rows of ``table`` (aliased ``_ROWS``)."""
    column = f.ref.dimension.column
    if f.ref.table == table:
        return filter_expr(f, col(column, _ROWS), params)
    path = model.join_path(table, f.ref.table)
    if path is None:
        raise InvalidQueryError(
            f"The data scope filters on {f.ref.qualified}, which table {table} cannot be joined "
            "to; refusing to read it unscoped."
        )
    aliases = [_ROWS] + [f"__scope_{i}" for i in range(1, len(path) + 1)]
    inner = exp.select(exp.Literal.number(1)).from_(
        exp.Table(this=ident(model.tables[path[0].target].table), alias=_alias(aliases[1]))
    )
    for k, edge in enumerate(path[1:], start=1):
        inner = inner.join(
            exp.Table(this=ident(model.tables[edge.target].table), alias=_alias(aliases[k + 1])),
            on=_on(edge.on, aliases[k], aliases[k + 1]),
        )
    inner = inner.where(
        _on(path[0].on, aliases[0], aliases[1]),
        filter_expr(f, col(column, aliases[-1]), params),
    )
    return exp.Exists(this=inner)


def _alias(name: str) -> exp.TableAlias:
    return exp.TableAlias(this=ident(name))


def _on(pairs: tuple[tuple[str, str], ...], left: str, right: str) -> exp.Expr:
    return exp.and_(*(exp.EQ(this=col(a, left), expression=col(b, right)) for a, b in pairs))


def scope_statement(
    ast: exp.Expr, model: SemanticModel, scope: tuple[Filter, ...], params: dict[str, Any]
) -> tuple[exp.Expr, dict[str, Any]]:
    """``ast`` with every model table it reads restricted to the rows in ``scope``, and the
    parameters with the scope's values added (as ``$scope1, ...``)."""
    if not scope:
        return ast, params
    physical = {t.table: t.name for t in model.tables.values()}
    scoped = ast.copy()
    ctes = {cte.alias_or_name for cte in scoped.find_all(exp.CTE)}
    placeholders = Params(prefix="scope")
    for node in list(scoped.find_all(exp.Table)):
        name = physical.get(node.name)
        if name is None or node.name in ctes or node.args.get("db"):
            continue
        conditions = [
            _condition(model, name, resolve_filter(model, f, (name,)), placeholders) for f in scope
        ]
        rows = (
            exp.select(exp.Star())
            .from_(exp.Table(this=ident(node.name), alias=_alias(_ROWS)))
            .where(*conditions)
        )
        node.replace(exp.Subquery(this=rows, alias=_alias(node.alias_or_name)))
    return scoped, {**params, **placeholders.values}
