"""The last node: the state becomes the run's result (CONTRACT.md section 3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chatter.result import Insight, RunMetrics, StepResult, WorkflowResult
from chatter.services import Services
from chatter.workflow.correction import corrected_findings
from chatter.workflow.nodes import DISABLED
from chatter.workflow.state import WorkflowState
from chatter.workflow.template import Template


def run_status(steps: list[StepResult], cancelled: bool) -> str:
    if cancelled:
        return "cancelled"
    active = [s for s in steps if s.error != DISABLED]
    if active and not any(s.status == "completed" for s in active):
        return "failed"
    if any(s.status != "completed" for s in active):
        return "partial"
    return "completed"


def assemble(template: Template, state: WorkflowState, *, cancelled: bool) -> WorkflowResult:
    records = state.get("steps", {})
    steps = [
        StepResult.model_validate(records[s.id]["result"])
        if s.id in records
        else StepResult(id=s.id, type=s.type, tool=s.tool, status="skipped", error="did not run")
        for s in template.steps
    ]
    insight_state = state.get("insights") or {}
    started = state.get("started_at")
    duration = (
        (time.time() - started) * 1000
        if isinstance(started, int | float)
        else sum(s.duration_ms for s in steps)
    )
    return WorkflowResult(
        workflow=template.name,
        run_id=state.get("run_id", ""),
        status=run_status(steps, cancelled),  # type: ignore[arg-type]
        steps=steps,
        findings=corrected_findings(state),
        insights=[Insight.model_validate(i) for i in insight_state.get("items", [])],
        metrics=RunMetrics(
            duration_ms=round(duration, 3),
            cache_hits=sum(s.cached for s in steps),
            llm_tokens=int(insight_state.get("llm_tokens", 0)),
            insights_reworded=int(insight_state.get("reworded", 0)),
            insights_rejected=int(insight_state.get("rejected", 0)),
        ),
    )


def make_finalize_node(services: Services, template: Template) -> Callable[..., dict[str, Any]]:
    def finalize(state: WorkflowState) -> dict[str, Any]:
        run_id = state.get("run_id", "")
        control = services.controls.find(run_id)
        result = assemble(template, state, cancelled=bool(control and control.cancelled.is_set()))
        services.controls.forget(run_id)  # the run is over: nothing left to cancel
        return {"result": result.model_dump(mode="json")}

    return finalize
