"""The LLM's reading of a question, when one is configured and the rules' reading is unsure or
left words unused: it proposes a whole interpretation (route, measures, dimensions, levels,
time window, order, limit, the words it could not use) through structured output whose schema
is generated from the model's names and the data's levels. The proposal is then checked as the
rules' reading is: every name must resolve, every level must be one the data has, the window's
dates must be real and in order, and unused words lower the confidence until the analyst asks
back. Anything invalid (or a failing server) leaves the rules' reading, which may itself ask.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, create_model

from chatter.analyst.decision import RouteDecision
from chatter.analyst.interpret import filters_for_window
from chatter.analyst.time_window import TimeWindow
from chatter.errors import ChatterError
from chatter.logs import get_logger
from chatter.result import Route
from chatter.semantic.query import SemanticQuery, resolve

if TYPE_CHECKING:
    from chatter.analyst.route import Router

log = get_logger(__name__)
LLM_CONFIDENCE = 0.75
UNUSED_PENALTY = 0.15  # per word the LLM could not use either
MAX_ENUM_LEVELS = 500  # levels listed in the schema; beyond, the schema would dwarf the prompt
GRAINS = ("day", "week", "month", "quarter", "year")


class InvalidReading(ValueError):
    """The LLM's proposal names something the model or the data does not have."""


def _literal(values: list[str]) -> Any:
    return Literal[tuple(values)] if values else str


def _list_of(values: list[str]) -> Any:
    return list[_literal(values)]  # type: ignore[misc]


def _optional(kind: Any) -> Any:
    return kind | None


def reading_schema(router: Router) -> type[BaseModel]:
    """The structured output the LLM must give, its names restricted to this model's and its
    levels to this data's."""
    vocab, model = router.vocab, router.model
    levels = sorted({v for values in vocab.levels.values() for v in values})[:MAX_ENUM_LEVELS]
    level_filter: dict[str, Any] = {
        "field": (_literal(sorted(vocab.levels)), Field(description="A dimension with values.")),
        "values": (_list_of(levels), Field(description="Values of that dimension, as named.")),
        "exclude": (bool, Field(default=False, description="True: all but these values.")),
    }
    window: dict[str, Any] = {
        "field": (
            _optional(_literal(sorted(vocab.dates) or ["date"])),
            Field(default=None, description="The date it filters."),
        ),
        "start": (dt.date | None, Field(default=None, description="First day, inclusive.")),
        "end": (dt.date | None, Field(default=None, description="Last day, inclusive.")),
    }
    reading: dict[str, Any] = {
        "route": (
            _literal([*router.templates, "query", "unclear"]),
            Field(description="A template, query for one lookup, unclear if you cannot tell."),
        ),
        "measures": (_list_of(model.measure_names()), Field(default_factory=list)),
        "dimensions": (_list_of(model.dimension_names()), Field(default_factory=list)),
        "grain": (_optional(_literal(list(GRAINS))), Field(default=None)),
        "levels": (list[create_model("LevelFilter", **level_filter)], Field(default_factory=list)),  # type: ignore[misc]
        "window": (_optional(create_model("TimeWindow", **window)), Field(default=None)),
        "order": (
            _optional(_literal(["highest_first", "lowest_first"])),
            Field(default=None, description="Order by the first measure."),
        ),
        "limit": (int | None, Field(default=None, ge=1, le=1000)),
        "unused_words": (
            list[str],
            Field(default_factory=list, description="Content words of the question not used."),
        ),
        "reason": (str, Field(description="One sentence: what the question asks.")),
    }
    return create_model("QuestionReading", **reading)


def _prompt(router: Router, question: str, today: dt.date) -> str:
    levels = "; ".join(f"{d}: {', '.join(v[:30])}" for d, v in sorted(router.vocab.levels.items()))
    return (
        "Read an analyst's question as a structured interpretation. Use only these names. "
        "Templates: "
        + "; ".join(f"{n}: {t.description}" for n, t in router.templates.items())
        + f". Measures: {', '.join(router.model.measure_names())}. Dimensions: "
        + f"{', '.join(router.model.dimension_names())}. Values of dimensions: {levels}. "
        + f"Today is {today.isoformat()}. Use route=query for one lookup of measures by "
        + "dimensions; list every content word you could not use in unused_words; never "
        + f"name a value the data lacks: use route=unclear instead. Question: {question}"
    )


def _level_filters(router: Router, proposed: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in proposed:
        known = {v.casefold(): v for v in router.vocab.levels.get(item.field, [])}
        chosen = []
        for value in item.values:
            if str(value).casefold() not in known:
                raise InvalidReading(f"{item.field} has no value {value!r}")
            chosen.append(known[str(value).casefold()])
        if not chosen:
            continue
        if len(chosen) == 1:
            out.append(
                {"field": item.field, "op": "!=" if item.exclude else "=", "value": chosen[0]}
            )
        else:
            out.append(
                {"field": item.field, "op": "not_in" if item.exclude else "in", "value": chosen}
            )
    return out


def _window(proposed: Any, fallback: RouteDecision) -> TimeWindow | None:
    if proposed is None or (proposed.start is None and proposed.end is None):
        return None
    if proposed.start and proposed.end and proposed.start > proposed.end:
        raise InvalidReading(f"the window starts {proposed.start} after it ends {proposed.end}")
    said = fallback.parsed.window.said if fallback.parsed and fallback.parsed.window else ""
    window = TimeWindow(start=proposed.start, end=proposed.end, said=said, span=(0, 0))
    return window if said else dataclasses.replace(window, said=window.describe())


def _decision(router: Router, choice: Any, fallback: RouteDecision) -> RouteDecision:
    """The proposal as a decision, checked like the rules' own reading."""
    unused = [w for w in choice.unused_words if w.strip()]
    confidence = round(LLM_CONFIDENCE - UNUSED_PENALTY * len(unused), 2)
    reason = f"LLM: {choice.reason}"[:500]
    window = _window(choice.window, fallback)
    parsed = fallback.parsed
    if parsed is not None:  # the interpretation states the LLM's window and unused words
        parsed = dataclasses.replace(parsed, window=window, unknown_words=unused)
    filters = _level_filters(router, choice.levels)
    if choice.route != "query":
        customizations, unwindowed = (
            router.workflow_customizations(choice.route, parsed) if parsed else (None, [])
        )
        return RouteDecision(
            Route(workflow=choice.route, confidence=confidence, reason=reason),
            customizations=customizations,
            parsed=parsed,
            unwindowed=unwindowed,
        )
    measures = list(choice.measures)
    if not measures:
        raise InvalidReading("a query needs a measure")
    dims = list(choice.dimensions)
    if choice.grain:
        dims = [f"{d}__{choice.grain}" if d in router.vocab.dates else d for d in dims]
    date_field = choice.window.field if choice.window else None
    query = SemanticQuery.parse(
        {
            "measures": measures,
            "dimensions": dims,
            "filters": [
                *filters,
                *(
                    filters_for_window(window, date_field, router.model)
                    if window and date_field
                    else []
                ),
            ],
            "order_by": (
                [{"field": measures[0], "descending": choice.order == "highest_first"}]
                if choice.order
                else []
            ),
            "limit": choice.limit,
        }
    )
    resolve(query, router.model)
    if window is not None and date_field is None:
        raise InvalidReading("the window names no date")
    return RouteDecision(
        Route(workflow="query", confidence=confidence, reason=reason), query=query, parsed=parsed
    )


def ask_llm(
    router: Router, question: str, fallback: RouteDecision, today: dt.date
) -> RouteDecision:
    """The LLM's reading when it is valid for the model and the data, else ``fallback``."""
    try:
        llm = router.llm.with_structured_output(reading_schema(router))
        choice: Any = llm.invoke(_prompt(router, question, today))
        if choice.route == "unclear":
            return fallback
        return _decision(router, choice, fallback)
    except (ChatterError, Exception) as err:  # invalid output or a failing server
        log.info("llm_reading_rejected", error=str(err)[:200])
        return fallback
