"""Running workflows: build and cache graphs, run them durably (SQLite checkpoints), stream
progress, resume an interrupted run, cancel a running one."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver

from chatter import __version__
from chatter.context import Context, context_from_dict, context_to_dict, resolve_model
from chatter.errors import InvalidValueError, RunStateError, UnknownRunError
from chatter.governance.metrics import metrics
from chatter.logs import get_logger
from chatter.result import Route, WorkflowResult
from chatter.semantic.model import SemanticModel
from chatter.settings import get_settings
from chatter.stores.runs import RunStore
from chatter.workflow import resources
from chatter.workflow.compiler import build_state_graph
from chatter.workflow.composite import component_names
from chatter.workflow.graph_cache import GraphCache
from chatter.workflow.template import Template, customize, get_template

log = get_logger(__name__)
Progress = Callable[[dict[str, Any]], None]

_cache: GraphCache | None = None
_savers: dict[str, SqliteSaver] = {}
_stores: dict[str, RunStore] = {}
_lock = threading.Lock()


def graph_cache() -> GraphCache:
    global _cache
    if _cache is None:
        _cache = GraphCache(size=get_settings().graph_cache_size)
    return _cache


def _checkpointer() -> SqliteSaver:
    path = str(get_settings().home / "checkpoints.sqlite")
    with _lock:
        if path not in _savers:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(path, check_same_thread=False)
            # As in the run store: durable across a killed process, no fsync per checkpoint.
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            _savers[path] = SqliteSaver(con)
        return _savers[path]


def run_store() -> RunStore:
    path = str(get_settings().home / "runs.sqlite")
    with _lock:
        if path not in _stores:
            _stores[path] = RunStore(Path(path))
        return _stores[path]


def prepare(
    template: str | Template, customizations: Mapping[str, Any] | None, model: SemanticModel
) -> Template:
    """The customized template, validated (names, tools, parameters) against ``model``."""
    base = get_template(template) if isinstance(template, str) else template
    customized = customize(base, customizations)
    from chatter.workflow.template import validate

    validate(customized, model)
    return customized


def compiled_graph(template: Template, model: SemanticModel, *, durable: bool = False) -> Any:
    """The compiled graph of a (customized) template, from the graph cache."""
    key = (template.name, template.content_hash, model.content_hash, __version__, durable)

    def compile_graph() -> Any:
        builder = build_state_graph(template, model)
        return builder.compile(
            checkpointer=_checkpointer() if durable else None, name=template.name
        )

    return graph_cache().get(key, compile_graph)


def build_graph(
    template: str | Template,
    customizations: Mapping[str, Any] | None = None,
    *,
    semantic_model: Path | None = None,
) -> Any:
    """The compiled graph for ``invoke``/``stream`` (context: a chatter Context)."""
    model = resolve_model(semantic_model, get_settings())
    return compiled_graph(prepare(template, customizations, model), model)


def run_workflow(
    template: str | Template,
    customizations: Mapping[str, Any] | None = None,
    *,
    user: str = "local",
    role: str = "analyst",
    database: Path | None = None,
    semantic_model: Path | None = None,
    use_cache: bool = True,
    run_id: str | None = None,
    progress: Progress | None = None,
    route: Route | None = None,
    context: Context | None = None,
) -> WorkflowResult:
    """Run a template to the end and return its result (CONTRACT.md section 3). ``context``,
    when given, replaces user, role, database, semantic_model and use_cache (it also carries
    tenant, data scope and attributes)."""
    ctx = context or Context(
        user=user, role=role, database=database, semantic_model=semantic_model, use_cache=use_cache
    )
    run_id = create_run(template, customizations, ctx, run_id=run_id)
    return execute_run(run_id, progress=progress, route=route)


def create_run(
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
    authorize_workflow(ctx, name, run_id, customizations)
    model = resolve_model(ctx.semantic_model, get_settings())
    customized = prepare(template, customizations, model)
    if run_store().get(run_id) is not None:
        raise InvalidValueError(
            "run_id", run_id, "a new id; this run exists already (resume it with resume_run)"
        )
    run_store().create(
        run_id, customized.name, customized.model_dump(mode="json"), context_to_dict(ctx)
    )
    return run_id


def execute_run(
    run_id: str,
    *,
    progress: Progress | None = None,
    route: Route | None = None,
    claimed: bool = False,
) -> WorkflowResult:
    """Run a created run to the end (the API's execute; run_workflow is create + execute).
    ``claimed``: the caller already moved it from created to running (see RunStore.claim)."""
    record = run_store().get(run_id)
    if record is None:
        raise UnknownRunError(f"No run {run_id!r} is recorded under {get_settings().home}.")
    if not claimed and not run_store().claim(run_id):
        raise RunStateError(
            f"Run {run_id} is {record['status']}; only a created run can be executed."
        )
    ctx = context_from_dict(record["context"])
    model = resolve_model(ctx.semantic_model, get_settings())
    template = Template.model_validate(record["template"])
    initial = {"run_id": run_id, "started_at": time.time()}
    return _execute(template, model, ctx, run_id, initial, progress, route)


def resume_run(run_id: str, progress: Progress | None = None) -> WorkflowResult:
    """Continue a run that was interrupted (process killed): finished steps are not redone."""
    record = run_store().get(run_id)
    if record is None:
        raise UnknownRunError(f"No run {run_id!r} is recorded under {get_settings().home}.")
    if record["result"] is not None:
        return WorkflowResult.model_validate(record["result"])
    ctx = context_from_dict(record["context"])
    model = resolve_model(ctx.semantic_model, get_settings())
    template = Template.model_validate(record["template"])
    authorize_workflow(ctx, template.name, run_id, None, action="workflow.resume")
    return _execute(template, model, ctx, run_id, None, progress, None)


def authorize_workflow(
    ctx: Context,
    template: str,
    run_id: str,
    customizations: Any,
    *,
    action: str = "workflow.run",
) -> None:
    """The guard's word on running ``template`` (each component of a composite) as ``ctx``;
    its steps are each checked again when they run."""
    from chatter.governance.guard import authorize
    from chatter.governance.permissions import workflow_resources

    for name in component_names(str(template)[:255]):
        authorize(
            ctx,
            "run",
            workflow_resources(name),
            action=action,
            tool=None,
            params={"template": name, "customizations": customizations},
            run_id=run_id,
        )


def cancel_run(run_id: str) -> bool:
    """Stop a run: a running one skips its pending steps and has its queries interrupted; one
    not started yet is marked cancelled and will not start. False when it had already ended
    (or is running in another process)."""
    if run_store().cancel_if_created(run_id):
        return True
    record = run_store().get(run_id)
    # A run that is running, or claimed and waiting for a worker, finds the flag set when it
    # starts (the control is created here if it has not started yet).
    running = record is not None and record["status"] == "running"
    return resources.cancel(run_id, create=running)


def _execute(
    template: Template,
    model: SemanticModel,
    ctx: Context,
    run_id: str,
    initial: dict[str, Any] | None,
    progress: Progress | None,
    route: Route | None,
) -> WorkflowResult:
    graph = compiled_graph(template, model, durable=True)
    config: dict[str, Any] = {"configurable": {"thread_id": run_id}}
    resources.control(run_id)
    store = run_store()
    store.set_status(run_id, "running")
    total = len(template.steps)
    finished = 0
    final: dict[str, Any] = {}
    try:
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
        metrics().record_run(
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
        resources.forget(run_id)
