"""SemanticQuery: what to measure, by what, for which rows; validated against a model.

Validation resolves every name to the model and coerces every value to its dimension's type, so
the compiler only ever sees known identifiers and typed parameter values.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatter.errors import (
    InvalidQueryError,
    InvalidValueError,
    UnknownFieldError,
    UnknownOperatorError,
    UnknownTimeGrainError,
    invalid_value_from,
)
from chatter.semantic.model import TIME_GRAINS, FieldRef, MeasureRef, SemanticModel, TimeGrain
from chatter.semantic.values import OPERATORS, coerce

_ORDERED_TYPES = ("number", "date", "timestamp", "string")
MAX_LIST_VALUES = 1000
MAX_LIMIT = 1_000_000
GRAIN_SEPARATOR = "__"


class Filter(BaseModel):
    """``field op value``: e.g. ``{"field": "signup_date", "op": ">=", "value": "2024-01-01"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(max_length=200)
    op: str = Field(default="=", max_length=20)
    value: Any = None


class OrderBy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(max_length=200)
    descending: bool = False


class SemanticQuery(BaseModel):
    """Measures by dimensions, filtered, ordered and limited; names refer to the semantic model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measures: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    time_grain: TimeGrain | None = None
    order_by: tuple[OrderBy, ...] = ()
    limit: int | None = Field(default=None, ge=1, le=MAX_LIMIT)

    @field_validator("measures", "dimensions")
    @classmethod
    def _names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if len(names) > 50:
            raise ValueError("at most 50 names")
        return names

    @classmethod
    def parse(cls, data: Any) -> SemanticQuery:
        """Build from untrusted data (JSON, CLI), turning shape errors into InvalidValueError."""
        if isinstance(data, SemanticQuery):
            return data
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            if (
                first["type"] == "literal_error"
                and first["loc"]
                and first["loc"][0] == "time_grain"
            ):
                raise UnknownTimeGrainError(str(first.get("input")), TIME_GRAINS) from None
            raise invalid_value_from(err, "") from None


class ResolvedDimension(BaseModel):
    """A dimension of the query: where it lives, its time grain, and its output column."""

    model_config = ConfigDict(frozen=True)

    ref: FieldRef
    grain: TimeGrain | None
    alias: str


class ResolvedFilter(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: FieldRef
    op: str
    values: tuple[Any, ...]  # typed; one for comparisons, two for between, n for in


class ResolvedQuery(BaseModel):
    """A SemanticQuery with every name resolved to the model and every value typed."""

    model_config = ConfigDict(frozen=True)

    measures: tuple[MeasureRef, ...]
    dimensions: tuple[ResolvedDimension, ...]
    filters: tuple[ResolvedFilter, ...]
    order_by: tuple[tuple[str, bool], ...]  # (output column, descending)
    limit: int | None
    base_tables: tuple[str, ...]


def resolve(
    query: SemanticQuery, model: SemanticModel, scope: tuple[Filter, ...] = ()
) -> ResolvedQuery:
    """Check ``query`` against ``model``; ``scope`` adds mandatory row filters (data scope)."""
    if not query.measures and not query.dimensions:
        raise InvalidQueryError(
            "A query needs at least one measure or dimension. Measures: "
            + ", ".join(model.measure_names())
            + "."
        )
    measures = _unique([model.measure(name) for name in query.measures], "measure")
    base = tuple(dict.fromkeys(leaf.table for m in measures for leaf in leaf_measures(model, m)))
    dims = [_resolve_dimension(model, name, query.time_grain, base) for name in query.dimensions]
    if not base:
        base = (dims[0].ref.table,)
    dims = _with_unique_aliases(dims)
    filters = [resolve_filter(model, f, base) for f in (*scope, *query.filters)]
    outputs = [d.alias for d in dims] + [m.measure.name for m in measures]
    order = []
    for item in query.order_by:
        name = item.field.split(".")[-1]
        if name not in outputs:
            raise UnknownFieldError(
                item.field, outputs, context="in order_by (order by a column the query returns)"
            )
        order.append((name, item.descending))
    return ResolvedQuery(
        measures=tuple(measures),
        dimensions=tuple(dims),
        filters=tuple(filters),
        order_by=tuple(order),
        limit=query.limit,
        base_tables=base,
    )


def leaf_measures(model: SemanticModel, ref: MeasureRef) -> list[MeasureRef]:
    """The aggregate measures a (possibly ratio) measure is computed from."""
    m = ref.measure
    if m.agg != "ratio":
        return [ref]
    assert m.numerator and m.denominator
    return [
        *leaf_measures(model, model.measure(m.numerator, home=ref.table)),
        *leaf_measures(model, model.measure(m.denominator, home=ref.table)),
    ]


def _unique(refs: list[MeasureRef], kind: str) -> list[MeasureRef]:
    seen: dict[str, MeasureRef] = {}
    for ref in refs:
        if ref.measure.name in seen and seen[ref.measure.name] != ref:
            raise InvalidQueryError(f"Two {kind}s named {ref.measure.name!r}; ask for one.")
        seen[ref.measure.name] = ref
    return list(seen.values())


def _split_grain(name: str) -> tuple[str, str | None]:
    head, sep, tail = str(name).rpartition(GRAIN_SEPARATOR)
    if sep and tail in TIME_GRAINS:
        return head, tail
    return str(name), None


def _resolve_dimension(
    model: SemanticModel, name: str, default_grain: TimeGrain | None, base: tuple[str, ...]
) -> ResolvedDimension:
    field, grain = _split_grain(name)
    ref = model.dimension(field, base)
    if grain is not None and not ref.dimension.is_time:
        raise InvalidValueError(
            f"dimension {field}",
            grain,
            f"no time grain: {field} is a {ref.dimension.type}, not a date",
        )
    if grain is None and ref.dimension.is_time:
        grain = default_grain
    alias = ref.dimension.name + (f"{GRAIN_SEPARATOR}{grain}" if grain else "")
    return ResolvedDimension(ref=ref, grain=grain, alias=alias)  # type: ignore[arg-type]


def _with_unique_aliases(dims: list[ResolvedDimension]) -> list[ResolvedDimension]:
    out: list[ResolvedDimension] = []
    seen: set[tuple[str, str | None]] = set()
    for d in dims:
        key = (d.ref.qualified, d.grain)
        if key in seen:
            continue  # the same dimension asked twice is one column
        seen.add(key)
        out.append(d)
    aliases = [d.alias for d in out]
    return [
        d.model_copy(update={"alias": f"{d.ref.table}{GRAIN_SEPARATOR}{d.alias}"})
        if aliases.count(d.alias) > 1
        else d
        for d in out
    ]


def resolve_filters(
    filters: Any, model: SemanticModel, base_tables: tuple[str, ...] = ()
) -> tuple[ResolvedFilter, ...]:
    """Check filters given alone (e.g. in a step's parameters) against the model."""
    if not isinstance(filters, list | tuple):
        raise InvalidValueError("filters", filters, "a list of {field, op, value} objects")
    parsed = []
    for item in filters:
        try:
            parsed.append(item if isinstance(item, Filter) else Filter.model_validate(item))
        except ValidationError as err:
            raise InvalidValueError(
                "filters",
                item,
                "an object with field, op and value",
                reason=str(err.errors()[0]["msg"]).lower(),
            ) from None
    return tuple(resolve_filter(model, f, base_tables) for f in parsed)


def resolve_filter(model: SemanticModel, f: Filter, base: tuple[str, ...]) -> ResolvedFilter:
    op = OPERATORS.get(str(f.op).strip().lower())
    if op is None:
        raise UnknownOperatorError(
            f.op, sorted(set(OPERATORS)), context=f"in the filter on {f.field!r}"
        )
    ref = model.dimension(f.field, base, kind=UnknownFieldError)
    dim = ref.dimension
    item = f"filter {ref.dimension.name} {op}"
    if op in ("is_null", "is_not_null"):
        if f.value not in (None, "", [], True):
            raise InvalidValueError(item, f.value, "no value")
        return ResolvedFilter(ref=ref, op=op, values=())
    if op in ("in", "not_in"):
        raw = _as_list(f.value)
        if not 1 <= len(raw) <= MAX_LIST_VALUES:
            raise InvalidValueError(item, f.value, f"a list of 1 to {MAX_LIST_VALUES} values")
        return ResolvedFilter(ref=ref, op=op, values=tuple(coerce(v, dim.type, item) for v in raw))
    if op == "between":
        raw = _as_list(f.value)
        if len(raw) != 2:
            raise InvalidValueError(item, f.value, "two values [low, high]")
        if dim.type == "boolean":
            raise InvalidValueError(item, f.value, "a comparable type (booleans have no range)")
        low, high = (coerce(v, dim.type, item) for v in raw)
        return ResolvedFilter(ref=ref, op=op, values=(low, high))
    if op == "contains" and dim.type != "string":
        raise InvalidValueError(item, f.value, f"a string field ({dim.name} is {dim.type})")
    if op in ("<", "<=", ">", ">=") and dim.type not in _ORDERED_TYPES:
        raise InvalidValueError(item, f.value, f"= or != ({dim.name} is {dim.type})")
    if isinstance(f.value, list | tuple | dict):
        raise InvalidValueError(item, f.value, f"one {dim.type} value")
    return ResolvedFilter(ref=ref, op=op, values=(coerce(f.value, dim.type, item),))


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]
