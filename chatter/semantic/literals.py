"""The compiled SQL with its placeholders written in as typed literals (for people and logs; the
engine runs the parameterized SQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from chatter.lru import LruCache
from chatter.semantic.sql_nodes import DIALECT

# Rendered once per statement and values: a repeated run shows the same SQL, and writing the
# values in (a copy of the tree, then its SQL) cost more than running a small statement.
_SHOWN = LruCache[str](size=2048)


def literal_sql(
    ast: exp.Expr, params: dict[str, Any], dialect: str = DIALECT, *, rendered: str | None = None
) -> str:
    """The SQL with each placeholder replaced by its value as a typed literal. ``rendered``:
    ``ast`` as the engine runs it, in ``dialect``; given, it names the statement exactly (with
    the values' types and reprs), so the literal SQL of a repeat is looked up, not rebuilt."""

    def fill(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in params:
            return to_literal(params[node.name])
        return node

    def build() -> str:
        return ast.transform(fill).sql(dialect)  # transform copies: ``ast`` is left as it was

    if rendered is None:
        return build()
    values = tuple(sorted((k, type(v).__qualname__, repr(v)) for k, v in params.items()))
    return _SHOWN.get((dialect, rendered, values), build)


def to_literal(value: Any) -> exp.Expr:
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.convert(value)
