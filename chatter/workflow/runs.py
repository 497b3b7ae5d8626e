"""Running workflows: build and cache graphs, run them durably (SQLite checkpoints), stream
progress, resume an interrupted run, cancel a running one."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chatter.context import Context, context_from_dict, context_to_dict
from chatter.errors import InvalidValueError, RunStateError, UnknownRunError
from chatter.governance.permissions import workflow_resources
from chatter.logs import get_logger
from chatter.result import Route, WorkflowResult
from chatter.semantic.model import SemanticModel
from chatter.services import Services
from chatter.version import __version__
from chatter.workflow.compiler import build_state_graph
from chatter.workflow.composite import component_names
from chatter.workflow.template import Template, customize, get_template, validate

log = get_logger(__name__)
Progress = Callable[[dict[str, Any]], None]


def prepare(
    template: str | Template, customizations: Mapping[str, Any] | None, model: SemanticModel
) -> Template:
    """The customized template, validated (names, tools, parameters) against ``model``."""
    base = get_template(template) if isinstance(template, str) else template
    customized = customize(base, customizations)
    validate(customized, model)
    return customized


def compiled_graph(
    services: Services, template: Template, model: SemanticModel, *, durable: bool = False
) -> Any:
    """The compiled graph of a (customized) template, from the services' graph cache. The key
    holds everything that shapes the graph, the checkpointer included, never the user."""
    checkpointer = services.run_checkpoints if durable else None
    key = (
        "template",
        template.name,
        template.content_hash,
        model.content_hash,
        __version__,
        id(checkpointer) if checkpointer is not None else None,
    )

    def compile_graph() -> Any:
        builder = build_state_graph(services, template, model)
        return builder.compile(checkpointer=checkpointer, name=template.name)

    return services.graphs.get(key, compile_graph)


def build_graph(
    services: Services,
    template: str | Template,
    customizations: Mapping[str, Any] | None = None,
    *,
    semantic_model: Path | None = None,
) -> Any:
    """The compiled graph for ``invoke``/``stream`` (context: a chatter Context)."""
    model = services.model(semantic_model)
    return compiled_graph(services, prepare(template, customizations, model), model)


def run_workflow(
    services: Services,
    template: str | Template,
    customizations: Mapping[str, Any] | None = None,
    *,
    context: Context | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
    route: Route | None = None,
) -> WorkflowResult:
    """Run a template to the end as ``context`` and return its result (CONTRACT.md
    section 3)."""
    run_id = create_run(services, template, customizations, context or Context(), run_id=run_id)
    return execute_run(services, run_id, progress=progress, route=route)


def create_run(
    services: Services,
    template: str | Template,
    customizations: Mapping[str, Any] | None,
    ctx: Context,
    *,
    run_id: str | None = None,
) -> str:
    """Check and record a run without starting it (status ``created``); returns its id."""
    run_id = run_id or uuid.uuid4().hex
    # Before anything reads the customizations: a secret in them must not reach an error
    # message, a log line or the run store.
    name = template if isinstance(template, str) else template.name
    authorize_workflow(services, ctx, name, run_id, customizations)
    model = services.model(ctx.semantic_model)
    customized = prepare(template, customizations, model)
    if services.runs.get(run_id) is not None:
        raise InvalidValueError(
            "run_id", run_id, "a new id; this run exists already (resume it with resume_run)"
        )
    services.runs.create(
        run_id, customized.name, customized.model_dump(mode="json"), context_to_dict(ctx)
    )
    return run_id


def execute_run(
    services: Services,
    run_id: str,
    *,
    progress: Progress | None = None,
    route: Route | None = None,
    claimed: bool = False,
) -> WorkflowResult:
    """Run a created run to the end (the API's execute; run_workflow is create + execute).
    ``claimed``: the caller already moved it from created to running (see RunStore.claim)."""
    record = services.runs.get(run_id)
    if record is None:
        raise UnknownRunError(f"No run {run_id!r} is recorded under {services.home}.")
    if not claimed and not services.runs.claim(run_id):
        raise RunStateError(
            f"Run {run_id} is {record['status']}; only a created run can be executed."
        )
    ctx = context_from_dict(record["context"])
    model = services.model(ctx.semantic_model)
    template = Template.model_validate(record["template"])
    initial = {"run_id": run_id, "started_at": time.time()}
    return _execute(services, template, model, ctx, run_id, initial, progress, route)


def resume_run(services: Services, run_id: str, progress: Progress | None = None) -> WorkflowResult:
    """Continue a run that was interrupted (process killed): finished steps are not redone."""
    record = services.runs.get(run_id)
    if record is None:
        raise UnknownRunError(f"No run {run_id!r} is recorded under {services.home}.")
    if record["result"] is not None:
        return WorkflowResult.model_validate(record["result"])
    ctx = context_from_dict(record["context"])
    model = services.model(ctx.semantic_model)
    template = Template.model_validate(record["template"])
    authorize_workflow(services, ctx, template.name, run_id, None, action="workflow.resume")
    return _execute(services, template, model, ctx, run_id, None, progress, None)


def authorize_workflow(
    services: Services,
    ctx: Context,
    template: str,
    run_id: str,
    customizations: Any,
    *,
    action: str = "workflow.run",
) -> None:
    """The guard's word on running ``template`` (each component of a composite) as ``ctx``;
    its steps are each checked again when they run."""
    for name in component_names(str(template)[:255]):
        services.guard.authorize(
            ctx,
            "run",
            workflow_resources(name),
            action=action,
            tool=None,
            params={"template": name, "customizations": customizations},
            run_id=run_id,
        )


def cancel_run(services: Services, run_id: str) -> bool:
    """Stop a run: a running one skips its pending steps and has its queries interrupted; one
    not started yet is marked cancelled and will not start. False when it had already ended
    (or is running in another process)."""
    if services.runs.cancel_if_created(run_id):
        return True
    record = services.runs.get(run_id)
    # A run that is running, or claimed and waiting for a worker, finds the flag set when it
    # starts (the control is created here if it has not started yet).
    running = record is not None and record["status"] == "running"
    threads = services.controls.cancel(run_id, create=running)
    if threads is None:
        return False
    services.warehouses.interrupt(threads)
    return True


def _execute(
    services: Services,
    template: Template,
    model: SemanticModel,
    ctx: Context,
    run_id: str,
    initial: dict[str, Any] | None,
    progress: Progress | None,
    route: Route | None,
) -> WorkflowResult:
    config: dict[str, Any] = {"configurable": {"thread_id": run_id}}
    services.controls.get(run_id)
    store = services.runs
    store.set_status(run_id, "running")
    total = len(template.steps)
    finished = 0
    final: dict[str, Any] = {}
    try:
        graph = compiled_graph(services, template, model, durable=True)
        for mode, chunk in graph.stream(
            initial, config, context=ctx, stream_mode=["custom", "values"]
        ):
            if mode == "values":
                final = chunk
            elif progress is not None and isinstance(chunk, dict):
                if chunk.get("event") in ("step_finished", "step_skipped"):
                    finished += 1
                progress(
                    {
                        **chunk,
                        "run_id": run_id,
                        "steps_done": finished,
                        "steps_total": total,
                        "percent": round(100 * finished / total, 1),
                    }
                )
        result = WorkflowResult.model_validate(final["result"])
        result = result.model_copy(
            update={
                "route": route
                or Route(
                    workflow=template.name, confidence=1.0, reason="Template requested explicitly."
                )
            }
        )
        store.set_status(run_id, result.status, result.model_dump(mode="json"))
        services.metrics.record_run(
            template=template.name,
            run_id=run_id,
            duration_ms=result.metrics.duration_ms,
            status=result.status,
        )
        return result
    except BaseException:
        store.set_status(run_id, "interrupted")
        raise
    finally:
        services.controls.forget(run_id)
