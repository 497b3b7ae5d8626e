"""Templates compiled to LangGraph graphs and run for real: results follow CONTRACT.md section 3,
steps run in parallel, failures skip dependents, customizations are validated before running,
graphs are cached, runs can be cancelled and time out."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import chatter
from chatter import run_workflow
from chatter.errors import (
    BadInputError,
    InvalidValueError,
    TemplateError,
    UnknownDimensionError,
    UnknownParameterError,
    UnknownStepError,
    UnknownTemplateError,
    UnknownToolError,
)
from chatter.semantic.model import default_model
from chatter.services import Services
from chatter.tools.analyses.result import AnalysisResult
from chatter.tools.builtin import analysis_tool
from chatter.tools.params import Params
from chatter.tools.registry import TOOLS, register_tool
from chatter.workflow.compiler import build_state_graph
from chatter.workflow.runs import cancel_run
from chatter.workflow.template import Template, get_template

pytestmark = pytest.mark.integration

CONTRACT_KEYS = {
    "workflow",
    "run_id",
    "status",
    "steps",
    "findings",
    "insights",
    "route",
    "metrics",
}
STEP_KEYS = {"id", "type", "status", "duration_ms", "sql", "rows", "truncated", "error"}
FINDING_KEYS = {
    "metric",
    "dimension",
    "segment",
    "test",
    "statistic",
    "p_value",
    "p_adjusted",
    "effect_size",
    "n",
    "significant",
}


def resolve_evidence(doc: dict[str, Any], ref: str) -> Any:
    """Follow an evidence id such as findings[3] or steps.x.rows[2] into the result."""
    if ref.startswith("findings["):
        return doc["findings"][int(ref[9:-1])]
    _, step_id, rest = ref.split(".", 2)
    step = next(s for s in doc["steps"] if s["id"] == step_id)
    if rest.startswith("rows["):
        return step["rows"][int(rest[5:-1])]
    assert rest.startswith("summary.")
    value: Any = step["summary"]
    for part in rest[len("summary.") :].split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


@pytest.mark.parametrize(
    "name", ["conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization"]
)
def test_each_template_completes_with_the_contract_shape(name: str, demo_db: Path) -> None:
    result = run_workflow(name, database=demo_db)
    doc = result.model_dump(mode="json")
    assert set(doc) >= CONTRACT_KEYS and doc["status"] == "completed"
    assert [s["id"] for s in doc["steps"]] == [s.id for s in get_template(name).steps]
    for step in doc["steps"]:
        assert set(step) >= STEP_KEYS and step["status"] == "completed", step
        if step["type"] in ("query", "analysis", "statistical_test"):
            assert step["sql"] and "$p" not in step["sql"]
    for finding in doc["findings"]:
        assert set(finding) >= FINDING_KEYS
        if finding["p_adjusted"] is not None:
            assert finding["significant"] == (finding["p_adjusted"] < 0.05)
    assert doc["insights"], "insights expected"
    for insight in doc["insights"]:
        assert insight["text"] and insight["evidence"]
        for ref in insight["evidence"]:
            resolve_evidence(doc, ref)
    assert doc["route"]["workflow"] == name
    assert doc["metrics"]["duration_ms"] > 0 and doc["metrics"]["llm_tokens"] == 0


def test_every_test_of_the_run_is_corrected_together(demo_db: Path) -> None:
    from statsmodels.stats.multitest import multipletests

    result = run_workflow("feature_usage_deep_dive", database=demo_db)
    tested = [f for f in result.findings if f.testable and not f.descriptive]
    _, expected, *_ = multipletests([f.p_value for f in tested], method="fdr_bh")
    assert [f.p_adjusted for f in tested] == pytest.approx(list(expected), rel=1e-12)
    assert {f.source_step for f in tested} == {"usage_correlation", "churn_relationship"}
    # Power users against the rest on their own activity: reported, never in the family.
    described = [f for f in result.findings if f.descriptive]
    assert {f.source_step for f in described} == {"power_user_analysis"}
    assert all(f.p_adjusted is None and not f.significant for f in described)


def test_alpha_is_customizable(demo_db: Path) -> None:
    strict = run_workflow("conversion_deep_dive", {"alpha": 1e-12}, database=demo_db)
    loose = run_workflow("conversion_deep_dive", database=demo_db)
    assert sum(f.significant for f in strict.findings) < sum(f.significant for f in loose.findings)


def test_customized_dimensions_and_filters_are_used(demo_db: Path) -> None:
    result = run_workflow(
        "conversion_deep_dive",
        {
            "steps": {
                "statistical_validation": {
                    "parameters": {
                        "dimensions": ["plan_type", "acquisition_channel"],
                        "filters": [{"field": "signup_date", "op": ">=", "value": "2025-01-01"}],
                    }
                },
                "industry_breakdown": {"parameters": {"dimensions": ["country"]}},
            }
        },
        database=demo_db,
    )
    validation = next(s for s in result.steps if s.id == "statistical_validation")
    assert {r["dimension"] for r in validation.rows} == {"plan_type", "acquisition_channel"}
    assert "2025-01-01" in (validation.sql or "")
    breakdown = next(s for s in result.steps if s.id == "industry_breakdown")
    assert "country" in breakdown.columns
    dims = {f.dimension for f in result.findings if f.source_step == "statistical_validation"}
    assert dims == {"plan_type", "acquisition_channel"}


def test_disabling_a_step_skips_its_dependents_with_a_reason(demo_db: Path) -> None:
    result = run_workflow(
        "conversion_deep_dive",
        {"steps": {"baseline_conversion": {"enabled": False}}},
        database=demo_db,
    )
    by_id = {s.id: s for s in result.steps}
    assert by_id["baseline_conversion"].status == "skipped"
    assert by_id["statistical_validation"].status == "skipped"
    assert "baseline_conversion" in (by_id["statistical_validation"].error or "")
    # The insight step depends on it only optionally, so it still runs.
    assert by_id["insight_synthesis"].status == "completed"
    assert by_id["cohort_analysis"].status == "completed"
    assert result.status == "partial"


@pytest.mark.parametrize(
    ("customizations", "error", "named"),
    [
        ({"steps": {"baseline": {"enabled": False}}}, UnknownStepError, "baseline_conversion"),
        (
            {"steps": {"statistical_validation": {"parameters": {"dimensions": ["industy"]}}}},
            UnknownDimensionError,
            "industry",
        ),
        (
            {"steps": {"statistical_validation": {"parameters": {"dimensionz": ["industry"]}}}},
            UnknownParameterError,
            "dimensions",
        ),
        (
            {
                "steps": {
                    "baseline_conversion": {
                        "parameters": {"filters": [{"field": "industry", "op": "~", "value": "x"}]}
                    }
                }
            },
            BadInputError,
            "~",
        ),
        (
            {
                "steps": {
                    "baseline_conversion": {
                        "parameters": {
                            "filters": [{"field": "signup_date", "op": ">=", "value": "soon"}]
                        }
                    }
                }
            },
            InvalidValueError,
            "YYYY-MM-DD",
        ),
        ({"steps": {"baseline_conversion": {"enabled": "no"}}}, InvalidValueError, "true or false"),
        # Revenue per account, events per user: no hits out of trials (a level could exceed 1).
        (
            {"steps": {"statistical_validation": {"parameters": {"metric": "arpu"}}}},
            InvalidValueError,
            "one of churn_rate, conversion_rate",
        ),
        ({"steps": {"baseline_conversion": {"colour": 1}}}, UnknownParameterError, "enabled"),
        ({"alpha": 2}, InvalidValueError, "alpha"),
        ({"palette": 1}, UnknownParameterError, "steps"),
        (["not", "an", "object"], InvalidValueError, "customizations"),
    ],
)
def test_bad_customizations_are_rejected_before_anything_runs(
    customizations: Any, error: type, named: str, demo_db: Path, services: Services
) -> None:
    calls_before = services.graphs.stats.builds
    with pytest.raises(error) as info:
        run_workflow("conversion_deep_dive", customizations, database=demo_db)
    assert named in info.value.message
    assert services.graphs.stats.builds == calls_before


def test_unknown_template_suggests() -> None:
    with pytest.raises(UnknownTemplateError, match="conversion_deep_dive"):
        chatter.build_graph("conversion_deep_dve")


def test_template_structure_errors(services: Services) -> None:
    base = {
        "name": "t",
        "description": "d",
        "steps": [
            {"id": "a", "type": "query", "tool": "query", "parameters": {"measures": ["users"]}}
        ],
    }
    with pytest.raises(TemplateError, match="unknown step 'zz'"):
        from chatter.workflow.template import parse_template

        parse_template({**base, "steps": [{**base["steps"][0], "depends_on": ["zz"]}]}, "t")
    cyclic = {
        **base,
        "steps": [
            {"id": "a", "type": "query", "tool": "query", "depends_on": ["b"]},
            {"id": "b", "type": "query", "tool": "query", "depends_on": ["a"]},
        ],
    }
    with pytest.raises(TemplateError, match="cycle"):
        parse_template(cyclic, "t")
    unknown_tool = Template.model_validate(
        {**base, "steps": [{"id": "a", "type": "analysis", "tool": "crystal_ball"}]}
    )
    with pytest.raises(UnknownToolError, match="cohort_analysis"):
        build_state_graph(services, unknown_tool, default_model())
    wrong_type = Template.model_validate(
        {**base, "steps": [{"id": "a", "type": "query", "tool": "cohort_analysis"}]}
    )
    with pytest.raises(TemplateError, match="serves"):
        build_state_graph(services, wrong_type, default_model())


def test_graph_is_cached_by_content_not_user(demo_db: Path, services: Services) -> None:
    cache = services.graphs
    cache.clear()
    first = chatter.build_graph("revenue_optimization")
    hits = cache.stats.hits
    again = chatter.build_graph("revenue_optimization")
    assert again is first and cache.stats.hits == hits + 1
    custom = chatter.build_graph(
        "revenue_optimization", {"steps": {"ltv_analysis": {"enabled": False}}}
    )
    assert custom is not first
    assert cache.stats.as_dict()["builds"] >= 2


def test_independent_steps_share_a_superstep(demo_db: Path) -> None:
    graph = chatter.build_graph("conversion_deep_dive")
    drawn = graph.get_graph()
    edges = {(e.source, e.target) for e in drawn.edges}
    for step in ("baseline_conversion", "industry_breakdown", "cohort_analysis"):
        assert ("begin", step) in edges
    assert ("baseline_conversion", "statistical_validation") in edges
    # And they really overlap in time when run.
    events: list[dict[str, Any]] = []
    run_workflow("conversion_deep_dive", database=demo_db, use_cache=False, progress=events.append)
    started = [e["step"] for e in events if e["event"] == "step_started"]
    first_finish = next(i for i, e in enumerate(events) if e["event"] == "step_finished")
    assert {"baseline_conversion", "industry_breakdown", "cohort_analysis"} <= set(
        started[:first_finish]
    )
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents) and percents[-1] == 100.0


# ---- failures, timeouts, cancellation with tools of our own -------------------------------------


class SleepParams(Params):
    seconds: float = 0.0
    fail: bool = False


SLEPT = threading.Event()  # set when a sleep of over a second has run to its end


def _sleepy(warehouse: Any, params: SleepParams) -> AnalysisResult:
    deadline = time.monotonic() + params.seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)
    if params.seconds > 1:
        SLEPT.set()
    if params.fail:
        raise RuntimeError("the sleepy tool was told to fail")
    return AnalysisResult(analysis="sleepy", rows=[{"slept": params.seconds}], columns=["slept"])


if "sleepy" not in TOOLS:
    register_tool(analysis_tool("sleepy", _sleepy, SleepParams, "Sleeps, or fails.", cache=False))


def sleepy_template(**steps: dict[str, Any]) -> Template:
    specs = [
        {"id": sid, "type": "analysis", "tool": "sleepy", **spec} for sid, spec in steps.items()
    ]
    return Template.model_validate({"name": "sleepy", "description": "test", "steps": specs})


def test_a_failed_step_skips_dependents_and_other_branches_go_on(demo_db: Path) -> None:
    template = sleepy_template(
        a={"parameters": {"fail": True}},
        b={"depends_on": ["a"]},
        c={},
        d={"depends_on": ["b"]},
    )
    result = run_workflow(template, database=demo_db)
    status = {s.id: (s.status, s.error) for s in result.steps}
    assert status["a"][0] == "failed" and "told to fail" in (status["a"][1] or "")
    assert status["b"][0] == "skipped" and "depends on a, which failed" in (status["b"][1] or "")
    assert status["d"][0] == "skipped" and "depends on b" in (status["d"][1] or "")
    assert status["c"] == ("completed", None)
    assert result.status == "partial"


def test_fail_run_policy_stops_later_steps(demo_db: Path) -> None:
    template = sleepy_template(
        a={"parameters": {"fail": True}, "on_failure": "fail_run"},
        b={},
        c={"optional_dependencies": ["a", "b"]},
    )
    result = run_workflow(template, database=demo_db)
    status = {s.id: s.status for s in result.steps}
    assert status == {"a": "failed", "b": "completed", "c": "skipped"}


def test_per_step_timeout(demo_db: Path) -> None:
    # The abandoned worker finishes on its own 2 s later (a query would be interrupted); the
    # run must not have waited for it.
    SLEPT.clear()
    template = sleepy_template(slow={"parameters": {"seconds": 2}, "timeout_s": 0.3}, fast={})
    result = run_workflow(template, database=demo_db)
    assert not SLEPT.is_set()
    status = {s.id: (s.status, s.error) for s in result.steps}
    assert status["slow"][0] == "failed" and "0.3 s limit" in (status["slow"][1] or "")
    assert status["fast"][0] == "completed"


def test_cancellation_stops_pending_steps(demo_db: Path, services: Services) -> None:
    template = sleepy_template(
        first={"parameters": {"seconds": 1.0}},
        second={"depends_on": ["first"]},
        third={"depends_on": ["second"]},
    )
    holder: dict[str, Any] = {}

    def runner() -> None:
        holder["result"] = run_workflow(template, database=demo_db, run_id="cancel-me")

    thread = threading.Thread(target=runner)
    thread.start()
    time.sleep(0.3)
    assert cancel_run(services, "cancel-me")
    thread.join(30)
    result = holder["result"]
    assert result.status == "cancelled"
    status = {s.id: s.status for s in result.steps}
    assert status["second"] == "skipped" and status["third"] == "skipped"


def test_a_run_id_cannot_be_reused(demo_db: Path) -> None:
    template = sleepy_template(only={})
    run_workflow(template, database=demo_db, run_id="once")
    with pytest.raises(InvalidValueError, match="exists already"):
        run_workflow(template, database=demo_db, run_id="once")


def test_query_slots_bound_how_many_steps_query_at_once(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, services: Services
) -> None:
    active, peak = [0], [0]
    lock = threading.Lock()

    def counting(warehouse: Any, params: SleepParams) -> AnalysisResult:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return AnalysisResult(analysis="counting")

    monkeypatch.setitem(
        TOOLS, "sleepy", analysis_tool("sleepy", counting, SleepParams, "Counts.", cache=False)
    )
    monkeypatch.setattr(services, "step_slots", threading.BoundedSemaphore(2))
    result = run_workflow(sleepy_template(a={}, b={}, c={}, d={}), database=demo_db)
    assert result.status == "completed" and peak[0] == 2


@pytest.mark.parametrize(
    "metric, table", [("arpu", "revenue"), ("events_per_user", "events"), ("users", "users")]
)
def test_segment_tests_called_directly_refuse_a_metric_that_is_no_share(
    metric: str, table: str, demo_db: Path
) -> None:
    """Called from Python, past the parameters' check: a clear error naming the shares, where
    a ratio of a sum to a count once ended in a math domain error (a rate above 1)."""
    from chatter.errors import InvalidQueryError
    from chatter.semantic.engine import Engine
    from chatter.semantic.warehouse import Warehouse
    from chatter.tools.analyses import SegmentTestParams, segment_rate_tests

    with (
        Warehouse(Engine(demo_db), default_model()) as wh,
        pytest.raises(InvalidQueryError) as info,
    ):
        segment_rate_tests(wh, SegmentTestParams(metric=metric, entity_table=table))
    assert f"metric {metric!r}" in info.value.message
    assert "choose one of: churn_rate, conversion_rate" in info.value.message
