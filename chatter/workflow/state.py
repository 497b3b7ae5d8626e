"""Graph state and its reducers: parallel steps write their own keys and never overwrite."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


def merge_steps(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Step records merged by step id (a step writes only its own record)."""
    return {**(left or {}), **(right or {})}


class WorkflowInput(TypedDict, total=False):
    """What a caller (or LangGraph Studio) passes in: nothing is required."""

    run_id: str
    started_at: float  # time.time() when the run began, for its duration


class WorkflowOutput(TypedDict, total=False):
    """What a run returns: the CONTRACT.md section 3 document."""

    result: dict[str, Any]


class WorkflowState(TypedDict, total=False):
    run_id: str
    started_at: float
    # step id -> {"result": StepResult as dict, "findings": [Finding as dict, ...]}
    steps: Annotated[dict[str, Any], merge_steps]
    # Every step's findings under the run's one correction, in template order (set once, by the
    # correction node, before any step that reads the run).
    findings: list[dict[str, Any]]
    # Insights with their evidence, as the insight step wrote them.
    insights: dict[str, Any]
    errors: Annotated[list[dict[str, Any]], operator.add]
    halted: Annotated[bool, operator.or_]  # a fail_run step failed: later steps are skipped
    result: dict[str, Any]
