"""The interpretation every answer carries: the measures, dimensions, filters (the time window
among them), order and limit it was built from, one plain sentence saying so, and the words
the analyst could not use (CONTRACT section 3).

>>> from chatter.semantic.query import SemanticQuery
>>> q = SemanticQuery.parse({"measures": ["conversion_rate"], "dimensions": ["acquisition_channel"],
...     "filters": [{"field": "signup_date", "op": "between", "value": ["2025-04-01", "2025-06-30"]}],
...     "order_by": [{"field": "conversion_rate", "descending": True}]})
>>> sentence(q)
'conversion rate by acquisition channel, highest first, for signup date from 2025-04-01 to 2025-06-30'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from chatter.analyst.cues import ANALYSIS_CUES, CHANGE_WORDS
from chatter.analyst.decision import RouteDecision
from chatter.analyst.parse import ParsedQuestion
from chatter.analyst.words import stem
from chatter.result import Interpretation
from chatter.semantic.query import Filter, SemanticQuery
from chatter.tools.insight.wording import humanise

_WHICH = re.compile(r"^\W*(which|what)\b", re.IGNORECASE)
_OPS = {"=": "is", "!=": "is not", "<": "before", "<=": "up to", ">": "after", ">=": "from"}


def _name(field: str) -> str:
    """A field in words; a date at a grain of its own name ("month" by month) is said once."""
    base, _, grain = field.split(".")[-1].partition("__")
    return humanise(base) if grain == base else humanise(field.split(".")[-1])


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " or ".join(str(v) for v in value)
    return str(value)


def _condition(f: Filter) -> str:
    """One filter in words: "industry is fintech", "signup date from 2025-01-01 to ..."."""
    field = _name(f.field)
    if f.op == "between":
        low, high = f.value
        return f"{field} on {low}" if low == high else f"{field} from {low} to {high}"
    if f.op == "in":
        return f"{field} is {_value(f.value)}"
    if f.op == "not_in":
        return f"{field} is not {_value(f.value)}"
    if f.op in ("is_null", "is_not_null"):
        return f"{field} {'is empty' if f.op == 'is_null' else 'is set'}"
    if f.op == "contains":
        return f"{field} contains {f.value}"
    if f.op == ">=":
        return f"{field} from {_value(f.value)} on"
    return f"{field} {_OPS.get(f.op, f.op)} {_value(f.value)}"


def _day_before(value: Any) -> str:
    """The last day a timestamp window's exclusive end leaves in (a window on a timestamp runs
    up to the midnight after its last day)."""
    try:
        return (dt.date.fromisoformat(str(value)) - dt.timedelta(days=1)).isoformat()
    except ValueError:
        return f"before {value}"


def _windows(filters: list[Filter]) -> list[str]:
    """Filters, with a date's ``>=`` and ``<`` pair read as one window."""
    out, used = [], set()
    for i, f in enumerate(filters):
        if i in used:
            continue
        pair = next(
            (
                j
                for j, g in enumerate(filters)
                if j > i and g.field == f.field and f.op == ">=" and g.op == "<"
            ),
            None,
        )
        if pair is not None:
            used.add(pair)
            out.append(f"{_name(f.field)} from {f.value} to {_day_before(filters[pair].value)}")
        else:
            out.append(_condition(f))
    return out


def sentence(query: SemanticQuery) -> str:
    """The query as one plain sentence."""
    parts = [" and ".join(_name(m) for m in query.measures) or "the values"]
    if query.dimensions:
        parts[0] += " by " + ", ".join(_name(d) for d in query.dimensions)
    if query.order_by and query.limit is not None:
        most = "highest" if query.order_by[0].descending else "lowest"
        parts.append(f"the {query.limit} {most}")
    else:
        for o in query.order_by:
            parts.append("highest first" if o.descending else "lowest first")
        if query.limit is not None:
            parts.append(f"the first {query.limit}")
    conditions = _windows(list(query.filters))
    if conditions:
        parts.append("for " + " and ".join(conditions))
    return ", ".join(parts)


def interpretation_of(decision: RouteDecision) -> Interpretation:
    """What ``decision`` answers, from its query (or, for a workflow, what the question named)."""
    parsed = decision.parsed
    unused = list(dict.fromkeys([*parsed.unknown_words, *parsed.asides])) if parsed else []
    window = None
    if parsed is not None and parsed.window is not None:
        w = parsed.window
        window = {
            "said": w.said,
            "start": w.start.isoformat() if w.start else None,
            "end": w.end.isoformat() if w.end else None,
        }
    if decision.needs_clarification:
        # A word asked about (a value the data lacks) is used: it is the question back.
        asked_about = (decision.clarification or "").lower()
        unused = [w for w in unused if w.lower() not in asked_about]
        if decision.route.workflow not in ("query", "clarify"):  # a deep dive's own words
            unused = [w for w in unused if stem(w) not in ANALYSIS_CUES | CHANGE_WORDS]
        read = sentence(decision.query) if decision.query else _read_so_far(parsed)
        doubt = (decision.clarification or decision.route.reason).split(". ")[0].rstrip(".")
        text = f"{read}; not answered, because: {doubt}"
        read_query = decision.query
        return Interpretation(
            text=text + (_unused_note(unused) if unused else ""),
            measures=list(read_query.measures) if read_query else _names(parsed, "measure"),
            dimensions=list(read_query.dimensions) if read_query else _names(parsed, "dim"),
            filters=(
                [f.model_dump(mode="json") for f in read_query.filters]
                if read_query
                else (parsed.filters() if parsed else [])
            ),
            unused_words=unused,
            time_window=window,
        )
    query = decision.query
    if query is not None:
        if window is not None:
            window["field"] = _window_field(query, window)
        text = sentence(query)
        return Interpretation(
            text=text + (_unused_note(unused) if unused else ""),
            measures=list(query.measures),
            dimensions=list(query.dimensions),
            filters=[f.model_dump(mode="json") for f in query.filters],
            order=[{"field": o.field, "desc": o.descending} for o in query.order_by],
            limit=query.limit,
            unused_words=unused,
            time_window=window,
            names_top=bool(
                parsed
                and _WHICH.match(parsed.text)
                and query.order_by
                and query.dimensions
                and query.limit in (None, 1)
            ),
        )
    return _workflow(decision, unused, window)


def _names(parsed: ParsedQuestion | None, kind: str) -> list[str]:
    if parsed is None:
        return []
    return parsed.measure_names if kind == "measure" else parsed.dimension_names


def _read_so_far(parsed: ParsedQuestion | None) -> str:
    """What a question asked back about was read as, before the doubt."""
    if parsed is None or not (parsed.measures or parsed.dimensions or parsed.levels):
        return "nothing I could answer"
    text = " and ".join(_name(m) for m in parsed.measure_names) or "values"
    if parsed.dimensions:
        text += " by " + ", ".join(_name(d) for d in parsed.dimension_names)
    conditions = [_condition(Filter.model_validate(f)) for f in parsed.filters()]
    text += " for " + " and ".join(conditions) if conditions else ""
    return text + (f", {parsed.window.describe()}" if parsed.window is not None else "")


def _workflow(
    decision: RouteDecision, unused: list[str], window: dict[str, Any] | None
) -> Interpretation:
    """A deep dive: what it is about, the levels it tests against the rest, and the window
    its steps were filtered to (and the steps the window could not reach)."""
    parsed = decision.parsed
    # Words that ask for an explanation ("drop", "worse") are what a deep dive answers.
    unused = [w for w in unused if stem(w) not in ANALYSIS_CUES | CHANGE_WORDS]
    parts = [f"the {decision.route.workflow} analysis"]
    named = (parsed.measure_names + parsed.dimension_names) if parsed else []
    if named:
        parts[0] += " of " + ", ".join(_name(n) for n in named)
    tested = [f for f in (parsed.filters() if parsed else []) if f["op"] in ("=", "in")]
    if tested:
        parts.append(
            "testing "
            + " and ".join(
                f"{_name(f['field'])} {_value(f['value'])} against the rest" for f in tested
            )
        )
    steps = (decision.customizations or {}).get("steps") or {}
    windowed: list[dict[str, Any]] = []
    for custom in steps.values():
        for f in custom.get("parameters", {}).get("filters") or []:
            if f not in windowed:
                windowed.append(f)
    if windowed:
        parts.append("for " + " and ".join(_windows([Filter.model_validate(f) for f in windowed])))
        if decision.unwindowed:
            parts.append(f"except {', '.join(decision.unwindowed)} (they take no filter)")
    elif window is not None:
        parts.append(f"over all dates: no step of it takes {window['said']!r}")
    return Interpretation(
        text=", ".join(parts) + (_unused_note(unused) if unused else ""),
        measures=parsed.measure_names if parsed else [],
        dimensions=parsed.dimension_names if parsed else [],
        filters=windowed,
        unused_words=unused,
        time_window=window,
    )


def _window_field(query: SemanticQuery, window: dict[str, Any]) -> str | None:
    """The field the window was applied to: the one filtered on the window's first or last day
    (a timestamp's end is the midnight after the last day)."""
    days = {window["start"], window["end"]}
    if window["end"]:
        days.add((dt.date.fromisoformat(window["end"]) + dt.timedelta(days=1)).isoformat())
    for f in query.filters:
        values = f.value if isinstance(f.value, list | tuple) else [f.value]
        if any(str(v) in days for v in values):
            return f.field
    return None


def _unused_note(words: list[str]) -> str:
    return " (I did not use: " + ", ".join(repr(w) for w in words) + ")"
