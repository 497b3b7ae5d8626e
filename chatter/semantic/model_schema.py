"""The YAML schema of a semantic model: tables with their dimensions, measures and joins.

Each class checks only itself (a ratio names its parts, a join has columns). The checks that span
tables (joins to known tables, measure filters on known dimensions, ratio cycles) are in
``model_checks``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DimensionType = Literal["string", "number", "boolean", "date", "timestamp"]
Aggregation = Literal[
    "count", "count_distinct", "sum", "avg", "min", "max", "variance", "stddev", "ratio"
]
TimeGrain = Literal["day", "week", "month", "quarter", "year"]
TIME_GRAINS: tuple[TimeGrain, ...] = ("day", "week", "month", "quarter", "year")
Relationship = Literal["many_to_one", "one_to_one"]

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class StrictModel(BaseModel):
    """Unknown keys are errors and instances never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MeasureFilter(StrictModel):
    """A condition inside a measure, e.g. converted users are users where converted = true."""

    field: str = Field(pattern=NAME_PATTERN)
    op: str = "="
    value: Any = None


class Dimension(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    column: str = Field(pattern=NAME_PATTERN)
    type: DimensionType = "string"
    description: str = ""
    synonyms: tuple[str, ...] = ()

    @property
    def is_time(self) -> bool:
        return self.type in ("date", "timestamp")


class NonAdditive(StrictModel):
    """A measure that does not add up over a date (MRR, subscribers): over several periods of
    ``dimension`` (at ``grain``, its native one) it is the ``window``'s value: the last
    period's, the first's, or the average over the periods."""

    dimension: str = Field(pattern=NAME_PATTERN)
    grain: TimeGrain = "day"
    window: Literal["last", "first", "average"] = "last"


class Measure(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    agg: Aggregation
    column: str | None = Field(default=None, pattern=NAME_PATTERN)
    filters: tuple[MeasureFilter, ...] = ()
    numerator: str | None = None
    denominator: str | None = None
    format: Literal["number", "percent", "currency"] = "number"
    description: str = ""
    synonyms: tuple[str, ...] = ()
    non_additive: NonAdditive | None = None

    @model_validator(mode="after")
    def _shape(self) -> Measure:
        if self.agg == "ratio":
            if not (self.numerator and self.denominator):
                raise ValueError("a ratio measure needs numerator and denominator")
            if self.column or self.filters or self.non_additive:
                raise ValueError("a ratio measure takes no column, filters or non_additive")
        else:
            if self.numerator or self.denominator:
                raise ValueError(f"numerator/denominator only apply to ratio, not {self.agg}")
            if self.agg not in ("count", "ratio") and not self.column:
                raise ValueError(f"a {self.agg} measure needs a column")
            if self.non_additive and self.agg not in ("sum", "count", "count_distinct"):
                raise ValueError("non_additive applies to sum, count and count_distinct measures")
        return self


class Join(StrictModel):
    """An edge from this table to ``to``: each row here matches at most one row there."""

    to: str = Field(pattern=NAME_PATTERN)
    on: dict[str, str]  # this table's column -> the other table's column
    relationship: Relationship = "many_to_one"

    @field_validator("on")
    @classmethod
    def _columns(cls, on: dict[str, str]) -> dict[str, str]:
        if not on:
            raise ValueError("a join needs at least one column pair")
        for left, right in on.items():
            if not (re.match(NAME_PATTERN, left) and re.match(NAME_PATTERN, right)):
                raise ValueError(f"invalid join column {left!r} -> {right!r}")
        return on


class Table(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    table: str = Field(pattern=NAME_PATTERN)  # the physical table in the database
    primary_key: tuple[str, ...]
    description: str = ""
    synonyms: tuple[str, ...] = ()
    dimensions: dict[str, Dimension] = {}
    measures: dict[str, Measure] = {}
    joins: tuple[Join, ...] = ()

    @field_validator("primary_key")
    @classmethod
    def _key(cls, key: tuple[str, ...]) -> tuple[str, ...]:
        if not key or not all(re.match(NAME_PATTERN, c) for c in key):
            raise ValueError("primary_key must name one or more columns (letters, digits, _)")
        return key

    def columns(self) -> set[str]:
        """Every physical column the model reads from this table."""
        cols = set(self.primary_key) | {d.column for d in self.dimensions.values()}
        cols |= {m.column for m in self.measures.values() if m.column}
        cols |= {c for j in self.joins for c in j.on}
        return cols
