"""The last node: the state becomes the run's result (CONTRACT.md section 3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chatter.result import Insight, RunMetrics, StepResult, WorkflowResult
from chatter.tools.stats import correct_findings
from chatter.workflow.resources import control, forget
from chatter.workflow.state import WorkflowState
from chatter.workflow.step_runners import ordered_findings, remap_evidence
from chatter.workflow.template import Template

DISABLED = "disabled by customization"


def run_status(steps: list[StepResult], cancelled: bool) -> str:
    if cancelled:
        return "cancelled"
    active = [s for s in steps if s.error != DISABLED]
    if active and not any(s.status == "completed" for s in active):
        return "failed"
    if any(s.status != "completed" for s in active):
        return "partial"
    return "completed"


def assemble(template: Template, state: WorkflowState) -> WorkflowResult:
    run_id = state.get("run_id", "")
    records = state.get("steps", {})
    steps = [
        StepResult.model_validate(records[s.id]["result"])
        if s.id in records
        else StepResult(id=s.id, type=s.type, tool=s.tool, status="skipped", error="did not run")
        for s in template.steps
    ]
    keys, findings = ordered_findings(template, state)
    findings = correct_findings(findings, alpha=template.alpha, method=template.correction)
    insight_state = state.get("insights") or {}
    insights = remap_evidence(
        [Insight.model_validate(i) for i in insight_state.get("items", [])],
        [tuple(k) for k in insight_state.get("finding_keys", [])],
        {key: i for i, key in enumerate(keys)},
    )
    started = state.get("started_at")
    duration = (
        (time.time() - started) * 1000
        if isinstance(started, int | float)
        else sum(s.duration_ms for s in steps)
    )
    return WorkflowResult(
        workflow=template.name,
        run_id=run_id,
        status=run_status(steps, control(run_id).cancelled.is_set()),  # type: ignore[arg-type]
        steps=steps,
        findings=findings,
        insights=insights,
        metrics=RunMetrics(
            duration_ms=round(duration, 3),
            cache_hits=sum(s.cached for s in steps),
            llm_tokens=int(insight_state.get("llm_tokens", 0)),
            insights_reworded=int(insight_state.get("reworded", 0)),
            insights_rejected=int(insight_state.get("rejected", 0)),
        ),
    )


def make_finalize_node(template: Template) -> Callable[..., dict[str, Any]]:
    def finalize(state: WorkflowState) -> dict[str, Any]:
        result = assemble(template, state)
        forget(result.run_id)  # the run is over: nothing left to cancel
        return {"result": result.model_dump(mode="json")}

    return finalize
