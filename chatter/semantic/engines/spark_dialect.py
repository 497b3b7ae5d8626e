"""Spark SQL as chatter writes it: sqlglot's ``spark`` dialect with two spellings that Spark
itself reads differently, so the SQL an answer shows is the SQL that ran.

- ``TRUNC(d, 'DAY')`` is NULL in Spark (its ``TRUNC`` knows years to weeks only): dates are
  truncated with ``DATE_TRUNC(unit, d)``, which knows every unit (and starts weeks on Monday,
  as DuckDB does).
- ``PERCENTILE_CONT(x, q)`` is not a Spark function, and sqlglot writes the ``WITHIN GROUP``
  form as the approximate ``PERCENTILE_APPROX``: the exact percentile is ``PERCENTILE(x, q)``,
  which interpolates linearly, as DuckDB's ``QUANTILE_CONT``.

Importing this module registers the dialect under ``NAME`` for sqlglot's ``read=``/``write=``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.generator import Generator

#: The name sqlglot knows the dialect by (its class name, lowered).
NAME = "chatterspark"


def _date_trunc(self: Generator, node: exp.DateTrunc) -> str:
    unit = exp.Literal.string(node.text("unit").upper() or "DAY")
    return self.func("DATE_TRUNC", unit, node.this)


def _percentile(self: Generator, node: exp.PercentileCont) -> str:
    if node.expression is None:  # the fraction alone, inside WITHIN GROUP
        return self.func("PERCENTILE_CONT", node.this)
    return self.func("PERCENTILE", node.this, node.expression)


def _within_group(self: Generator, node: exp.WithinGroup) -> str:
    """``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)`` as the exact ``PERCENTILE(x, q)``
    (sqlglot's spark writes it as the approximate ``PERCENTILE_APPROX``)."""
    inner, order = node.this, node.expression
    if isinstance(inner, exp.PercentileCont) and isinstance(order, exp.Order):
        keys = order.expressions
        if len(keys) == 1 and not keys[0].args.get("desc"):
            return self.func("PERCENTILE", keys[0].this, inner.this)
    return f"{self.sql(inner)} WITHIN GROUP ({self.sql(order).strip()})"


class ChatterSpark(Spark):
    class Generator(Spark.Generator):  # type: ignore[valid-type, misc]
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Callable[..., str]]] = {
            **Spark.Generator.TRANSFORMS,
            exp.DateTrunc: _date_trunc,
            exp.PercentileCont: _percentile,
            exp.WithinGroup: _within_group,
        }


assert NAME in ChatterSpark.classes, "sqlglot registers a dialect by its lowered class name"
