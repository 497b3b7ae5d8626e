"""The sqlglot nodes every part of the compiler builds with: quoted identifiers, columns, model
tables, and the ``$p`` placeholders that carry values out of the SQL text."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from chatter.semantic.model import SemanticModel

DIALECT = "duckdb"


class Params:
    """Hands out ``$p1, $p2, ...`` placeholders and remembers their values."""

    def __init__(self, prefix: str = "p") -> None:
        self.values: dict[str, Any] = {}
        self.prefix = prefix

    def add(self, value: Any) -> exp.Placeholder:
        name = f"{self.prefix}{len(self.values) + 1}"
        self.values[name] = value
        return exp.Placeholder(this=name)


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(column: str, table: str | None = None) -> exp.Column:
    return exp.column(column, table=table, quoted=True)


def model_table(model: SemanticModel, name: str) -> exp.Table:
    """The model table ``name``: its physical table, aliased by the model's name."""
    physical = model.tables[name].table
    return exp.Table(this=ident(physical), alias=exp.TableAlias(this=ident(name)))
