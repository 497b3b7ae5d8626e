"""Names to model objects: tables, measures and dimensions by short or ``table.name`` name.

Every "unknown X" error (with its "did you mean") and every "ambiguous name" error of the model
starts here.
"""

from __future__ import annotations

from collections.abc import Mapping

from chatter.errors import (
    AmbiguousNameError,
    UnknownDimensionError,
    UnknownMeasureError,
    UnknownNameError,
    UnknownTableError,
)
from chatter.semantic.join_paths import has_flat_path
from chatter.semantic.model_schema import Dimension, Measure, StrictModel, Table


class FieldRef(StrictModel):
    """A resolved dimension: which table defines it and how."""

    table: str
    dimension: Dimension

    @property
    def qualified(self) -> str:
        return f"{self.table}.{self.dimension.name}"


class MeasureRef(StrictModel):
    table: str
    measure: Measure

    @property
    def qualified(self) -> str:
        return f"{self.table}.{self.measure.name}"


def measure_index(tables: Mapping[str, Table]) -> dict[str, list[str]]:
    """Short measure name -> the tables that define it."""
    index: dict[str, list[str]] = {}
    for t in tables.values():
        for m in t.measures:
            index.setdefault(m, []).append(t.name)
    return index


def measure_names(tables: Mapping[str, Table]) -> list[str]:
    """Short names where one table defines the measure, ``table.name`` where several do."""
    index = measure_index(tables)
    names = [n for n, owners in index.items() if len(owners) == 1]
    names += [f"{t}.{n}" for n, owners in index.items() if len(owners) > 1 for t in owners]
    return sorted(names)


def dimension_names(tables: Mapping[str, Table]) -> list[str]:
    """Short names; ``table.name`` also works and picks one table's dimension."""
    return sorted({d for t in tables.values() for d in t.dimensions})


def find_table(tables: Mapping[str, Table], name: str) -> Table:
    """The table called ``name``; an unknown name is an error that lists the tables."""
    if name not in tables:
        raise UnknownTableError(name, tables)
    return tables[name]


def find_measure(tables: Mapping[str, Table], name: str, home: str | None = None) -> MeasureRef:
    """Resolve a measure by short or ``table.measure`` name; a short name several tables
    define goes to table ``home`` when it is one of them (a ratio's own table)."""
    table, _, short = str(name).rpartition(".")
    if table:
        t = tables.get(table)
        if t is None or short not in t.measures:
            raise UnknownMeasureError(name, measure_names(tables))
        return MeasureRef(table=table, measure=t.measures[short])
    owners = measure_index(tables).get(short, [])
    if not owners:
        raise UnknownMeasureError(name, measure_names(tables))
    if len(owners) > 1 and home in owners:
        owners = [home]
    if len(owners) > 1:
        raise AmbiguousNameError(name, [f"{t}.{short}" for t in owners])
    return MeasureRef(table=owners[0], measure=tables[owners[0]].measures[short])


def dimension_candidates(tables: Mapping[str, Table], name: str) -> list[FieldRef]:
    """Every table's dimension that ``name`` could mean (qualified names give one)."""
    table, _, short = str(name).rpartition(".")
    if table:
        t = tables.get(table)
        if t is None or short not in t.dimensions:
            return []
        return [FieldRef(table=table, dimension=t.dimensions[short])]
    return [
        FieldRef(table=t.name, dimension=t.dimensions[short])
        for t in tables.values()
        if short in t.dimensions
    ]


def find_dimension(
    tables: Mapping[str, Table],
    name: str,
    base_tables: tuple[str, ...] = (),
    *,
    kind: type[UnknownNameError] = UnknownDimensionError,
) -> FieldRef:
    """Resolve a dimension. A short name that several tables define goes to the one among the
    query's base tables, else to the one every base table reaches without fan-out."""
    candidates = dimension_candidates(tables, name)
    if not candidates:
        raise kind(name, dimension_names(tables))
    if len(candidates) == 1:
        return candidates[0]
    in_base = [c for c in candidates if c.table in base_tables]
    if len(in_base) == 1:
        return in_base[0]
    if not in_base:
        # With no base table, the dimension table every other candidate looks up wins.
        sources = base_tables or tuple(c.table for c in candidates)
        flat = [c for c in candidates if all(has_flat_path(tables, b, c.table) for b in sources)]
        if len(flat) == 1:
            return flat[0]
    raise AmbiguousNameError(name, [c.qualified for c in candidates])
