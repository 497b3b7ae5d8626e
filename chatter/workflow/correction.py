"""The run's one multiple-comparison correction: a node between the steps that test and the
steps that read the run (insights, roll-up), so every finding is corrected exactly once, in one
family, and insights, roll-ups and the result all see the same adjusted p-values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatter.result import Finding, StepResult
from chatter.tools.stats import correct_findings
from chatter.workflow.state import WorkflowState
from chatter.workflow.template import CORRECT, Template


def recorded_findings(template: Template, state: WorkflowState) -> list[Finding]:
    """Every finding the steps recorded, in template step order, each tagged with its step."""
    records = state.get("steps", {})
    return [
        Finding.model_validate(raw).model_copy(update={"source_step": spec.id})
        for spec in template.steps
        for raw in records.get(spec.id, {}).get("findings", [])
    ]


def recorded_steps(template: Template, state: WorkflowState) -> list[StepResult]:
    """The steps recorded so far, in template order."""
    records = state.get("steps", {})
    return [
        StepResult.model_validate(records[s.id]["result"])
        for s in template.steps
        if s.id in records
    ]


def corrected_findings(state: WorkflowState) -> list[Finding]:
    """The run's findings as the correction node left them."""
    return [Finding.model_validate(f) for f in state.get("findings") or []]


def make_correction_node(template: Template) -> Callable[..., dict[str, Any]]:
    def correct(state: WorkflowState) -> dict[str, Any]:
        findings = correct_findings(
            recorded_findings(template, state), alpha=template.alpha, method=template.correction
        )
        return {"findings": [f.model_dump(mode="json") for f in findings]}

    correct.__name__ = CORRECT
    return correct
