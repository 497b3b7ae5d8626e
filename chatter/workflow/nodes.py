"""Graph nodes: one per template step (skip, run under a time limit, record), and the node that
turns the state into the run's result."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from pydantic import BaseModel

from chatter.context import Context
from chatter.errors import ChatterError
from chatter.governance.guard import guarded_call, mark_guarded
from chatter.logs import get_logger
from chatter.result import StepResult
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.settings import get_settings
from chatter.tools.registry import ToolSpec
from chatter.workflow.resources import RunControl, control, step_slots, warehouse_for
from chatter.workflow.state import WorkflowState
from chatter.workflow.step_runners import StepOutput, run_insights, run_roll_up, run_tool
from chatter.workflow.template import StepSpec, Template

log = get_logger(__name__)


class StepTimeoutError(Exception):
    category = "timeout"  # how the metrics count it


class StepCancelledError(Exception):
    category = "cancelled"


def _emit(event: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):  # outside a streaming run there is nobody to tell
        get_stream_writer()(event)


def _run_with_timeout(
    func: Callable[[], Any], seconds: float, ctl: RunControl, warehouse: Warehouse
) -> Any:
    """Run ``func`` on a worker thread; past ``seconds``, interrupt its queries and give up."""
    box: dict[str, Any] = {}

    def target() -> None:
        ctl.threads.add(threading.get_ident())
        try:
            box["value"] = func()
        except BaseException as err:  # re-raised on the node's thread
            box["error"] = err
        finally:
            ctl.threads.discard(threading.get_ident())

    worker = threading.Thread(target=target, daemon=True, name="chatter-step")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        warehouse.engine.interrupt({worker.ident} if worker.ident else None)
        raise StepTimeoutError(f"ran longer than its {seconds:g} s limit and was stopped")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _with_slot(ctl: RunControl, func: Callable[[], Any]) -> Any:
    """Run ``func`` once a query slot is free (its time limit starts then); a run cancelled
    while waiting gives up its turn."""
    slots = step_slots()
    while not slots.acquire(timeout=0.1):
        if ctl.cancelled.is_set():
            raise StepCancelledError("the run was cancelled")
    try:
        return func()
    finally:
        slots.release()


def _skip_reason(step: StepSpec, state: WorkflowState, ctl: RunControl) -> str | None:
    if not step.enabled:
        return "disabled by customization"
    if ctl.cancelled.is_set():
        return "the run was cancelled"
    if state.get("halted"):
        return "the run stopped after a step with on_failure=fail_run failed"
    records = state.get("steps", {})
    for dep in step.depends_on:
        result = records.get(dep, {}).get("result", {})
        if result.get("status") != "completed":
            why = result.get("error") or "it did not run"
            return f"depends on {dep}, which {result.get('status', 'did not run')}: {why}"
    return None


def make_step_node(
    template: Template, step: StepSpec, tool: ToolSpec, params: BaseModel
) -> Callable[..., dict[str, Any]]:
    """The node that runs ``step``: skipped, completed or failed, it always records itself."""

    def node(state: WorkflowState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = runtime.context or Context()
        run_id = state.get("run_id", "")
        ctl = control(run_id)
        base: dict[str, Any] = {"id": step.id, "type": step.type, "tool": step.tool}
        reason = _skip_reason(step, state, ctl)
        if reason is not None:
            _emit({"event": "step_skipped", "step": step.id, "reason": reason})
            record = StepResult(**base, status="skipped", error=reason)
            return {"steps": {step.id: {"result": record.model_dump(mode="json"), "findings": []}}}
        _emit({"event": "step_started", "step": step.id, "type": step.type})
        started = time.perf_counter()
        update: dict[str, Any] = {}
        try:
            output = guarded_call(
                ctx,
                tool=step.tool,
                step_type=step.type,
                params=params.model_dump(mode="json"),
                func=lambda: _run_step(template, step, tool, params, state, ctx, ctl),
                run_id=run_id,
                step_id=step.id,
                cached=lambda out: out.step.cached,
            )
            if step.tool == "insights":
                update["insights"] = output.insights
            record = output.step.model_copy(
                update={**base, "duration_ms": round((time.perf_counter() - started) * 1000, 3)}
            )
            findings = [f.model_dump(mode="json") for f in output.findings]
        except (ChatterError, StepTimeoutError, StepCancelledError) as err:
            message = err.message if isinstance(err, ChatterError) else str(err)
            record, findings = _failed(base, started, message), []
        except Exception as err:  # a bug: the run goes on, the step says what broke
            log.error("step_crashed", step=step.id, exc_info=True)
            record, findings = (
                _failed(base, started, f"internal error: {type(err).__name__}: {err}"),
                [],
            )
        if record.status == "failed" and step.on_failure == "fail_run":
            update["halted"] = True
        if ctl.cancelled.is_set() and record.status == "failed":
            record = record.model_copy(
                update={"status": "skipped", "error": "the run was cancelled"}
            )
        _emit(
            {
                "event": "step_finished",
                "step": step.id,
                "status": record.status,
                "duration_ms": record.duration_ms,
                "error": record.error,
            }
        )
        update["steps"] = {
            step.id: {"result": record.model_dump(mode="json"), "findings": findings}
        }
        return update

    node.__name__ = f"step_{step.id}"
    return mark_guarded(node)


def _run_step(
    template: Template,
    step: StepSpec,
    tool: ToolSpec,
    params: BaseModel,
    state: WorkflowState,
    ctx: Context,
    ctl: RunControl,
) -> StepOutput:
    """What the step does once the guard let it through."""
    if step.tool == "roll_up":
        return run_roll_up(template, step, state)
    if step.tool == "insights":
        return run_insights(template, step, params, state)
    warehouse = warehouse_for(ctx)
    timeout = step.timeout_s or get_settings().step_timeout_s
    query = params if isinstance(params, SemanticQuery) else None
    output: StepOutput = _with_slot(
        ctl,
        lambda: _run_with_timeout(
            lambda: run_tool(tool, step, params, warehouse, query), timeout, ctl, warehouse
        ),
    )
    return output


def _failed(base: dict[str, Any], started: float, message: str) -> StepResult:
    return StepResult(
        **base,
        status="failed",
        error=message,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )
