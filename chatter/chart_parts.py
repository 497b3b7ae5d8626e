"""Building blocks of the per-tool charts (chart_specs): fields, axes, tooltips, and the two
layouts several analyses share (two rates side by side, a heatmap)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatter.result import StepResult

Spec = dict[str, Any]
Chart = tuple[str, Spec]  # what the chart shows (its description), and its data and body

PERCENT = {"format": "~%"}


def field_name(name: str) -> str:
    """A column name as a Vega-Lite field: dots and brackets escaped, so they are not paths."""
    return re.sub(r"([.\[\]\\])", r"\\\1", name)


def has(step: StepResult, *names: str) -> bool:
    """Whether the step has every column of ``names`` (its rows are of the shape expected)."""
    return set(names) <= set(step.columns)


def fresh(name: str, taken: Collection[str]) -> str:
    """``name``, or ``name_2``, ``name_3``... when a column already uses it."""
    candidate, i = name, 1
    while candidate in taken:
        i += 1
        candidate = f"{name}_{i}"
    return candidate


def quantitative(name: str, *, rate: bool = False, title: str | None = None) -> Spec:
    spec: Spec = {"field": field_name(name), "type": "quantitative", "title": title or name}
    if rate:
        spec["axis"] = PERCENT
    return spec


def nominal(name: str, **extra: Any) -> Spec:
    return {"field": field_name(name), "type": "nominal", "title": name, **extra}


def tooltips(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[Spec]:
    """A tooltip per column: numbers formatted as rates, counts or decimals by their values."""
    tips = []
    for name in names:
        values = [r.get(name) for r in rows if r.get(name) is not None]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if values and len(numbers) == len(values):
            whole = all(float(v).is_integer() for v in numbers)
            rate = not whole and all(0 <= v <= 1 for v in numbers)
            fmt = ".2~%" if rate else "," if whole else ",.4~r"
            tips.append({**quantitative(name), "format": fmt})
        else:
            tips.append(nominal(name))
    return tips


def utc_dates(*names: str) -> Spec:
    """Parse ISO dates as UTC, so no viewer's time zone shifts a day."""
    return {"parse": {field_name(n): "utc:'%Y-%m-%d'" for n in names}}


def utc_time(name: str) -> Spec:
    return {"field": field_name(name), "type": "temporal", "title": name, "scale": {"type": "utc"}}


def paired_bars(step: StepResult, category: str, pair: tuple[str, str], what: str) -> Chart | None:
    """Two rates of each ``category`` side by side (a group and its comparison)."""
    if not has(step, category, *pair):
        return None
    key, value = fresh("group", step.columns), fresh("rate", step.columns)
    body = {
        "data": {"values": step.rows},
        "width": 400,
        "transform": [{"fold": [field_name(p) for p in pair], "as": [key, value]}],
        "mark": "bar",
        "encoding": {
            "y": nominal(category),
            "x": quantitative(value, rate=True, title=" vs ".join(pair)),
            "color": {"field": key, "type": "nominal", "title": None, "sort": list(pair)},
            "yOffset": {"field": key, "type": "nominal", "sort": list(pair)},
            "tooltip": tooltips(step.rows, step.columns),
        },
    }
    return what, body


def heatmap(step: StepResult, rows: str, columns: str, value: str, color: Spec, text: str) -> Spec:
    """One value of each (``rows``, ``columns``) cell as a colour, its number written in it."""
    return {
        "title": value,
        "width": {"step": 56},
        "height": {"step": 28},
        "encoding": {"y": nominal(rows), "x": nominal(columns)},
        "layer": [
            {
                "mark": "rect",
                "encoding": {
                    "color": {**quantitative(value), **color},
                    "tooltip": tooltips(step.rows, step.columns),
                },
            },
            {
                "mark": {"type": "text", "fontSize": 11},
                "encoding": {"text": {**quantitative(value), "format": text}},
            },
        ],
    }
