"""The sentence an answer to one query opens with, when the rows alone would not say it:
"which channel converts best" names the top channel (the ranking follows as context), and a
time window that holds no data says so and says where the data is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chatter.number_text import cell_text
from chatter.result import Interpretation, StepResult
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.tools.insight.wording import humanise


def _measure_text(model: SemanticModel, measure: str, value: Any) -> str:
    return cell_text(value, model.measure(measure).measure.format)


def top_sentence(step: StepResult, query: SemanticQuery, model: SemanticModel) -> str | None:
    """ "organic has the highest conversion rate (14.20%); next: referral (12.10%)." for a
    question asking which one, answered by rows ordered by a measure."""
    if not step.rows or not query.order_by or not query.dimensions:
        return None
    measure = query.order_by[0].field
    if measure not in query.measures:
        return None
    label = query.dimensions[0].split(".")[-1]
    rows = [r for r in step.rows if r.get(measure) is not None]
    if not rows or label not in rows[0]:
        return None
    most = "highest" if query.order_by[0].descending else "lowest"
    first, value = rows[0], rows[0][measure]
    tied = [str(r[label]) for r in rows[1:] if r[measure] == value]
    name = humanise(measure)
    amount = _measure_text(model, measure, value)
    if tied:
        head = f"{' and '.join([str(first[label]), *tied])} tie for the {most} {name} ({amount})"
    else:
        head = f"{first[label]} has the {most} {name} ({amount})"
    rest = [r for r in rows[1:] if r[measure] != value]
    if rest:
        nxt = rest[0]
        head += f"; next: {nxt[label]} ({_measure_text(model, measure, nxt[measure])})"
    return head + f", of {len(step.rows)} ranked below."


def _holds_nothing(step: StepResult, query: SemanticQuery) -> bool:
    if not step.rows:
        return True
    return all(not r.get(m) for r in step.rows for m in query.measures)


def _window_filters(query: SemanticQuery, interpretation: Interpretation) -> list[Any]:
    field = (interpretation.time_window or {}).get("field")
    return [f for f in query.filters if field and f.field == field]


def data_span(warehouse: Warehouse, measure: str, field: str, keep: list[Any]) -> str | None:
    """ "signup date runs from 2024-01-01 to 2025-12-10": where ``measure`` has data on
    ``field`` (under the filters ``keep``), or None when it has none."""
    query = SemanticQuery.parse({"measures": [measure]})
    first = _bound(warehouse, query, field, keep, last=False)
    if first is None:
        return None
    last = _bound(warehouse, query, field, keep, last=True)
    return f"{humanise(field.split('.')[-1])} runs from {first} to {last}"


def _bound(
    warehouse: Warehouse, query: SemanticQuery, field: str, keep: list[Any], last: bool
) -> Any:
    """The first or last value of ``field`` where the query's measures have rows (under its
    other filters): a semantic query, ordered and cut to one row."""
    probe = SemanticQuery.parse(
        {
            "measures": query.measures[:1],
            "dimensions": [field],
            "filters": [f.model_dump(mode="json") for f in keep],
            "order_by": [{"field": field, "descending": last}],
            "limit": 1,
        }
    )
    rows = warehouse.query(probe).records()
    value = rows[0].get(field.split(".")[-1]) if rows else None
    return value.date() if isinstance(value, dt.datetime) else value


def empty_window_sentence(
    warehouse: Warehouse, step: StepResult, query: SemanticQuery, interpretation: Interpretation
) -> str | None:
    """ "There is no data for month from 2026-06-01 to 2026-11-30: the data runs from
    2024-01-01 to 2025-12-01." when the window the question named holds nothing."""
    window = _window_filters(query, interpretation)
    if not window or not _holds_nothing(step, query):
        return None
    keep = [f for f in query.filters if f not in window]
    where = data_span(warehouse, query.measures[0], window[0].field, keep)
    said = (interpretation.time_window or {}).get("said") or "that time window"
    if where is None:
        return f"There is no data for {said!r}, nor at any other time for these filters."
    return f"There is no data for {said!r}: {where}."
