"""A repeat of a run whose every data step was a cache hit, answered without redoing it.

A run with all its data steps read from the result cache still recomputes its tests and
insights and walks the graph: 15-20 ms of CPU for a result that is the same, bit for bit, as
long as nothing that decides it changed. Such a run's result is kept beside the query results,
keyed by everything that decides it (the customized template, the semantic model, the database
and its data version, the data scope, the snapshot day, the settings, chatter's version), with
the tool calls its steps made. A repeat then replays it: each call is let through the guard
again (the same permission check, rate limit and audit row as when it ran, as the caller is
now) and the stored result is returned under the new run's id, with its own duration.

Only a completed run is kept, and only one whose data steps were all cache hits, so a replay
is the very document a cached run gives (its steps say ``cached`` as that run's did). Nothing
is kept or replayed with an LLM configured (its rewording is not a function of the data), or
with the result cache off. A replay that a permission or a rate limit would refuse is not
tried (both checked first, without a side effect): the run goes the usual way, where that
refusal fails its step. (Another request taking the last slots of a limit between that check
and the replay's calls makes the replay give up part way; the calls it had admitted then count
once more.) A kept run lives no longer than the first of the cached query results it was built
from, and its key holds a fingerprint of the code, so a new version never replays an old one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chatter.context import Context
from chatter.errors import ChatterError
from chatter.governance.guard import ToolCallRecord
from chatter.logs import get_logger
from chatter.result import StepResult, WorkflowResult
from chatter.semantic.cache import ResultCache
from chatter.services import Services
from chatter.tools.registry import get_tool
from chatter.version import __version__
from chatter.workflow.template import Template

log = get_logger(__name__)
#: What a kept run looks like; bumped when it changes, so an old one is never read as new.
MEMO_FORMAT = 1
Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class RunMemo:
    """Where a template's result for this caller's data would be kept."""

    cache: ResultCache
    key: str


@dataclass(frozen=True)
class _Kept:
    result: dict[str, Any]  # the WorkflowResult's JSON
    calls: tuple[ToolCallRecord, ...]


def memo_for(services: Services, template: Template, ctx: Context) -> RunMemo | None:
    """The memo slot of ``template`` run as ``ctx``, or None when runs are not memoized
    (result cache off, an LLM configured)."""
    if not ctx.use_cache or services.llm is not None:
        return None
    warehouse = services.warehouse(ctx)
    if warehouse.cache is None:
        return None
    settings = hashlib.sha256(services.settings.model_dump_json().encode()).hexdigest()
    key = warehouse.memo_key(
        f"run:{MEMO_FORMAT}:{template.content_hash}:{__version__}", {"settings": settings}
    )
    return RunMemo(warehouse.cache, key)


def worth_keeping(template: Template, result: WorkflowResult) -> bool:
    """A completed run whose data steps were all cache hits: its repeat is this document."""
    if result.status != "completed":
        return False
    for step in result.steps:
        reads_data = step.status == "completed" and get_tool(step.tool or "").reads == "data"
        if reads_data and not step.cached:
            return False
    return len(result.steps) == len(template.steps)


def keep(
    memo: RunMemo, result: WorkflowResult, calls: list[ToolCallRecord], hits: list[float]
) -> None:
    """Keep ``result`` with the calls that made it, until the first of the cached entries it
    was built from (``hits``: when each expires) would have expired: a replay is never older
    than the cache lets a query result be."""
    kept = _Kept(result.model_dump(mode="json"), tuple(calls))
    memo.cache.set(memo.key, kept, expires_at=min(hits, default=None))


def replay(
    services: Services,
    memo: RunMemo,
    ctx: Context,
    run_id: str,
    progress: Progress | None,
) -> WorkflowResult | None:
    """The kept result under ``run_id``, its calls let through the guard again; None when
    nothing is kept or the guard refuses one of them (the run then goes the usual way)."""
    started = time.perf_counter()
    try:  # a kept run that cannot be read (another shape, a damaged entry) is no kept run
        kept = memo.cache.get(memo.key)
        if not isinstance(kept, _Kept):
            return None
        result = WorkflowResult.model_validate(kept.result)
    except Exception:
        log.warning("kept_run_unreadable", run_id=run_id, exc_info=True)
        return None
    if not services.guard.would_readmit(ctx, kept.calls):
        return None  # the usual way fails the step it refuses, audited once
    by_step = {s.id: s for s in result.steps}
    try:
        for call in kept.calls:
            step = by_step.get(call.step_id or "")
            services.guard.readmit(
                ctx, call, run_id=run_id, cached=bool(step is not None and step.cached)
            )
    except ChatterError as err:
        log.info("run_replay_refused", run_id=run_id, code=err.code)
        return None
    total = len(result.steps)
    if progress is not None:
        for done, step in enumerate(result.steps, start=1):
            _replayed_events(progress, step, run_id, done, total)
    spent = round((time.perf_counter() - started) * 1000, 3)
    share = round(spent / max(total, 1), 3)
    steps = [s.model_copy(update={"duration_ms": share}) for s in result.steps]
    metrics = result.metrics.model_copy(update={"duration_ms": spent, "setup_ms": None})
    return result.model_copy(update={"run_id": run_id, "steps": steps, "metrics": metrics})


def _replayed_events(
    progress: Progress, step: StepResult, run_id: str, done: int, total: int
) -> None:
    """The events a streamed run gives for ``step``, in its order."""
    counts = {"run_id": run_id, "steps_total": total}
    events: list[dict[str, Any]]
    if step.status == "skipped":
        events = [{"event": "step_skipped", "step": step.id, "reason": step.error}]
    else:
        events = [
            {"event": "step_started", "step": step.id, "type": step.type},
            {
                "event": "step_finished",
                "step": step.id,
                "status": step.status,
                "duration_ms": 0.0,
                "error": step.error,
            },
        ]
    for event in events:
        finished = done if event["event"] != "step_started" else done - 1
        progress(
            {
                **event,
                **counts,
                "steps_done": finished,
                "percent": round(100 * finished / total, 1),
                "replayed": True,
            }
        )
