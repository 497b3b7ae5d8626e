"""PostgreSQL as chatter writes it: sqlglot's ``postgres`` dialect with ``ANY_VALUE`` (which
PostgreSQL has only from version 16) written as ``MIN`` (one of the group's values, as
``ANY_VALUE`` is), so the SQL an answer shows is the SQL that ran on every supported server.

Importing this module registers the dialect under ``NAME`` for sqlglot's ``read=``/``write=``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.generator import Generator

#: The name sqlglot knows the dialect by (its class name, lowered).
NAME = "chatterpostgres"


def _any_value(self: Generator, node: exp.AnyValue) -> str:
    return self.func("MIN", node.this)


class ChatterPostgres(Postgres):
    class Generator(Postgres.Generator):  # type: ignore[valid-type, misc]
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Callable[..., str]]] = {
            **Postgres.Generator.TRANSFORMS,
            exp.AnyValue: _any_value,
        }


assert NAME in ChatterPostgres.classes, "sqlglot registers a dialect by its lowered class name"
