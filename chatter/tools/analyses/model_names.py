"""Physical tables and columns an analysis needs, looked up in the semantic model by the names
its parameters give (so a user's own model works when it names the same roles)."""

from __future__ import annotations

from dataclasses import dataclass

from chatter.errors import InvalidQueryError
from chatter.semantic.model import FieldRef, SemanticModel


@dataclass(frozen=True)
class EventSource:
    """A table of events per entity with a column naming the feature used."""

    table: str  # physical table
    alias: str  # the model's table name (columns are qualified with it)
    key: str  # column that joins an event to its entity
    feature: str  # column holding the feature name


@dataclass(frozen=True)
class RevenueSource:
    """A table of revenue per entity and period, with the plan billed."""

    table: str
    alias: str
    key: str
    period: str
    plan: str
    amount: str


def entity_key(model: SemanticModel, table: str, entity_table: str) -> str:
    """The column of ``table`` that joins it to ``entity_table`` (or the entity's own key)."""
    t = model.tables[table]
    if table == entity_table:
        return t.primary_key[0]
    for join in t.joins:
        if join.to == entity_table and len(join.on) == 1:
            return next(iter(join.on))
    raise InvalidQueryError(
        f"Table {table!r} has no single-column join to {entity_table!r} in the semantic model, "
        f"so its rows cannot be attributed to {entity_table}."
    )


def dimension_on(model: SemanticModel, name: str, table: str) -> FieldRef:
    """Dimension ``name`` as defined on ``table`` (qualified names allowed)."""
    ref = model.dimension(name if "." in name else f"{table}.{name}")
    if ref.table != table:
        raise InvalidQueryError(f"Dimension {name!r} is not on table {table!r}.")
    return ref


def event_source(model: SemanticModel, feature_dimension: str, entity_table: str) -> EventSource:
    ref = model.dimension(feature_dimension)
    t = model.tables[ref.table]
    return EventSource(
        table=t.table,
        alias=t.name,
        key=entity_key(model, t.name, entity_table),
        feature=ref.dimension.column,
    )


def revenue_source(
    model: SemanticModel,
    revenue_measure: str,
    period_dimension: str,
    plan_dimension: str,
    entity_table: str,
) -> RevenueSource:
    measure = model.measure(revenue_measure)
    if measure.measure.agg != "sum" or not measure.measure.column:
        raise InvalidQueryError(f"Measure {revenue_measure!r} must be a sum over a column.")
    t = model.tables[measure.table]
    return RevenueSource(
        table=t.table,
        alias=t.name,
        key=entity_key(model, t.name, entity_table),
        period=dimension_on(model, period_dimension, t.name).dimension.column,
        plan=dimension_on(model, plan_dimension, t.name).dimension.column,
        amount=measure.measure.column,
    )


def qualify(model: SemanticModel, dimension: str, table: str) -> str:
    """``table.dimension`` when that table defines it, else the name as given."""
    t = model.tables.get(table)
    if "." not in dimension and t is not None and dimension in t.dimensions:
        return f"{table}.{dimension}"
    return dimension
