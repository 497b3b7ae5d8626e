"""Charts are chosen from the shape of the rows, never the column names: every test names its
columns arbitrarily, and a property test renames them at random."""

from __future__ import annotations

import doctest
import importlib.util
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chatter.charts
from chatter.charts import (
    MAX_BARS,
    MAX_ROWS,
    SCHEMA,
    chart_for_rows,
    chart_spec,
    classify,
)
from chatter.result import StepResult

MONTHS = [f"2024-{m:02d}-01" for m in range(1, 13)]
CATEGORIES = {"ash": 12, "birch": 340, "cedar": 57, "doum": 3}
RATES = {"ash": 0.12, "birch": 0.31, "cedar": 0.05, "doum": 0.22}


def bars(name: str = "wibble", measure: str = "zork", values: dict[str, Any] = CATEGORIES) -> Any:
    return chart_for_rows([name, measure], [{name: k, measure: v} for k, v in values.items()])


def series(**measures: list[float]) -> list[dict[str, Any]]:
    return [
        {"quux": month, **{k: v[i] for k, v in measures.items()}} for i, month in enumerate(MONTHS)
    ]


def test_docstring_examples_run() -> None:
    assert doctest.testmod(chatter.charts).failed == 0


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1, 2, 3], "quantitative"),
        ([1.5, None, -2.0], "quantitative"),
        (["2024-01-01", "2024-02-01"], "temporal"),
        (["2024-01-01T10:00:00", "2024-01-01 11:30"], "temporal"),
        (["2024-01-01T10:00:00.123456+02:00", "2024-01-02T00:00:00Z"], "temporal"),
        (["2024-13-01"], "nominal"),  # looks like a date, is not one
        (["20240101"], "nominal"),
        (["10:00:00"], "nominal"),  # a time of day alone is not a point in time
        (["north", "south"], "nominal"),
        ([True, False], "nominal"),
        ([1, "two"], "nominal"),
        ([None, None], None),
        ([[1, 2]], None),
        ([], None),
    ],
)
def test_columns_are_classified_by_their_values(values: list[Any], kind: str | None) -> None:
    assert classify("wibble", values).kind == kind


@pytest.mark.parametrize(
    ("values", "rate"),
    [
        ([0.12, 0.5, 1.0, 0.0], True),
        ([0.5], True),
        ([0, 1, 1], False),  # whole numbers: counts or flags, not rates
        ([0.5, 1.5], False),
        ([-0.1, 0.5], False),
        ([True, False], False),
    ],
)
def test_rates_are_told_by_their_values(values: list[Any], rate: bool) -> None:
    assert classify("zork", values).rate is rate


def test_dates_over_a_measure_make_a_line_over_time() -> None:
    spec = chart_for_rows(
        ["wibble", "zork"], [{"wibble": d, "zork": i} for i, d in enumerate(MONTHS)]
    )
    assert spec is not None
    assert spec["$schema"] == SCHEMA
    assert spec["mark"]["type"] == "line"
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert (x["field"], x["type"], x["scale"]) == ("wibble", "temporal", {"type": "utc"})
    assert (y["field"], y["type"], y["title"]) == ("zork", "quantitative", "zork")
    assert spec["data"]["format"] == {"parse": {"wibble": "utc:'%Y-%m-%d'"}}
    assert spec["data"]["values"][3] == {"wibble": "2024-04-01", "zork": 3}


def test_a_nominal_beside_dates_draws_one_line_per_level() -> None:
    rows = [{"blip": d, "frob": level, "zork": i} for i, d in enumerate(MONTHS) for level in "xy"]
    spec = chart_for_rows(["blip", "frob", "zork"], rows)
    assert spec is not None
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["color"] == {"field": "frob", "type": "nominal", "title": "frob"}
    assert spec["encoding"]["y"]["field"] == "zork"


def test_measures_of_one_scale_fold_into_one_line_each() -> None:
    spec = chart_for_rows(
        ["quux", "foo", "bar"], series(foo=[10.0 + i for i in range(12)], bar=[30.0] * 12)
    )
    assert spec is not None
    assert spec["transform"] == [{"fold": ["foo", "bar"], "as": ["measure", "value"]}]
    assert spec["encoding"]["color"]["field"] == "measure"
    assert spec["encoding"]["y"]["title"] == "foo, bar"


def test_fold_names_never_shadow_a_column() -> None:
    spec = chart_for_rows(
        ["quux", "measure", "value"], series(measure=[1.0] * 12, value=[2.0] * 12)
    )
    assert spec is not None
    assert spec["transform"][0]["as"] == ["measure_2", "value_2"]


def test_measures_of_very_different_scales_get_a_panel_each() -> None:
    spec = chart_for_rows(
        ["quux", "foo", "bar"], series(foo=[1e5 + i for i in range(12)], bar=[0.5] * 12)
    )
    assert spec is not None
    assert [p["encoding"]["y"]["field"] for p in spec["vconcat"]] == ["foo", "bar"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert spec["vconcat"][1]["encoding"]["y"]["axis"] == {"format": "~%"}


def test_categories_make_bars_sorted_by_value_descending() -> None:
    spec = bars()
    assert spec is not None
    assert spec["mark"] == "bar"
    y, x = spec["encoding"]["y"], spec["encoding"]["x"]
    assert (y["field"], y["type"]) == ("wibble", "nominal")
    assert y["sort"] == {"field": "zork", "op": "sum", "order": "descending"}
    assert (x["field"], x["type"]) == ("zork", "quantitative")
    assert "axis" not in x  # counts are not percent
    assert spec["description"].startswith("Bar chart of zork by wibble")


def test_rates_read_as_percent() -> None:
    spec = bars(values=RATES)
    assert spec is not None
    assert spec["encoding"]["x"]["axis"] == {"format": "~%"}
    tip = next(t for t in spec["encoding"]["tooltip"] if t["field"] == "zork")
    assert tip["format"] == ".2~%"


def test_the_first_measure_is_drawn_and_every_column_is_in_the_tooltip() -> None:
    rows = [
        {"plugh": k, "xyzzy": v, "thud": v / 1000, "grault": True} for k, v in CATEGORIES.items()
    ]
    spec = chart_for_rows(["plugh", "xyzzy", "thud", "grault"], rows)
    assert spec is not None
    assert spec["encoding"]["x"]["field"] == "xyzzy"
    tips = spec["encoding"]["tooltip"]
    assert [t["field"] for t in tips] == ["plugh", "xyzzy", "thud", "grault"]
    assert [t["type"] for t in tips] == ["nominal", "quantitative", "quantitative", "nominal"]


def test_two_nominals_make_grouped_bars_when_one_has_few_levels() -> None:
    rows = [{"eggs": g, "spam": c, "ham": i} for i, c in enumerate("pqrstuvw") for g in "ab"]
    spec = chart_for_rows(["eggs", "spam", "ham"], rows)
    assert spec is not None
    assert spec["mark"] == "bar"
    encoding = spec["encoding"]
    assert encoding["y"]["field"] == "spam"  # more levels: the categories
    assert encoding["color"]["field"] == encoding["yOffset"]["field"] == "eggs"


def test_two_nominals_with_many_levels_each_make_a_heatmap() -> None:
    rows = [
        {"eggs": a, "spam": b, "ham": 0.01 * i}
        for i, a in enumerate("abcdefgh")
        for b in "pqrstuvw"
    ]
    spec = chart_for_rows(["eggs", "spam", "ham"], rows)
    assert spec is not None
    assert spec["mark"] == "rect"
    assert spec["encoding"]["color"]["field"] == "ham"
    assert spec["encoding"]["color"]["legend"] == {"format": "~%"}


def test_a_single_row_of_measures_shows_big_numbers() -> None:
    spec = chart_for_rows(["foo", "bar"], [{"foo": 12345, "bar": 0.4567}])
    assert spec is not None
    tiles = spec["hconcat"]
    assert [t["title"] for t in tiles] == ["foo", "bar"]
    assert [t["mark"]["type"] for t in tiles] == ["text", "text"]
    assert [t["encoding"]["text"]["format"] for t in tiles] == [",", ".2~%"]


@pytest.mark.parametrize(
    ("columns", "rows"),
    [
        (["wibble", "zork"], []),
        (["wibble"], [{"wibble": "a"}, {"wibble": "b"}]),  # nothing to measure
        (["wibble", "zork"], [{"wibble": "2024-01-01", "zork": "x"}]),
        (["wibble", "zork"], [{"wibble": 1, "zork": 2}, {"wibble": 3, "zork": 4}]),  # no dimension
        (["wibble", "zork"], [{"wibble": "a", "zork": None}]),  # the measure is all null
    ],
)
def test_nothing_chartable_gives_none(columns: list[str], rows: list[dict[str, Any]]) -> None:
    assert chart_for_rows(columns, rows) is None


def test_chart_spec_reads_the_step_and_titles_it() -> None:
    rows = [{"wibble": k, "zork": v} for k, v in CATEGORIES.items()]
    step = StepResult(
        id="s1", type="query", status="completed", columns=["wibble", "zork"], rows=rows
    )
    assert chart_spec(step)["title"] == "s1"  # type: ignore[index]
    assert chart_spec(step, title="Users by plan")["title"] == "Users by plan"  # type: ignore[index]
    assert "title" not in chart_spec(step, title="")  # type: ignore[operator]
    empty = StepResult(id="s2", type="query", status="failed", error="boom")
    assert chart_spec(empty) is None


def test_columns_default_to_the_rows_keys() -> None:
    assert bars() == chart_for_rows([], [{"wibble": k, "zork": v} for k, v in CATEGORIES.items()])


def test_inline_data_is_capped_and_the_cut_is_described() -> None:
    rows = [{"wibble": f"2020-01-01T00:00:{i % 60:02d}", "zork": i} for i in range(MAX_ROWS + 10)]
    spec = chart_for_rows(["wibble", "zork"], rows)
    assert spec is not None
    assert len(spec["data"]["values"]) == MAX_ROWS
    assert f"first {MAX_ROWS} of {MAX_ROWS + 10} rows" in spec["description"]


def test_bars_keep_the_largest_categories() -> None:
    values = {f"c{i:03d}": i for i in range(MAX_BARS + 20)}
    spec = bars(values=values)
    assert spec is not None
    kept = {row["wibble"] for row in spec["data"]["values"]}
    assert kept == {f"c{i:03d}" for i in range(20, MAX_BARS + 20)}
    assert f"{MAX_BARS} largest of {MAX_BARS + 20}" in spec["description"]


def test_dotted_names_are_escaped_as_fields_but_titled_as_written() -> None:
    spec = bars(name="a.b[0]", measure="c\\d")
    assert spec is not None
    assert spec["encoding"]["y"]["field"] == "a\\.b\\[0\\]"
    assert spec["encoding"]["y"]["title"] == "a.b[0]"
    assert spec["encoding"]["x"]["field"] == "c\\\\d"


def test_output_is_deterministic_and_leaves_the_rows_alone() -> None:
    rows = [{"wibble": k, "zork": v} for k, v in CATEGORIES.items()]
    before = json.dumps(rows)
    first = chart_for_rows(["wibble", "zork"], rows)
    assert json.dumps(first) == json.dumps(chart_for_rows(["wibble", "zork"], rows))
    assert json.dumps(rows) == before


names = st.lists(st.text(min_size=1, max_size=12), min_size=3, max_size=3, unique=True)


@settings(max_examples=60, deadline=None)
@given(names)
def test_the_shape_not_the_names_chooses_the_chart(cols: list[str]) -> None:
    when, what, much = cols
    line = chart_for_rows(cols, [{when: d, what: "x", much: i} for i, d in enumerate(MONTHS)])
    bar = chart_for_rows([what, much], [{what: k, much: v} for k, v in CATEGORIES.items()])
    assert line is not None and bar is not None
    assert line["mark"]["type"] == "line"
    assert line["encoding"]["x"]["title"] == when
    assert line["encoding"]["color"]["title"] == what
    assert bar["mark"] == "bar"
    assert [bar["encoding"]["y"]["title"], bar["encoding"]["x"]["title"]] == [what, much]


def _vega_lite_v5_schema() -> dict[str, Any] | None:
    """A copy of the Vega-Lite v5 JSON schema, if one is installed (altair 5 ships one) or
    ``VEGA_LITE_SCHEMA`` points at one; nothing is downloaded."""
    candidates = [os.environ.get("VEGA_LITE_SCHEMA", "")]
    spec = importlib.util.find_spec("altair")
    if spec is not None and spec.origin:
        candidates.append(
            str(Path(spec.origin).parent / "vegalite/v5/schema/vega-lite-schema.json")
        )
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            schema: dict[str, Any] = json.loads(Path(candidate).read_text(encoding="utf-8"))
            return schema
    return None


def _quote_refs(node: Any) -> Any:
    """Percent-encode ``$ref`` pointers: Vega-Lite's definition names hold ``<>|``, which
    jsonschema_rs refuses as URI references."""
    if isinstance(node, dict):
        return {
            k: quote(v, safe="#/") if k == "$ref" and isinstance(v, str) else _quote_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_quote_refs(v) for v in node]
    return node


def test_every_layout_validates_against_the_vega_lite_v5_schema() -> None:
    schema = _vega_lite_v5_schema()
    if schema is None:
        pytest.skip("no offline copy of the Vega-Lite v5 schema is installed")
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    validator = jsonschema_rs.Draft7Validator(_quote_refs(schema))
    assert not validator.is_valid({"mark": "no-such-mark"})
    grouped = [{"a": g, "b": c, "n": i} for i, c in enumerate("pqrs") for g in "xy"]
    heat = [{"a": a, "b": b, "n": 0.01 * i} for i, a in enumerate("abcdefgh") for b in "pqrstuvw"]
    specs = [
        bars(),
        bars(values=RATES),
        chart_for_rows(["a", "b", "n"], grouped),
        chart_for_rows(["a", "b", "n"], heat),
        chart_for_rows(["quux", "f"], series(f=[float(i) for i in range(12)])),
        chart_for_rows(["quux", "f", "g"], series(f=[1.0] * 12, g=[2.0] * 12)),
        chart_for_rows(["quux", "f", "g"], series(f=[1e6] * 12, g=[0.5] * 12)),
        chart_for_rows(["quux", "a", "n"], [{"quux": d, "a": "x", "n": 1} for d in MONTHS]),
        chart_for_rows(["f", "g"], [{"f": 1, "g": 0.5}]),
    ]
    for spec in specs:
        assert spec is not None
        errors = [e.message for e in validator.iter_errors(spec)]
        assert errors == [], spec["description"]
