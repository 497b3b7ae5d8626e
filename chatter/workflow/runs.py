"""Running workflows: build and cache graphs, run them durably (checkpoints), stream progress,
resume an interrupted run, cancel a running one (from any process)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic_core import PydanticSerializationError

from chatter.context import Context, context_from_dict, context_to_dict
from chatter.errors import ChatterError, InvalidValueError, RunStateError, UnknownRunError
from chatter.governance.guard import ToolCallRecord, recording_calls
from chatter.governance.permissions import workflow_resources
from chatter.logs import get_logger
from chatter.result import Route, WorkflowResult
from chatter.run_control import ServerStopping
from chatter.semantic.cache import tracking_hits
from chatter.semantic.model import SemanticModel
from chatter.services import Services
from chatter.stores.runs import ENDED
from chatter.version import __version__
from chatter.workflow.compiler import build_state_graph
from chatter.workflow.composite import component_names
from chatter.workflow.run_memo import keep, memo_for, replay, worth_keeping
from chatter.workflow.run_owner import is_orphan, keep_alive, process_owner
from chatter.workflow.template import Template, customize, get_template, validate

log = get_logger(__name__)
#: Why a run whose server stopped ended without a result.
STOPPED = "interrupted by a server stop"
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
    waited_since: float | None = None,
) -> WorkflowResult:
    """Run a template to the end as ``context`` and return its result (CONTRACT.md
    section 3). ``waited_since``: when the caller started waiting (``time.time()``; default
    now), for ``metrics.setup_ms``."""
    called = time.time() if waited_since is None else waited_since
    with services.guard.audit_batch():  # the run's allowed entries: one commit, before return
        run_id = create_run(services, template, customizations, context or Context(), run_id=run_id)
        result = execute_run(services, run_id, progress=progress, route=route)
    return with_setup_time(result, called)


def with_setup_time(result: WorkflowResult, waited_since: float) -> WorkflowResult:
    """``result`` with ``metrics.setup_ms``: the caller's wait since ``waited_since`` beyond
    the run's own ``duration_ms``."""
    waited = (time.time() - waited_since) * 1000
    setup = round(max(waited - result.metrics.duration_ms, 0.0), 3)
    return result.model_copy(
        update={"metrics": result.metrics.model_copy(update={"setup_ms": setup})}
    )


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
    as_ctx: Context | None = None,
) -> WorkflowResult:
    """Run a created run to the end (the API's execute; run_workflow is create + execute).
    ``claimed``: the caller already queued it (RunStore.claim with background=True).
    ``as_ctx``: who runs it now (their current role): checked again here, and used for every
    step instead of the context the run was created with."""
    record = services.runs.get(run_id)
    if record is None:
        raise UnknownRunError(f"No run {run_id!r} is recorded under {services.home}.")
    ctx = as_ctx or context_from_dict(record["context"])
    template = Template.model_validate(record["template"])
    if as_ctx is not None and not claimed:  # a claimed run was checked by who queued it
        authorize_workflow(services, ctx, template.name, run_id, None, action="workflow.execute")
    owner = process_owner()
    if claimed:
        if not services.runs.start(run_id, owner):
            raise RunStateError(f"Run {run_id} was cancelled before it started.")
    elif not services.runs.claim(run_id, owner):
        raise RunStateError(
            f"Run {run_id} is {record['status']}; only a created run can be executed."
        )
    model = services.model(ctx.semantic_model)
    initial = {"run_id": run_id, "started_at": time.time()}
    return _execute(services, template, model, ctx, run_id, initial, progress, route)


def resume_run(
    services: Services,
    run_id: str,
    progress: Progress | None = None,
    *,
    as_ctx: Context | None = None,
    held: bool = False,
) -> WorkflowResult:
    """Continue a run that was interrupted (its process killed or stopped): finished steps are
    not redone; a run that never started starts from the beginning. A run held by a live
    process is not touched. ``held``: this process took the run over already (recovery)."""
    record = services.runs.get(run_id)
    if record is None:
        raise UnknownRunError(f"No run {run_id!r} is recorded under {services.home}.")
    if record["result"] is not None:
        return WorkflowResult.model_validate(record["result"])
    if record["status"] in ENDED:
        raise RunStateError(
            f"Run {run_id} ended {record['status']} ({record['reason'] or 'no result'}); "
            "it cannot be resumed."
        )
    owner = process_owner()
    if not held:
        if record["status"] == "created":
            raise RunStateError(f"Run {run_id} has not started; execute it instead.")
        if not is_orphan(record) or not services.runs.take_over(run_id, record["owner"], owner):
            raise RunStateError(f"Run {run_id} is {record['status']} in another process.")
    ctx = as_ctx or context_from_dict(record["context"])
    model = services.model(ctx.semantic_model)
    template = Template.model_validate(record["template"])
    if not held:  # recovery checked it already, as the user's current role
        authorize_workflow(services, ctx, template.name, run_id, None, action="workflow.resume")
    if not services.runs.start(run_id, owner):
        raise RunStateError(f"Run {run_id} was cancelled.")
    graph = compiled_graph(services, template, model, durable=True)
    started = graph.get_state({"configurable": {"thread_id": run_id}})
    initial = None if started.values else {"run_id": run_id, "started_at": time.time()}
    return _execute(services, template, model, ctx, run_id, initial, progress, None)


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
    """Stop a run; it ends ``cancelled``. One not started yet ends so at once; one running
    here skips its pending steps and has its queries interrupted; one running in another
    process is flagged for it (its heartbeat picks the flag up); one whose process is gone is
    ended here. False when it had already ended."""
    prior = services.runs.request_cancel(run_id)
    if prior is None:
        return False
    if prior != "running":
        return True
    threads = services.controls.cancel(run_id)
    if threads is not None:
        services.warehouses.interrupt(threads)
        return True
    record = services.runs.get(run_id)
    if (
        record is not None
        and record["status"] == "running"
        and is_orphan(record)
        and services.runs.take_over(run_id, record["owner"], process_owner())
    ):
        services.runs.set_status(
            run_id, "cancelled", reason="cancelled after its server had stopped"
        )
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
    """Stream the graph of a run this process holds (status running) to its end."""
    config: dict[str, Any] = {"configurable": {"thread_id": run_id}}
    control = services.controls.get(run_id)
    keep_alive(services)
    store = services.runs
    record = store.get(run_id) or {}
    if record.get("cancel_requested"):  # asked between the claim and now
        control.cancelled.set()
    total = len(template.steps)
    finished = 0
    final: dict[str, Any] = {}
    # A run starting afresh may be the repeat of one kept whole (chatter.workflow.run_memo).
    memo = memo_for(services, template, ctx) if initial is not None else None
    calls: list[ToolCallRecord] = []
    hits: list[float] = []
    try:
        graph = compiled_graph(services, template, model, durable=True)
        with services.guard.audit_batch() as audit:  # the steps' entries: before the result
            replayed = None
            if memo is not None and not control.cancelled.is_set():
                replayed = replay(services, memo, ctx, run_id, progress)
            if replayed is None:
                with recording_calls() as calls, tracking_hits() as hits:
                    # "sync": each super-step's checkpoint is saved before the next starts,
                    # so a process killed in a step never loses the steps before it (with
                    # LangGraph's default, "async", a kill right after a step could).
                    for mode, chunk in graph.stream(
                        initial,
                        config,
                        context=ctx,
                        stream_mode=["custom", "values"],
                        durability="sync",
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
            # Committed before the run is recorded as ended (an outer batch, as run_workflow
            # opens, would commit after): a run whose audit could not be written fails.
            audit.flush()
        if replayed is not None:
            result = replayed
        else:
            if "result" not in final:  # it had finished before a crash: nothing to stream
                final = graph.get_state(config).values
            result = WorkflowResult.model_validate(final["result"])
        update: dict[str, Any] = {
            "route": route
            or Route(
                workflow=template.name, confidence=1.0, reason="Template requested explicitly."
            )
        }
        after = store.get(run_id) or {}
        if after.get("cancel_requested") or control.cancelled.is_set():
            update["status"] = "cancelled"  # a cancel asked for is a cancel, even a late one
        result = result.model_copy(update=update)
        if memo is not None and replayed is None and worth_keeping(template, result):
            keep(memo, result, calls, hits)
        store.set_status(run_id, result.status, _as_json(result))
        services.metrics.record_run(
            template=template.name,
            run_id=run_id,
            duration_ms=result.metrics.duration_ms,
            status=result.status,
        )
        return result
    except ServerStopping:
        if record.get("background"):  # left for the next server to resume
            store.release(run_id, process_owner())
            raise
        # Someone was waiting on it and will not read it now: it ends here.
        store.set_status(run_id, "failed", reason=STOPPED)
        raise RunStateError(f"Run {run_id} was {STOPPED}; ask again.") from None
    except KeyboardInterrupt:
        store.release(run_id, process_owner())  # resumable: `resume_run` continues it
        raise
    except BaseException as err:
        store.set_status(run_id, "failed", reason=_reason(err))
        raise
    finally:
        services.controls.forget(run_id)


def _reason(err: BaseException) -> str:
    message = err.message if isinstance(err, ChatterError) else str(err)
    return f"{type(err).__name__}: {message}"[:500]


def _as_json(result: WorkflowResult) -> str:
    """The run's document as JSON text: pydantic's writer (fast), or the standard library's
    where pydantic refuses a string (a lone surrogate, which json escapes)."""
    try:
        return result.model_dump_json()
    except PydanticSerializationError:
        return json.dumps(result.model_dump(mode="json"))
