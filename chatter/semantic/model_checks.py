"""Checks that span a model's tables: joins to known tables, measure filters that name a known
dimension, operator and value, ratios of known measures without cycles.

They raise ``ValueError`` so that, run from a pydantic validator, they read like the schema's own
errors.
"""

from __future__ import annotations

from collections.abc import Mapping

from chatter.errors import AmbiguousNameError, InvalidValueError, UnknownMeasureError
from chatter.semantic.model_lookup import MeasureRef, find_measure, measure_index
from chatter.semantic.model_schema import Measure, Table
from chatter.semantic.values import OPERATORS, coerce


def check_consistency(tables: Mapping[str, Table]) -> None:
    """Raise ``ValueError`` naming every cross-table problem (then the first ratio cycle)."""
    problems: list[str] = []
    for t in tables.values():
        for join in t.joins:
            if join.to not in tables:
                problems.append(f"tables.{t.name}.joins: unknown table {join.to!r}")
        for m in t.measures.values():
            if m.non_additive is not None:
                na = m.non_additive.dimension
                if na not in t.dimensions or not t.dimensions[na].is_time:
                    problems.append(
                        f"tables.{t.name}.measures.{m.name}.non_additive: {na!r} is not a date "
                        f"dimension of {t.name}"
                    )
            for f in m.filters:
                where = f"tables.{t.name}.measures.{m.name}.filters"
                if f.field not in t.dimensions:
                    problems.append(f"{where}: unknown dimension {f.field!r} of {t.name}")
                elif f.op not in OPERATORS:
                    problems.append(f"{where}: unknown operator {f.op!r}")
                elif OPERATORS[f.op] not in ("is_null", "is_not_null"):
                    dim = t.dimensions[f.field]
                    for v in f.value if isinstance(f.value, list) else [f.value]:
                        try:
                            coerce(v, dim.type, where)
                        except InvalidValueError as err:
                            problems.append(err.message)
    all_measures = measure_index(tables)
    for (table, mname), m in _all_measures(tables).items():
        for part in (m.numerator, m.denominator):
            if part is not None and not all_measures.get(part.split(".")[-1]):
                problems.append(f"tables.{table}.measures.{mname}: unknown measure {part!r}")
    if problems:
        raise ValueError("; ".join(problems))
    for table, mname in _all_measures(tables):
        try:
            _check_ratio_cycle(tables, table, mname, ())
        except (AmbiguousNameError, UnknownMeasureError) as err:
            raise ValueError(f"tables.{table}.measures.{mname}: {err.message}") from None
    shares = [_share_problem(tables, t, m) for (t, m) in _all_measures(tables)]
    if any(shares):
        raise ValueError("; ".join(p for p in shares if p))


def share_parts(
    tables: Mapping[str, Table], table: str, name: str
) -> tuple[MeasureRef, MeasureRef] | None:
    """Numerator and denominator of measure ``name`` of ``table`` when it is a share: a ratio
    of two counts of the same kind (of one column, if distinct), so that each level's
    numerator and denominator are hits out of trials; None for any other measure (a rate
    per something, "events per active user", or a sum over a count)."""
    m = tables[table].measures[name]
    if m.agg != "ratio" or not m.numerator or not m.denominator:
        return None
    top = find_measure(tables, m.numerator, home=table)
    base = find_measure(tables, m.denominator, home=table)
    kinds = (top.measure.agg, base.measure.agg)
    if kinds == ("count_distinct", "count_distinct"):
        return (top, base) if top.measure.column == base.measure.column else None
    return (top, base) if kinds == ("count", "count") else None


def is_share(tables: Mapping[str, Table], table: str, name: str) -> bool:
    """Is measure ``name`` of ``table`` a share (share_parts)? Its numerator then counts a
    subset of its denominator's rows: loading the model checked that."""
    return share_parts(tables, table, name) is not None


def _share_problem(tables: Mapping[str, Table], table: str, name: str) -> str | None:
    """A share's numerator must count a subset of its denominator's rows: the same table,
    and every filter the denominator has among the numerator's ("churned / converted"
    counting trials that never converted gives churn rates above what can happen)."""
    parts = share_parts(tables, table, name)
    if parts is None:
        return None
    top, base = parts
    keep = {(f.field, f.op, repr(f.value)) for f in top.measure.filters}
    missing = [f for f in base.measure.filters if (f.field, f.op, repr(f.value)) not in keep]
    if top.table == base.table and not missing:
        return None
    why = (
        f"{top.measure.name} is on {top.table}, {base.measure.name} on {base.table}"
        if top.table != base.table
        else f"{top.measure.name} lacks {base.measure.name}'s filter"
        + "".join(f" {f.field} {f.op} {f.value!r}" for f in missing[:1])
    )
    return (
        f"tables.{table}.measures.{name}: the share {top.measure.name} / {base.measure.name} "
        f"needs its numerator to count a subset of its denominator's rows ({why})"
    )


def _check_ratio_cycle(
    tables: Mapping[str, Table], table: str, name: str, seen: tuple[str, ...]
) -> None:
    key = f"{table}.{name}"
    if key in seen:
        raise ValueError(
            f"ratio measures refer to each other in a cycle: {' -> '.join([*seen, key])}"
        )
    m = tables[table].measures[name]
    for part in (m.numerator, m.denominator):
        if part:
            ref = find_measure(tables, part, home=table)
            _check_ratio_cycle(tables, ref.table, ref.measure.name, (*seen, key))


def _all_measures(tables: Mapping[str, Table]) -> dict[tuple[str, str], Measure]:
    return {(t.name, m.name): m for t in tables.values() for m in t.measures.values()}
