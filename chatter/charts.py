"""Vega-Lite v5 charts for step results: the chart its analysis declares (chart_specs, by the
step's tool), else one chosen from the shape of the rows, never their names.

Each column is classified by its values: ISO date/datetime text is *temporal*, numbers (not bools)
are *quantitative*, text and bools are *nominal*. Then, with ``t``/``n``/``q`` counting them:

- ``t >= 1, q >= 1``: a line over the first temporal column. With a nominal column, one line per
  level of the first (the second, if any, sets the dash) showing the first measure. Without, all
  measures: folded into one line each on a shared axis, or stacked in panels with their own axes
  when their magnitudes differ by more than ``SCALE_GAP`` times.
- ``n == 1, q >= 1``: horizontal bars of the first measure, largest first.
- ``n >= 2, q >= 1``: grouped bars (the nominal with fewer levels colours them) when that one has
  at most ``MAX_GROUPS`` levels; a heatmap otherwise.
- only measures and a single row: a "big number" per measure (a KPI).
- anything else (no rows, no measure, measures without a dimension over many rows): ``None``.

A measure whose values all lie in [0, 1] and are not all whole numbers is a rate: its axis,
legend and tooltip read as percent. Bars keep the ``MAX_BARS`` largest categories; inline data
keeps the first ``MAX_ROWS`` rows; both cuts are noted in the spec's ``description``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from chatter.chart_parts import fresh
from chatter.chart_specs import tool_chart

if TYPE_CHECKING:
    from chatter.result import StepResult

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MAX_ROWS = 5000
MAX_BARS = 40
MAX_GROUPS = 6
SCALE_GAP = 10.0
POINTS_UP_TO = 60  # mark each point of a line when there are at most this many rows
TRUNCATED = "The step's rows were truncated before charting."

Kind = Literal["temporal", "quantitative", "nominal"]
Spec = dict[str, Any]

# ISO text and the d3 format that reads it as UTC (so no viewer's time zone shifts a day).
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?")
_UTC_FORMATS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"), "%Y-%m-%dT%H:%M:%S"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"), "%Y-%m-%d %H:%M:%S"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}"), "%Y-%m-%dT%H:%M:%S.%f"),
)


@dataclass(frozen=True)
class Column:
    """One column as the chart sees it. ``kind`` None: no usable value (all null, or nested)."""

    name: str
    kind: Kind | None
    levels: int = 0  # distinct non-null values
    rate: bool = False  # quantitative, all in [0, 1], not all whole: shown as percent
    whole: bool = False  # quantitative, all whole numbers
    magnitude: float = 0.0  # largest absolute value
    utc_format: str | None = None  # temporal: d3 format that parses every value as UTC
    date_only: bool = False  # temporal: no time of day anywhere

    @property
    def field(self) -> str:
        """The name as a Vega-Lite field: dots and brackets escaped, so they are not paths."""
        return re.sub(r"([.\[\]\\])", r"\\\1", self.name)


def classify(name: str, values: Sequence[Any]) -> Column:
    """Classify one column by its values alone.

    >>> classify("zork", ["2024-01-01", "2024-02-01", None]).kind
    'temporal'
    >>> classify("zork", [0.25, 0.5]).rate, classify("zork", [3, 4]).rate
    (True, False)
    """
    present = [v for v in values if v is not None]
    if not present or any(isinstance(v, list | dict) for v in present):
        return Column(name, None)
    levels = len(set(present))
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        whole = all(float(v).is_integer() for v in present)
        return Column(
            name,
            "quantitative",
            levels,
            rate=not whole and all(0 <= v <= 1 for v in present),
            whole=whole,
            magnitude=max(abs(float(v)) for v in present),
        )
    if all(isinstance(v, str) and _is_iso(v) for v in present):
        formats = {next((f for r, f in _UTC_FORMATS if r.fullmatch(v)), None) for v in present}
        only = formats.pop() if len(formats) == 1 else None
        return Column(name, "temporal", levels, utc_format=only, date_only=only == "%Y-%m-%d")
    return Column(name, "nominal", levels)


def _is_iso(text: str) -> bool:
    if not _ISO.fullmatch(text):
        return False
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def chart_spec(step: StepResult, *, title: str | None = None) -> Spec | None:
    """The chart for a step, titled ``title`` (default: the step id; ``""``: untitled): the one
    its tool declares (chart_specs), else one inferred from its rows."""
    title = step.id if title is None else title
    declared = tool_chart(step)
    if declared is None:
        return chart_for_rows(step.columns, step.rows, title=title, cut=step.truncated)
    what, body = declared
    notes = [TRUNCATED] if step.truncated else []
    spec: Spec = {"$schema": SCHEMA, "description": " ".join([what, *notes])}
    if title:
        spec["title"] = title
    return spec | body


def chart_for_rows(
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    title: str | None = None,
    *,
    cut: bool = False,
) -> Spec | None:
    """The chart for ``rows`` (keys ``columns``, or the rows' own keys when empty), or None.

    ``cut`` says the rows were already truncated upstream, which the description then notes.
    """
    if not rows:
        return None
    names = list(columns) or list(dict.fromkeys(k for row in rows for k in row))
    shown = [dict(row) for row in rows[:MAX_ROWS]]
    cols = [classify(n, [row.get(n) for row in shown]) for n in names]
    temporal, nominal, measures = (
        [c for c in cols if c.kind == kind] for kind in ("temporal", "nominal", "quantitative")
    )
    notes: list[str] = []
    if len(rows) > MAX_ROWS:
        notes.append(f"Showing the first {MAX_ROWS} of {len(rows)} rows.")
    if cut:
        notes.append(TRUNCATED)
    if not measures:
        return None
    tips = [_tooltip(c) for c in cols]
    if temporal:
        what, body = _lines(temporal[0], nominal, measures, tips, len(shown))
    elif nominal:
        shown, what, body = _bars(nominal, measures[0], tips, shown, notes)
    elif len(shown) == 1:
        what, body = _big_numbers(measures)
    else:
        return None
    spec: Spec = {"$schema": SCHEMA, "description": " ".join([what, *notes])}
    if title:
        spec["title"] = title
    spec["data"] = {"values": shown}
    parse = {c.field: f"utc:'{c.utc_format}'" for c in temporal if c.utc_format}
    if parse:
        spec["data"]["format"] = {"parse": parse}
    return spec | body


def _lines(
    time: Column, nominal: list[Column], measures: list[Column], tips: list[Spec], n_rows: int
) -> tuple[str, Spec]:
    x = {"field": time.field, "type": "temporal", "title": time.name, "scale": {"type": "utc"}}
    mark = {"type": "line", "point": n_rows <= POINTS_UP_TO}
    main = measures[0]
    if nominal:
        encoding = {"x": x, "y": _measure(main), "color": _nominal(nominal[0]), "tooltip": tips}
        if len(nominal) > 1:
            encoding["strokeDash"] = _nominal(nominal[1])
        what = f"Line chart of {main.name} over {time.name}, one line per {nominal[0].name}."
        return what, {"width": 600, "height": 300, "mark": mark, "encoding": encoding}
    if len(measures) == 1:
        what = f"Line chart of {main.name} over {time.name}."
        encoding = {"x": x, "y": _measure(main), "tooltip": tips}
        return what, {"width": 600, "height": 300, "mark": mark, "encoding": encoding}
    names = ", ".join(m.name for m in measures)
    sizes = [m.magnitude for m in measures if m.magnitude > 0]
    if sizes and max(sizes) > SCALE_GAP * min(sizes):
        panels = [
            {
                "width": 600,
                "height": 150,
                "mark": mark,
                "encoding": {"x": x, "y": _measure(m), "tooltip": tips},
            }
            for m in measures
        ]
        what = f"Line charts of {names} over {time.name}, one panel each (scales differ)."
        return what, {"vconcat": panels, "resolve": {"scale": {"x": "shared", "y": "independent"}}}
    taken = {time.name, *(m.name for m in measures)}
    key, value = fresh("measure", taken), fresh("value", taken)
    rate = all(m.rate for m in measures)
    y: Spec = {"field": value, "type": "quantitative", "title": names}
    if rate:
        y["axis"] = {"format": "~%"}
    color = {"field": key, "type": "nominal", "title": None, "sort": [m.name for m in measures]}
    body = {
        "width": 600,
        "height": 300,
        "transform": [{"fold": [m.field for m in measures], "as": [key, value]}],
        "mark": mark,
        "encoding": {"x": x, "y": y, "color": color, "tooltip": tips},
    }
    return f"Line chart of {names} over {time.name}, one line per measure.", body


def _bars(
    nominal: list[Column],
    main: Column,
    tips: list[Spec],
    rows: list[dict[str, Any]],
    notes: list[str],
) -> tuple[list[dict[str, Any]], str, Spec]:
    if len(nominal) == 1:
        category, group = nominal[0], None
    else:  # the nominal with fewer levels groups the bars (ties: column order)
        category, group = sorted(nominal[:2], key=lambda c: -c.levels)
    if category.levels > MAX_BARS:
        rows = _top_levels(rows, category.name, main.name)
        notes.append(f"Showing the {MAX_BARS} largest of {category.levels} {category.name}.")
    y = {**_nominal(category), "sort": {"field": main.field, "op": "sum", "order": "descending"}}
    if group is None:
        what = f"Bar chart of {main.name} by {category.name}, largest first."
        encoding = {"y": y, "x": _measure(main), "tooltip": tips}
        return rows, what, {"width": 400, "mark": "bar", "encoding": encoding}
    if group.levels <= MAX_GROUPS:
        what = f"Grouped bar chart of {main.name} by {category.name} and {group.name}."
        encoding = {
            "y": y,
            "x": _measure(main),
            "color": _nominal(group),
            "yOffset": {"field": group.field, "type": "nominal"},
            "tooltip": tips,
        }
        return rows, what, {"width": 400, "mark": "bar", "encoding": encoding}
    what = f"Heatmap of {main.name} by {category.name} and {group.name}."
    color: Spec = {"field": main.field, "type": "quantitative", "title": main.name}
    if main.rate:
        color["legend"] = {"format": "~%"}
    encoding = {"y": y, "x": _nominal(group), "color": color, "tooltip": tips}
    return rows, what, {"mark": "rect", "encoding": encoding}


def _top_levels(rows: list[dict[str, Any]], category: str, measure: str) -> list[dict[str, Any]]:
    """The rows of the ``MAX_BARS`` categories with the largest total (ties: first seen)."""
    totals: dict[Any, float] = {}
    for row in rows:
        value = row.get(measure)
        totals[row.get(category)] = totals.get(row.get(category), 0.0) + (value or 0.0)
    ranked = sorted(totals, key=lambda level: -totals[level])  # stable: first seen wins ties
    keep = set(ranked[:MAX_BARS])
    return [row for row in rows if row.get(category) in keep]


def _big_numbers(measures: list[Column]) -> tuple[str, Spec]:
    tiles = [
        {
            "title": m.name,
            "width": 160,
            "height": 60,
            "mark": {"type": "text", "fontSize": 32, "fontWeight": "bold"},
            "encoding": {
                "text": {"field": m.field, "type": "quantitative", "format": _number_format(m)}
            },
        }
        for m in measures
    ]
    return f"Key figures: {', '.join(m.name for m in measures)}.", {"hconcat": tiles}


def _measure(column: Column) -> Spec:
    spec: Spec = {"field": column.field, "type": "quantitative", "title": column.name}
    if column.rate:
        spec["axis"] = {"format": "~%"}
    return spec


def _nominal(column: Column) -> Spec:
    return {"field": column.field, "type": "nominal", "title": column.name}


def _tooltip(column: Column) -> Spec:
    tip: Spec = {"field": column.field, "type": column.kind or "nominal", "title": column.name}
    if column.kind == "temporal":
        tip["timeUnit"] = "utcyearmonthdate" if column.date_only else "utcyearmonthdatehoursminutes"
    elif column.kind == "quantitative":
        tip["format"] = _number_format(column)
    return tip


def _number_format(column: Column) -> str:
    """d3 format: rates as percent, whole numbers with separators, else 4 significant digits."""
    if column.rate:
        return ".2~%"
    return "," if column.whole else ",.4~r"
