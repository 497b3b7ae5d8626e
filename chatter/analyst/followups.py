"""Follow-ups in a conversation: "now by industry", "only enterprise", "top 5", "same for churn"
edit the previous query structurally (chatter.analyst.refine); anything else is a new question.
"""

from __future__ import annotations

import datetime as dt
import re

from chatter.analyst import refine
from chatter.analyst.cues import analysis_cues
from chatter.analyst.decision import RouteDecision
from chatter.analyst.interpret import default_time, is_time, measures_asked, window_filters
from chatter.analyst.level_mentions import unmatched_levels
from chatter.analyst.parse import ParsedQuestion, parse_question
from chatter.analyst.route import Router
from chatter.analyst.structure_cues import GRAINS
from chatter.errors import ChatterError
from chatter.result import Route
from chatter.semantic.query import SemanticQuery, resolve

_START_OVER = re.compile(
    r"^\s*(start over|reset|new question|forget (that|it))\b[\s:,.-]*", re.IGNORECASE
)
_SIMPLIFY = re.compile(r"\b(simplify|simpler|keep it simple|just the basics)\b", re.IGNORECASE)
_MARKERS = re.compile(
    r"^\s*(now|and|also|only|just|exclude|excluding|except|without|same|what about|how about|"
    r"top|bottom|show|first|limit|sort|order|by|instead|split|break|group|per|weekly|daily|"
    r"monthly|quarterly|yearly|lowest|highest|then)\b",
    re.IGNORECASE,
)
_REPLACE_DIMS = re.compile(r"\b(now by|instead|switch to|rather|group by|only by)\b", re.IGNORECASE)
_ADD_DIMS = re.compile(r"\b(and by|also by|too|as well|add|plus|additionally)\b", re.IGNORECASE)
_SORT = re.compile(
    r"\b(sort|order|sorted|ordered)\b|\b(lowest|highest|smallest|largest) first\b", re.IGNORECASE
)
_LIMIT_ONLY = re.compile(r"\b(show|first|limit( to)?)\s+(\d+)\b", re.IGNORECASE)


def start_over(text: str) -> str | None:
    """The question after "start over:", or None when the message does not start over."""
    match = _START_OVER.match(text)
    return text[match.end() :] if match else None


def is_follow_up(text: str, parsed: ParsedQuestion, previous: SemanticQuery | None) -> bool:
    if previous is None or analysis_cues(text, parsed):
        return False
    if _MARKERS.match(text) or _SIMPLIFY.search(text):
        return True
    structure = parsed.dimensions or parsed.levels or parsed.limit or parsed.grain or parsed.window
    return not parsed.measures and bool(structure)


def apply_follow_up(
    router: Router, text: str, previous: SemanticQuery, today: dt.date | None = None
) -> SemanticQuery:
    """The previous query, edited as the follow-up says."""
    parsed = parse_question(text, router.vocab, today)
    query = previous
    if _SIMPLIFY.search(text):
        return refine.simplify(query)
    measures = measures_asked(parsed, router.model)
    if measures and not _SORT.search(text):  # "sort by events" names the sort, not a switch
        query = refine.replace_measures(query, measures)
    filtered = {f["field"] for f in parsed.filters()}
    dims = [d for d in parsed.dimension_names if d not in filtered and not is_time(d, router.model)]
    if dims:
        if _ADD_DIMS.search(text) and not _REPLACE_DIMS.search(text):
            query = refine.add_columns(query, dims)
        else:
            keep_time = (
                [d for d in query.dimensions if _is_time_grained(d)]
                if not _REPLACE_DIMS.search(text)
                else []
            )
            query = refine.replace_dimensions(
                query, [*dims, *keep_time] if parsed.grain is None else dims
            )
    if parsed.grain:
        default = default_time(list(query.measures), router.model, router.vocab)
        query = refine.change_grain(query, parsed.grain, default[0] if default else None)
    for f in [
        *parsed.filters(),
        *window_filters(parsed, list(query.measures), router.model, router.vocab),
    ]:
        query = refine.add_filter(query, f["field"], f["op"], f["value"])
    if parsed.limit is not None:
        only = _LIMIT_ONLY.search(text) is not None
        query = refine.change_limit(query, parsed.limit, None if only else parsed.descending)
    if _SORT.search(text):
        field = next((m for m in measures_asked(parsed, router.model)), None)
        lowered = text.lower()
        if "lowest" in lowered or "ascending" in lowered or "smallest" in lowered:
            descending = False
        elif "highest" in lowered or "descending" in lowered or "largest" in lowered:
            descending = True
        else:
            descending = (
                not query.order_by[0].descending if (query.order_by and field is None) else True
            )
        query = refine.change_sort(query, field, descending)
    return query


def _is_time_grained(dimension: str) -> bool:
    return dimension.rpartition("__")[2] in set(GRAINS.values())


def interpret(
    router: Router, text: str, previous: SemanticQuery | None, today: dt.date | None = None
) -> RouteDecision:
    """A message in a conversation: a follow-up edits ``previous``; anything else is routed
    afresh ("start over: ..." drops the context first). Relative time windows count back from
    ``today``."""
    fresh = start_over(text)
    if fresh is not None:
        return router.route(fresh, today) if fresh.strip() else router.route("", today)
    parsed = parse_question(text, router.vocab, today)
    unknown = unmatched_levels(
        parsed, text, router.vocab, explicit_only=analysis_cues(text, parsed) > 0
    )
    # "only zzzz": never the previous answer unchanged, never all levels (a fresh question is
    # checked by the router, which may also ask the LLM about words that could describe).
    if unknown and previous is not None:
        decision = router.ask_about_value(unknown[0], parsed)
        decision.query = previous  # what the question back is about, for its interpretation
        return decision
    if previous is not None and is_follow_up(text, parsed, previous):
        query = apply_follow_up(router, text, previous, today)
        try:
            resolve(query, router.model)
        except ChatterError as err:
            return router.ask_back(err.message, confidence=0.3, parsed=parsed)
        return RouteDecision(
            Route(
                workflow="query",
                confidence=0.9,
                reason="A follow-up: the previous query, edited as asked.",
            ),
            query=query,
            parsed=parsed,
        )
    return router.route(text, today)
