"""Answering a routed question: run the one query or the workflow it was routed to, and say
what it found, with the result attached and follow-ups to try. The analyst graph's respond
node is its one caller."""

from __future__ import annotations

import time
import uuid
from typing import Any

from chatter.analyst.decision import RouteDecision
from chatter.analyst.interpretation import interpretation_of
from chatter.analyst.lead import empty_window_sentence, top_sentence
from chatter.analyst.progress import Progress, query_failed, query_finished, query_started
from chatter.analyst.suggestions import query_follow_ups, workflow_follow_ups
from chatter.charts import chart_spec
from chatter.context import Context
from chatter.errors import ChatterError
from chatter.number_text import cell_text
from chatter.result import Answer, Interpretation, Route, RunMetrics, StepResult, WorkflowResult
from chatter.semantic.query import SemanticQuery
from chatter.services import Services
from chatter.tools.query import run_query_step
from chatter.workflow.composite import compose
from chatter.workflow.runs import run_workflow

MAX_TABLE_ROWS = 10


def answer(
    services: Services,
    decision: RouteDecision,
    ctx: Context,
    *,
    progress: Progress | None = None,
    interpretation: Interpretation | None = None,
) -> Answer:
    """Run what ``decision`` chose (a clarification never gets here: the graph asks back),
    carrying what the question was understood to ask."""
    database = str(services.database(ctx))
    if interpretation is None:
        interpretation = interpretation_of(decision)
    if decision.route.workflow == "query" and decision.query is not None:
        return _answer_query(services, decision, ctx, database, interpretation, progress)
    template: Any = decision.route.workflow
    customizations = decision.customizations
    if isinstance(customizations, dict) and "composite" in customizations:
        template, customizations = compose(customizations["composite"]), None
    result = run_workflow(
        services, template, customizations, context=ctx, progress=progress, route=decision.route
    )
    model = services.model(ctx.semantic_model)
    return Answer(
        **dict(result),
        text=_workflow_text(result),
        suggestions=workflow_follow_ups(result, model),
        database=database,
        interpretation=interpretation,
    )


def query_result(
    services: Services,
    ctx: Context,
    query: SemanticQuery | dict[str, Any],
    route: Route,
    progress: Progress | None = None,
) -> WorkflowResult:
    """One semantic query as a run's document: through the guard (which sees the query as
    asked, before it is parsed, so a secret in it is refused before any message could echo
    it), with the chart its rows call for. ``progress`` hears it start (once the guard let it)
    and finish."""
    params = query.model_dump(mode="json") if isinstance(query, SemanticQuery) else query
    warehouse = services.warehouse(ctx)
    started = time.perf_counter()
    run_id = uuid.uuid4().hex

    def run() -> StepResult:
        if progress is None:
            return run_query_step(warehouse, query)
        progress(query_started(run_id, params))
        try:
            step = run_query_step(warehouse, query)
        except Exception as err:  # said on the stream too; the answer's error follows
            progress(query_failed(run_id, _why(err)))
            raise
        progress(query_finished(run_id, step))
        return step

    step = services.guard.call(
        ctx,
        tool="query",
        step_type="query",
        params=params,
        func=run,
        run_id=run_id,
        step_id="query",
        cached=lambda s: s.cached,
    )
    step = step.model_copy(update={"chart": chart_spec(step, title=route.reason)})
    return WorkflowResult(
        workflow="query",
        run_id=run_id,
        status="completed",
        steps=[step],
        route=route,
        metrics=RunMetrics(
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            cache_hits=int(step.cached),
        ),
    )


def _why(err: Exception) -> str:
    # A chatter error's message is written for the user; anything else is named, not quoted.
    return err.message if isinstance(err, ChatterError) else type(err).__name__


def _answer_query(
    services: Services,
    decision: RouteDecision,
    ctx: Context,
    database: str,
    interpretation: Interpretation,
    progress: Progress | None,
) -> Answer:
    assert decision.query is not None
    query = decision.query
    result = query_result(services, ctx, query, decision.route, progress)
    step = result.steps[0]
    warehouse = services.warehouse(ctx)
    lead = None
    if step.status == "completed":
        lead = empty_window_sentence(warehouse, step, query, interpretation)
        if lead is not None:  # no rows: an aggregate over nothing is no answer (NULL or 0)
            step = step.model_copy(update={"rows": [], "chart": None})
        elif interpretation.names_top:
            lead = top_sentence(step, query, warehouse.model)
    if lead:
        step = step.model_copy(update={"notes": [*step.notes, lead]})
    return Answer(
        **{**dict(result), "steps": [step]},
        text="\n\n".join(t for t in (lead, _table_text(step)) if t),
        query=query.model_dump(mode="json"),
        suggestions=query_follow_ups(warehouse.model, query, step.rows),
        database=database,
        interpretation=interpretation,
    )


def _table_text(step: StepResult) -> str:
    """The rows as a small Markdown table (the full result travels with the message)."""
    columns, rows = step.columns, step.rows
    if not rows:
        return "No rows matched."
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [
        "| " + " | ".join(cell_text(r.get(c)) for c in columns) + " |"
        for r in rows[:MAX_TABLE_ROWS]
    ]
    more = len(rows) - MAX_TABLE_ROWS
    if more > 0:
        lines.append(f"... and {more:,} more row(s).")
    if step.truncated:
        lines.append("(The result was cut at the row cap.)")
    return "\n".join(lines)


def _workflow_text(result: WorkflowResult) -> str:
    done = sum(s.status == "completed" for s in result.steps)
    tested = [f for f in result.findings if f.testable and not f.descriptive]
    head = (
        f"{result.workflow}: {result.status} ({done} of {len(result.steps)} steps, "
        f"{sum(f.significant for f in tested)} of {len(tested)} tests significant)."
    )
    return "\n".join([head, *(f"- {i.text}" for i in result.insights)])
