"""The compiled SQL with its placeholders written in as typed literals (for people and logs; the
engine runs the parameterized SQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from chatter.semantic.sql_nodes import DIALECT


def literal_sql(ast: exp.Expr, params: dict[str, Any], dialect: str = DIALECT) -> str:
    """The SQL with each placeholder replaced by its value as a typed literal."""

    def fill(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in params:
            return to_literal(params[node.name])
        return node

    return ast.copy().transform(fill).sql(dialect)


def to_literal(value: Any) -> exp.Expr:
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.convert(value)
