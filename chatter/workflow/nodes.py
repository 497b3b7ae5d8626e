"""The node of one template step: skipped, or run through the guard (data-reading tools under a
query slot and a time limit), it always records itself. Every tool runs through the same path:
the node only looks at what the tool reads, never at its name."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from pydantic import BaseModel

from chatter.context import Context
from chatter.errors import ChatterError
from chatter.governance.guard import mark_guarded
from chatter.logs import get_logger
from chatter.result import StepResult
from chatter.run_control import RunControl, ServerStopping
from chatter.services import Services
from chatter.tools.protocol import ToolCall, ToolOutput, ToolSpec
from chatter.workflow import step_workers
from chatter.workflow.correction import corrected_findings, recorded_steps
from chatter.workflow.state import WorkflowState
from chatter.workflow.template import StepSpec, Template

log = get_logger(__name__)
DISABLED = "disabled by customization"


class StepTimeoutError(Exception):
    category = "timeout"  # how the metrics count it


class StepCancelledError(Exception):
    category = "cancelled"


def _emit(event: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):  # outside a streaming run there is nobody to tell
        get_stream_writer()(event)


def _run_with_timeout(
    services: Services, func: Callable[[], Any], seconds: float, ctl: RunControl
) -> Any:
    """Run ``func`` on a step worker; past ``seconds``, interrupt its queries and give up."""
    ident: list[int] = []

    def target() -> Any:
        ident.append(threading.get_ident())
        ctl.threads.add(ident[0])
        try:
            return func()
        finally:
            ctl.threads.discard(ident[0])

    future = step_workers.submit(target)
    deadline = time.monotonic() + seconds
    while True:
        try:
            return future.result(timeout=min(0.2, max(deadline - time.monotonic(), 0.0)))
        except FutureTimeout:
            pass
        if services.controls.abandon.is_set():
            raise ServerStopping  # the stop's grace is over: left for the next server
        if time.monotonic() >= deadline:
            break
    future.cancel()  # not started yet (a busy machine): it never will be
    if ident:
        services.warehouses.interrupt({ident[0]})
    raise StepTimeoutError(f"ran longer than its {seconds:g} s limit and was stopped")


def _with_slot(services: Services, ctl: RunControl, func: Callable[[], Any]) -> Any:
    """Run ``func`` once a query slot is free (its time limit starts then); a run cancelled
    while waiting gives up its turn."""
    slots = services.step_slots
    while not slots.acquire(timeout=0.1):
        if ctl.cancelled.is_set():
            raise StepCancelledError("the run was cancelled")
        if services.controls.stopping.is_set():
            raise ServerStopping
    try:
        return func()
    finally:
        slots.release()


def _skip_reason(step: StepSpec, state: WorkflowState, ctl: RunControl) -> str | None:
    if not step.enabled:
        return DISABLED
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


def _call(
    services: Services,
    template: Template,
    step: StepSpec,
    tool: ToolSpec,
    params: BaseModel,
    state: WorkflowState,
    ctx: Context,
) -> ToolCall:
    """What the tool is given: the warehouse if it reads data, the run if it reads the run."""
    reads_run = tool.reads == "run"
    return ToolCall(
        params=params,
        step_id=step.id,
        step_type=step.type,
        title=step.description or step.id,
        warehouse=services.warehouse(ctx) if tool.reads == "data" else None,
        steps=tuple(recorded_steps(template, state)) if reads_run else (),
        findings=tuple(corrected_findings(state)) if reads_run else (),
        upstream=step.after,
        alpha=template.alpha,
        llm=services.llm if reads_run else None,
    )


def make_step_node(
    services: Services, template: Template, step: StepSpec, tool: ToolSpec, params: BaseModel
) -> Callable[..., dict[str, Any]]:
    """The node that runs ``step``: skipped, completed or failed, it always records itself."""

    def run(state: WorkflowState, ctx: Context, ctl: RunControl) -> ToolOutput:
        call = _call(services, template, step, tool, params, state, ctx)
        if tool.reads != "data":
            return tool.run(call)
        timeout = step.timeout_s or services.settings.step_timeout_s
        output: ToolOutput = _with_slot(
            services,
            ctl,
            lambda: _run_with_timeout(services, lambda: tool.run(call), timeout, ctl),
        )
        return output

    def node(state: WorkflowState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = runtime.context or Context()
        run_id = state.get("run_id", "")
        ctl = services.controls.get(run_id)
        if services.controls.stopping.is_set() and not ctl.cancelled.is_set():
            raise ServerStopping  # the next server runs this step (the checkpoint has the rest)
        base: dict[str, Any] = {"id": step.id, "type": step.type, "tool": step.tool}
        reason = _skip_reason(step, state, ctl)
        if reason is not None:
            _emit({"event": "step_skipped", "step": step.id, "reason": reason})
            record = StepResult(**base, status="skipped", error=reason)
            return {"steps": {step.id: {"result": record.model_dump(mode="json"), "findings": []}}}
        _emit({"event": "step_started", "step": step.id, "type": step.type})
        started = time.perf_counter()
        update: dict[str, Any] = {}
        findings: list[dict[str, Any]] = []
        try:
            output = services.guard.call(
                ctx,
                tool=step.tool,
                step_type=step.type,
                params=params.model_dump(mode="json"),
                func=lambda: run(state, ctx, ctl),
                run_id=run_id,
                step_id=step.id,
                cached=lambda out: out.step.cached,
            )
            if output.insights is not None:
                update["insights"] = output.insights
            record = output.step.model_copy(
                update={**base, "duration_ms": round((time.perf_counter() - started) * 1000, 3)}
            )
            # A tool that reads the run comes after the correction: its findings (none, for the
            # built-in ones) would fall outside the run's one family, so they are not kept.
            if tool.reads != "run":
                findings = [f.model_dump(mode="json") for f in output.findings]
        except (ChatterError, StepTimeoutError, StepCancelledError) as err:
            if services.controls.stopping.is_set() and not ctl.cancelled.is_set():
                # Interrupted by the stop, not failed: the next server runs it again.
                raise ServerStopping from err
            message = err.message if isinstance(err, ChatterError) else str(err)
            record = _failed(base, started, message)
        except Exception as err:  # a bug: the run goes on, the step says what broke
            log.error("step_crashed", step=step.id, exc_info=True)
            record = _failed(base, started, f"internal error: {type(err).__name__}: {err}")
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


def _failed(base: dict[str, Any], started: float, message: str) -> StepResult:
    return StepResult(
        **base,
        status="failed",
        error=message,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )
