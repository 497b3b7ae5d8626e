"""Each analysis step's chart draws what the step found: the real templates run on generated
DuckDB data, and the Vega-Lite encodings are read back (which field on which channel), checked
against the rows and against an independent computation."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vl_convert as vlc
from statsmodels.stats.proportion import proportion_confint
from synthetic import make_dataset
from test_charts import _quote_refs, _vega_lite_v5_schema

from chatter import run_workflow
from chatter.charts import SCHEMA, chart_for_rows, chart_spec
from chatter.result import StepResult
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.services import close_shared_services
from chatter.settings import get_settings
from chatter.tools import analyses

TEMPLATES = ("conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization")
POSITION = ("x", "x2", "y", "color", "text")  # the channels that draw a value (not tooltips)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("charts") / "c.duckdb", users=3000, seed=3)


@pytest.fixture(scope="module")
def steps(
    database: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, StepResult]]:
    """Every step of the three templates, by step id, run once for the module in a data
    directory of its own (as the per-test one in conftest, which is not set up yet)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHATTER_HOME", str(tmp_path_factory.mktemp("home")))
        for var in ("CHATTER_DATABASE", "CHATTER_SEMANTIC_MODEL", "OPENAI_API_KEY"):
            patch.delenv(var, raising=False)
        get_settings.cache_clear()
        try:
            found = {
                s.id: s
                for name in TEMPLATES
                for s in run_workflow(name, database=str(database)).steps
            }
        finally:
            close_shared_services()
            get_settings.cache_clear()
    yield found


def chart(steps: dict[str, StepResult], step_id: str) -> dict[str, Any]:
    step = steps[step_id]
    assert step.status == "completed", step.error
    spec = chart_spec(step)
    assert spec is not None
    assert spec["$schema"] == SCHEMA
    assert spec["title"] == step_id
    return spec


def views(spec: Any) -> Iterator[dict[str, Any]]:
    """Every view of a spec: itself, its panels, layers and faceted spec, at any depth."""
    if isinstance(spec, dict):
        yield spec
        for key in ("vconcat", "hconcat", "layer"):
            for child in spec.get(key, []):
                yield from views(child)
        if isinstance(spec.get("spec"), dict):
            yield from views(spec["spec"])


def drawn(spec: dict[str, Any]) -> set[str]:
    """The fields drawn on a channel anywhere in the spec, and the fields a fold draws."""
    fields = set()
    for view in views(spec):
        for channel in POSITION:
            field = view.get("encoding", {}).get(channel, {}).get("field")
            fields |= {field} if field else set()
        for step in view.get("transform", []):
            fields |= set(step.get("fold", []))
    return fields


def mark_of(view: dict[str, Any]) -> str | None:
    mark = view.get("mark")
    return mark.get("type") if isinstance(mark, dict) else mark


def layer_with(spec: dict[str, Any], mark: str) -> dict[str, Any]:
    found = [v for v in views(spec) if mark_of(v) == mark]
    assert len(found) == 1, f"one {mark} layer expected, found {len(found)}"
    return found[0]


def vega_lite_5() -> str:
    """The newest Vega-Lite 5 vl-convert bundles (the specs say v5), as chart_files uses."""
    fives = [v for v in vlc.get_vegalite_versions() if v.startswith("5.")]
    return max(fives, key=lambda v: tuple(int(p) for p in v.split(".")))


def test_cohort_chart_is_retention_by_period_one_line_per_cohort(
    steps: dict[str, StepResult],
) -> None:
    step = steps["cohort_analysis"]
    spec = chart(steps, "cohort_analysis")
    retention, conversion = spec["vconcat"]
    enc = retention["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("periods_since_signup", "quantitative")
    assert enc["y"]["field"] == "retention_rate"
    assert enc["color"]["field"] == "cohort"
    assert retention["mark"]["type"] == "line"
    # the measured mistake: the period counter drawn as a value
    assert all(
        v.get("encoding", {}).get("y", {}).get("field") != "periods_since_signup"
        for v in views(spec)
    )
    curves = retention["data"]["values"]
    ended = [r for r in step.rows if r["periods_since_signup"] is not None]
    assert len(curves) == len(ended) > 0
    # one line per cohort: along each, by period, retention never rises (churn accumulates)
    by_cohort: dict[str, list[tuple[int, float]]] = {}
    for r in curves:
        assert 0.0 <= r["retention_rate"] <= 1.0
        by_cohort.setdefault(r["cohort"], []).append(
            (r["periods_since_signup"], r["retention_rate"])
        )
    assert len(by_cohort) > 3
    for cohort, line in by_cohort.items():
        line.sort()
        assert [k for k, _ in line] == list(range(len(line))), cohort
        assert all(b <= a + 1e-12 for (_, a), (_, b) in itertools.pairwise(line)), cohort
    # below: each cohort's conversion once, equal to its own counts
    enc = conversion["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"], enc["y"]["field"]) == (
        "cohort",
        "temporal",
        "conversion_rate",
    )
    per_cohort = conversion["data"]["values"]
    assert [r["cohort"] for r in per_cohort] == sorted({r["cohort"] for r in step.rows})
    for r in per_cohort:
        assert r["conversion_rate"] == pytest.approx(r["converted_users"] / r["users"])


def test_validation_chart_is_each_level_s_rate_with_its_wilson_interval(
    steps: dict[str, StepResult],
) -> None:
    step = steps["statistical_validation"]
    spec = chart(steps, "statistical_validation")
    rate, low, high, rest = (
        "conversion_rate",
        "conversion_rate_low",
        "conversion_rate_high",
        ("conversion_rate_rest"),
    )
    assert spec["facet"]["row"]["field"] == "dimension"
    point, bar, tick = (
        layer_with(spec, "point"),
        layer_with(spec, "errorbar"),
        layer_with(spec, "tick"),
    )
    assert point["encoding"]["x"]["field"] == rate
    assert point["encoding"]["y"]["field"] == "segment"
    assert (bar["encoding"]["x"]["field"], bar["encoding"]["x2"]["field"]) == (low, high)
    assert tick["encoding"]["x"]["field"] == rest
    assert drawn(spec) == {rate, low, high, rest, "segment"}  # no count, no size
    rows = spec["data"]["values"]
    assert rows == step.rows and len(rows) >= 6
    for r in rows:
        assert 0.0 <= r[low] <= r[rate] <= r[high] <= 1.0, r
        expected = proportion_confint(r["converted_users"], r["users"], alpha=0.05, method="wilson")
        assert (r[low], r[high]) == pytest.approx(expected, rel=1e-9), r
    # the planted effect (dental converts at 36% against 22%) is visible: its interval clears
    # the levels it was compared with; a level of the null dimension (country) does not
    (dental,) = [r for r in rows if r["segment"] == "dental"]
    assert dental[low] > dental[rest]
    assert all(r[low] <= r[rest] <= r[high] for r in rows if r["dimension"] == "country")


def test_the_other_steps_draw_their_rates_not_their_counts_or_ids(
    steps: dict[str, StepResult],
) -> None:
    expected = {
        "baseline_conversion": {"plan_type", "conversion_rate"},
        "industry_breakdown": {"industry", "conversion_rate"},
        "power_user_analysis": {
            "feature",
            "rate",
            "group",
            "power_adoption_rate",
            "rest_adoption_rate",
        },
        "churn_relationship": {
            "feature",
            "rate",
            "group",
            "adopter_monthly_churn",
            "non_adopter_monthly_churn",
        },
        "growth_trends": {"period", "mrr", "growth", "flag"},
        "ltv_analysis": {"segment", "ltv", "ltv_low", "ltv_high"},
        "expansion_opportunities": {"move", "mrr_at_stake"},
    }
    for step_id, fields in expected.items():
        assert drawn(chart(steps, step_id)) == fields, step_id
    correlation = drawn(chart(steps, "usage_correlation"))
    assert {"feature_a", "feature_b"} < correlation
    assert correlation - {"feature_a", "feature_b"} <= {
        "correlation",
        "co_adoption_phi",
        "intensity_correlation",
    }
    # the expansion chart totals every candidate (the summary), not only the rows shown
    expansion = chart(steps, "expansion_opportunities")
    total = sum(r["mrr_at_stake"] for r in expansion["data"]["values"])
    found = steps["expansion_opportunities"]
    assert found.summary["candidates"] > len(found.rows)  # the rows keep the top ones only
    assert total == pytest.approx(found.summary["mrr_at_stake"])
    assert total > sum(r["mrr_at_stake"] for r in found.rows)
    # LTV bars largest first, each inside its interval
    ltv = chart(steps, "ltv_analysis")
    order = layer_with(ltv, "bar")
    rows = ltv["data"]["values"]
    assert all(r["ltv"] is not None for r in rows)
    ranked = sorted(rows, key=lambda r: -r["ltv"])
    assert ltv["encoding"]["y"]["sort"] == [r["segment"] for r in ranked]
    assert order["encoding"]["x"]["field"] == "ltv"
    assert all(r["ltv_low"] <= r["ltv"] <= r["ltv_high"] for r in rows)
    # growth: the flag marks exactly the periods the step flagged, as points, not a series
    growth = chart(steps, "growth_trends")
    flagged = [r["period"] for r in growth["data"]["values"] if r["flag"]]
    step_rows = steps["growth_trends"].rows
    assert flagged == [r["period"] for r in step_rows if r["partial"] or r["tiny"] or r["missing"]]
    assert flagged  # the synthetic data's first month is tiny
    lines = [v for v in views(growth) if v.get("mark", {}) == {"type": "line", "point": True}]
    assert all("color" not in v.get("encoding", {}) for v in lines)


def test_every_chart_of_the_templates_compiles_and_validates(steps: dict[str, StepResult]) -> None:
    specs = {s.id: chart_spec(s) for s in steps.values()}
    charted = {k: v for k, v in specs.items() if v is not None}
    assert set(specs) - set(charted) == {
        "insight_synthesis",
        "feature_insights",
        "revenue_insights",
    }
    for step_id, spec in charted.items():
        vega = vlc.vegalite_to_vega(spec, vl_version=vega_lite_5())
        assert vega.get("marks"), step_id
    svg = vlc.vegalite_to_svg(charted["statistical_validation"], vl_version=vega_lite_5())
    assert "dental" in svg and "conversion_rate" in svg
    schema = _vega_lite_v5_schema()
    if schema is None:
        pytest.skip("no offline copy of the Vega-Lite v5 schema is installed")
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    validator = jsonschema_rs.Draft7Validator(_quote_refs(schema))
    for step_id, spec in charted.items():
        assert [e.message[:300] for e in validator.iter_errors(spec)] == [], step_id


def test_a_churn_rate_is_charted_per_paying_month_without_invented_intervals(
    database: Path,
) -> None:
    with Warehouse(Engine(database), default_model()) as wh:
        result = analyses.segment_rate_tests(
            wh, analyses.SegmentTestParams(metric="churn_rate", dimensions=("plan_type",))
        )
    step = result.to_step("churn_by_plan", "statistical_test", tool="segment_rate_tests")
    spec = chart_spec(step)
    assert spec is not None
    point, tick = layer_with(spec, "point"), layer_with(spec, "tick")
    assert point["encoding"]["x"]["field"] == "monthly_churn_rate"
    assert tick["encoding"]["x"]["field"] == "monthly_churn_rate_rest"
    assert not [v for v in views(spec) if mark_of(v) == "errorbar"]


def test_a_tool_without_a_chart_or_rows_of_another_shape_fall_back_to_inference() -> None:
    rows = [
        {"wibble": "2024-01-01", "zork": 3, "blorp": 0.5},
        {"wibble": "2024-02-01", "zork": 4, "blorp": 0.25},
    ]
    for tool in (None, "query", "no_such_tool", "cohort_analysis", "conversion_tests"):
        step = StepResult(
            id="s",
            type="analysis",
            status="completed",
            tool=tool,
            columns=["wibble", "zork", "blorp"],
            rows=rows,
        )
        assert chart_spec(step) == chart_for_rows(step.columns, rows, title="s"), tool
    empty = StepResult(
        id="s",
        type="analysis",
        status="completed",
        tool="cohort_analysis",
        columns=["cohort", "periods_since_signup", "retention_rate", "conversion_rate"],
    )
    assert chart_spec(empty) is None


def test_a_truncated_step_says_so_in_its_declared_chart(steps: dict[str, StepResult]) -> None:
    cut = steps["cohort_analysis"].model_copy(update={"truncated": True})
    spec = chart_spec(cut, title="")
    assert spec is not None and "title" not in spec and "vconcat" in spec
    assert spec["description"].endswith("The step's rows were truncated before charting.")
    assert "truncated" not in chart(steps, "cohort_analysis")["description"]


def test_adoption_by_segment_draws_the_rate_and_expansion_rows_alone_are_summed(
    database: Path,
) -> None:
    with Warehouse(Engine(database), default_model()) as wh:
        result = analyses.adoption_by_segment(wh, analyses.AdoptionParams())
    adoption = chart_spec(result.to_step("adoption", "analysis", tool="adoption_by_segment"))
    assert adoption is not None
    assert drawn(adoption) == {"feature", "segment", "adoption_rate"}  # not the adopters' count
    assert vlc.vegalite_to_vega(adoption, vl_version=vega_lite_5()).get("marks")
    # without the summary's per-plan totals, the candidate rows are summed per move (no ids)
    rows = [
        {"entity": 7, "plan": "tin", "suggested_plan": "zinc", "mrr_at_stake": 5.0},
        {"entity": 9, "plan": "tin", "suggested_plan": "zinc", "mrr_at_stake": 7.0},
        {"entity": 4, "plan": "zinc", "suggested_plan": "lead", "mrr_at_stake": 30.0},
    ]
    step = StepResult(
        id="e",
        type="analysis",
        status="completed",
        tool="expansion_opportunities",
        columns=list(rows[0]),
        rows=rows,
    )
    spec = chart_spec(step)
    assert spec is not None and "entity" not in drawn(spec)
    svg = vlc.vegalite_to_svg(spec, vl_version=vega_lite_5())
    assert "tin → zinc" in svg and "zinc → lead" in svg
    scenegraph = vlc.vegalite_to_scenegraph(spec, vl_version=vega_lite_5())
    widths = sorted(round(item["width"], 3) for item in _bars(scenegraph))
    assert widths[1] / widths[0] == pytest.approx(30.0 / 12.0, rel=1e-3)  # sums, not counts


def _bars(node: Any) -> Iterator[dict[str, Any]]:
    """The rect items of a rendered scenegraph (the bars)."""
    if isinstance(node, dict):
        if node.get("marktype") == "rect" and node.get("role") == "mark":
            yield from node.get("items", [])
        for value in node.values():
            yield from _bars(value)
    elif isinstance(node, list):
        for value in node:
            yield from _bars(value)
