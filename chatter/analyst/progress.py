"""The analyst's progress events: what it understood, and its single query started and finished.

Each event is a JSON-ready dict named by its ``event`` key, the same key a workflow's step
events (``step_started``, ``step_finished``, ``step_skipped``) carry, so one reader handles
both. The graph's nodes write them to LangGraph's stream writer: Studio (custom stream mode),
the HTTP stream and the CLI all see the same events. Nobody streaming, the writer does nothing,
so the events are built from what the answer computes anyway (no extra work to throw away).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatter.result import StepResult

Progress = Callable[[dict[str, Any]], None]

#: The query of a single-query answer is its run's one step, under this id.
QUERY_STEP = "query"


def understood(
    route: dict[str, Any],
    interpretation: dict[str, Any] | None,
    *,
    clarification: str | None = None,
    options: list[str] | None = None,
) -> dict[str, Any]:
    """The question read: how it was understood and what comes next. ``route.workflow`` is
    ``query``, the template chosen, or ``clarify`` when the analyst asks back (then
    ``clarification`` is its question and ``options`` what a reply may pick)."""
    return {
        "event": "understood",
        "route": route,
        "interpretation": interpretation,
        "clarification": clarification,
        "options": options or [],
    }


def query_started(run_id: str, query: dict[str, Any]) -> dict[str, Any]:
    """The single query about to run (the guard let it): its semantic query."""
    return {
        "event": "query_started",
        "run_id": run_id,
        "step": QUERY_STEP,
        "query": query,
        "steps_done": 0,
        "steps_total": 1,
        "percent": 0.0,
    }


def query_finished(run_id: str, step: StepResult) -> dict[str, Any]:
    """The single query done: its SQL as it ran on the engine (literals written in, as the
    answer carries it), how many rows, whether the result cache answered, how long."""
    return {
        "event": "query_finished",
        "run_id": run_id,
        "step": QUERY_STEP,
        "status": step.status,
        "sql": step.sql,
        "rows": len(step.rows),
        "truncated": step.truncated,
        "cached": bool(step.cached),
        "duration_ms": step.duration_ms,
        "error": step.error,
        "steps_done": 1,
        "steps_total": 1,
        "percent": 100.0,
    }


def query_failed(run_id: str, error: str) -> dict[str, Any]:
    """The single query stopped by an error (the answer's error event follows)."""
    return {
        "event": "query_finished",
        "run_id": run_id,
        "step": QUERY_STEP,
        "status": "failed",
        "sql": None,
        "rows": 0,
        "truncated": False,
        "cached": False,
        "duration_ms": None,
        "error": error,
        "steps_done": 1,
        "steps_total": 1,
        "percent": 100.0,
    }
