"""Charts written as files by vl-convert: real SVG and PNG a person can open."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chatter.chart_files import write_charts
from chatter.errors import InvalidValueError
from chatter.result import StepResult

pytestmark = pytest.mark.integration

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def step(step_id: str, columns: list[str], rows: list[dict[str, object]]) -> StepResult:
    return StepResult(id=step_id, type="query", status="completed", columns=columns, rows=rows)


BAR = step(
    "by_plan",
    ["wibble", "zork"],
    [{"wibble": k, "zork": v} for k, v in {"ash": 0.12, "birch": 0.31, "cedar": 0.05}.items()],
)
LINE = step(
    "over_time",
    ["quux", "blorp"],
    [{"quux": f"2024-{m:02d}-01", "blorp": 100 + 7 * m} for m in range(1, 13)],
)


def svg_text(path: Path) -> list[str]:
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # raises unless well-formed XML
    return [el.text or "" for el in root.iter() if el.tag.endswith("text")]


def test_bar_and_line_charts_are_written_as_svg_and_png(tmp_path: Path) -> None:
    out = tmp_path / "charts" / "nested"
    written = write_charts([BAR, LINE], out)
    assert written == [
        out / "by_plan.svg",
        out / "by_plan.png",
        out / "over_time.svg",
        out / "over_time.png",
    ]
    for png in (out / "by_plan.png", out / "over_time.png"):
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 5_000
    bar_text = svg_text(out / "by_plan.svg")
    assert {"wibble", "zork", "by_plan", "birch", "30%"} <= set(bar_text)
    line_text = svg_text(out / "over_time.svg")
    assert {"quux", "blorp", "over_time", "2024", "March"} <= set(line_text)


def test_only_the_asked_formats_are_written(tmp_path: Path) -> None:
    assert write_charts([BAR], tmp_path, formats=["svg"]) == [tmp_path / "by_plan.svg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["by_plan.svg"]


def test_a_step_s_own_chart_wins_and_steps_without_one_are_skipped(tmp_path: Path) -> None:
    own = BAR.model_copy(
        update={
            "id": "own",
            "chart": {
                "title": "hand made",
                "mark": "point",
                "data": {"values": [{"a": 1}]},
                "encoding": {"x": {"field": "a", "type": "quantitative"}},
            },
        }
    )
    empty = step("empty", ["wibble"], [])
    failed = StepResult(id="failed", type="query", status="failed", error="boom")
    written = write_charts([empty, own, failed], tmp_path, formats=("svg",))
    assert written == [tmp_path / "own.svg"]
    assert "hand made" in svg_text(tmp_path / "own.svg")


def test_nothing_to_chart_still_makes_the_directory(tmp_path: Path) -> None:
    assert write_charts([step("empty", [], [])], tmp_path / "out") == []
    assert (tmp_path / "out").is_dir()


def test_an_unknown_format_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError) as caught:
        write_charts([BAR], tmp_path / "out", formats=("svg", "jpeg"))
    assert "'jpeg'" in caught.value.message
    assert "svg, png" in caught.value.message
    assert not (tmp_path / "out").exists()


def test_a_step_id_cannot_write_outside_the_directory(tmp_path: Path) -> None:
    escaping = BAR.model_copy(update={"id": "../escape"})
    with pytest.raises(InvalidValueError):
        write_charts([escaping], tmp_path / "out")
    assert not (tmp_path / "escape.svg").exists()
