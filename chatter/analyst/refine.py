"""Structural refinements of a SemanticQuery: a follow-up edits the query, it never regenerates
SQL from text. The chat API's /refine uses the same operations."""

from __future__ import annotations

from typing import Any, Literal

from chatter.errors import InvalidValueError
from chatter.semantic.query import GRAIN_SEPARATOR, SemanticQuery

RefineKind = Literal[
    "add_filter",
    "change_limit",
    "add_columns",
    "change_sort",
    "simplify",
    "replace_dimensions",
    "replace_measures",
    "change_grain",
]
REFINEMENTS: tuple[str, ...] = RefineKind.__args__  # type: ignore[attr-defined]


def _with(query: SemanticQuery, **changes: Any) -> SemanticQuery:
    data = query.model_dump(mode="json")
    data.update(changes)
    return SemanticQuery.parse(data)


def _short(name: str) -> str:
    return name.split(".")[-1].split(GRAIN_SEPARATOR)[0]


def add_filter(query: SemanticQuery, field: str, op: str, value: Any) -> SemanticQuery:
    """Keep only rows where ``field op value``; a filter on the same field and op is replaced."""
    kept = [
        f.model_dump()
        for f in query.filters
        if not (_short(f.field) == _short(field) and f.op == op)
    ]
    return _with(query, filters=[*kept, {"field": field, "op": op, "value": value}])


def change_limit(
    query: SemanticQuery, limit: int | None, descending: bool | None = None
) -> SemanticQuery:
    """At most ``limit`` rows; with a direction, ordered by the first measure that way."""
    if limit is not None and limit < 1:
        raise InvalidValueError("limit", limit, "a whole number of at least 1")
    changes: dict[str, Any] = {"limit": limit}
    if descending is not None and query.measures:
        changes["order_by"] = [{"field": _short(query.measures[0]), "descending": descending}]
    return _with(query, **changes)


def add_columns(query: SemanticQuery, dimensions: list[str]) -> SemanticQuery:
    """Also group by ``dimensions``."""
    present = {_short(d) for d in query.dimensions}
    extra = [d for d in dimensions if _short(d) not in present]
    return _with(query, dimensions=[*query.dimensions, *extra])


def replace_dimensions(query: SemanticQuery, dimensions: list[str]) -> SemanticQuery:
    """Group by ``dimensions`` instead; a sort on a dropped dimension goes too."""
    keep = {_short(d) for d in dimensions} | {_short(m) for m in query.measures}
    order = [o.model_dump() for o in query.order_by if _short(o.field) in keep]
    return _with(query, dimensions=list(dimensions), order_by=order)


def replace_measures(query: SemanticQuery, measures: list[str]) -> SemanticQuery:
    """Measure ``measures`` instead, keeping the slicing; a sort on the first measure moves to
    the new first measure, in the same direction."""
    order = []
    for o in query.order_by:
        if query.measures and _short(o.field) == _short(query.measures[0]) and measures:
            order.append({"field": _short(measures[0]), "descending": o.descending})
        elif _short(o.field) in {_short(d) for d in query.dimensions}:
            order.append(o.model_dump())
    return _with(query, measures=list(measures), order_by=order)


def change_sort(
    query: SemanticQuery, field: str | None = None, descending: bool = True
) -> SemanticQuery:
    """Order by ``field`` (default: the current sort's field, or the first measure)."""
    target = field or (
        query.order_by[0].field
        if query.order_by
        else (query.measures[0] if query.measures else None)
    )
    if target is None:
        raise InvalidValueError("sort", field, "a measure or dimension of the query")
    return _with(query, order_by=[{"field": _short(target), "descending": descending}])


def change_grain(
    query: SemanticQuery, grain: str, time_dimension: str | None = None
) -> SemanticQuery:
    """Time dimensions at ``grain``; with none in the query, ``time_dimension`` is added."""
    dims, changed = [], False
    for d in query.dimensions:
        head, sep, tail = d.rpartition(GRAIN_SEPARATOR)
        if sep and tail in ("day", "week", "month", "quarter", "year"):
            dims.append(f"{head}{GRAIN_SEPARATOR}{grain}")
            changed = True
        else:
            dims.append(d)
    if not changed and time_dimension:
        dims.append(f"{time_dimension}{GRAIN_SEPARATOR}{grain}")
    order = [
        o.model_dump()
        for o in query.order_by
        if _short(o.field) in {_short(m) for m in query.measures}
    ]
    return _with(query, dimensions=dims, order_by=order)


def simplify(query: SemanticQuery) -> SemanticQuery:
    """Back to the essentials: the measures by the first dimension, no filters, no limit."""
    return _with(
        query,
        dimensions=list(query.dimensions[:1]),
        filters=[],
        order_by=[],
        limit=None,
        time_grain=None,
    )


def refine(query: SemanticQuery, kind: str, **arguments: Any) -> SemanticQuery:
    """Apply one named refinement (the chat API's /refine)."""
    operations = {
        "add_filter": add_filter,
        "change_limit": change_limit,
        "add_columns": add_columns,
        "change_sort": change_sort,
        "simplify": simplify,
        "replace_dimensions": replace_dimensions,
        "replace_measures": replace_measures,
        "change_grain": change_grain,
    }
    if kind not in operations:
        from chatter.errors import UnknownParameterError

        raise UnknownParameterError(kind, operations, context="as a refinement")
    operation = operations[kind]
    _check_arguments(kind, operation, arguments)
    from pydantic import ValidationError, validate_call

    from chatter.errors import invalid_value_from

    try:  # types as the signature says: a limit of "ten" is refused, not compared with 1
        checked: Any = validate_call(operation)  # type: ignore[call-overload]
        return checked(query, **arguments)
    except ValidationError as err:
        raise invalid_value_from(err, f"refinement {kind}") from None


def _check_arguments(kind: str, operation: Any, arguments: dict[str, Any]) -> None:
    """Unknown or missing parameters named against the refinement's own (never Python's
    signature text, never the caller's whole input)."""
    import inspect

    from chatter.errors import UnknownParameterError

    params = list(inspect.signature(operation).parameters.values())[1:]  # after the query
    names = [p.name for p in params]
    for name in arguments:
        if name not in names:
            raise UnknownParameterError(
                str(name)[:80], names or ["(none)"], context=f"for the refinement {kind}"
            )
    missing = [p.name for p in params if p.default is p.empty and p.name not in arguments]
    if missing:
        raise InvalidValueError(
            f"refinement {kind}",
            sorted(arguments),
            f"parameters {', '.join(names)}",
            reason=f"missing {', '.join(missing)}",
        )
