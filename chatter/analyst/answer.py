"""Answering a routed question: run the query or the workflow, and say what it found in a
message with the result attached and follow-ups to try. Shared by `chatter ask`, the analyst
graph and the chat API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from chatter.analyst.route import RouteDecision
from chatter.context import Context
from chatter.governance.guard import guarded_call
from chatter.result import Insight, RunMetrics, WorkflowResult
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import SemanticQuery
from chatter.tools.query import run_query_step

Progress = Callable[[dict[str, Any]], None]
MAX_TABLE_ROWS = 10


class Answer(BaseModel):
    """What the analyst says, the result it stands on, and what to ask next."""

    text: str
    result: WorkflowResult
    query: dict[str, Any] | None = None  # the SemanticQuery answered, for follow-ups
    suggestions: list[str] = Field(default_factory=list)
    clarification: bool = False
    options: list[str] = Field(default_factory=list)
    #: Set when the guard refused the question: ``{"code", "message"}``, and no result.
    error: dict[str, Any] | None = None


def answer(decision: RouteDecision, ctx: Context, *, progress: Progress | None = None) -> Answer:
    """Run what ``decision`` chose (or ask back when it is unsure)."""
    if decision.needs_clarification:
        return _clarify(decision)
    if decision.route.workflow == "query" and decision.query is not None:
        return _answer_query(decision, ctx)
    from chatter.workflow.runs import run_workflow

    template: Any = decision.route.workflow
    if isinstance(decision.customizations, dict) and "composite" in decision.customizations:
        from chatter.workflow.composite import compose

        template = compose(decision.customizations["composite"])
        customizations = None
    else:
        customizations = decision.customizations
    result = run_workflow(
        template,
        customizations,
        progress=progress,
        route=decision.route,
        context=ctx,
    )
    from chatter.context import resolve_model
    from chatter.settings import get_settings

    model = resolve_model(ctx.semantic_model, get_settings())
    return Answer(
        text=_workflow_text(result), result=result, suggestions=_workflow_suggestions(result, model)
    )


def _clarify(decision: RouteDecision) -> Answer:
    text = decision.clarification or ""
    result = WorkflowResult(
        workflow="clarify",
        run_id=uuid.uuid4().hex,
        status="completed",
        insights=[Insight(text=text)],
        route=decision.route,
    )
    return Answer(text=text, result=result, clarification=True, options=decision.options)


def _answer_query(decision: RouteDecision, ctx: Context) -> Answer:
    from chatter.workflow.charts import chart_spec
    from chatter.workflow.resources import warehouse_for

    assert decision.query is not None
    query = decision.query
    warehouse = warehouse_for(ctx)
    started = time.perf_counter()
    run_id = uuid.uuid4().hex
    step = guarded_call(
        ctx,
        tool="query",
        step_type="query",
        params=query.model_dump(mode="json"),
        func=lambda: run_query_step(warehouse, query),
        run_id=run_id,
        step_id="query",
        cached=lambda s: s.cached,
    )
    step = step.model_copy(update={"chart": chart_spec(step, title=decision.route.reason)})
    result = WorkflowResult(
        workflow="query",
        run_id=run_id,
        status="completed",
        steps=[step],
        route=decision.route,
        metrics=RunMetrics(
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            cache_hits=int(step.cached),
        ),
    )
    text = _table_text(step.columns, step.rows, step.truncated)
    return Answer(
        text=text,
        result=result,
        query=decision.query.model_dump(mode="json"),
        suggestions=suggest_follow_ups(warehouse.model, decision.query, step.rows),
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def _table_text(columns: list[str], rows: list[dict[str, Any]], truncated: bool) -> str:
    """The rows as a small Markdown table (the full result travels with the message)."""
    if not rows:
        return "No rows matched."
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [
        "| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |" for r in rows[:MAX_TABLE_ROWS]
    ]
    more = len(rows) - MAX_TABLE_ROWS
    if more > 0:
        lines.append(f"... and {more:,} more row(s).")
    if truncated:
        lines.append("(The result was cut at the row cap.)")
    return "\n".join(lines)


def _workflow_text(result: WorkflowResult) -> str:
    done = sum(s.status == "completed" for s in result.steps)
    tested = [f for f in result.findings if f.testable]
    head = (
        f"{result.workflow}: {result.status} ({done} of {len(result.steps)} steps, "
        f"{sum(f.significant for f in tested)} of {len(tested)} tests significant)."
    )
    return "\n".join([head, *(f"- {i.text}" for i in result.insights)])


def suggest_follow_ups(
    model: SemanticModel, query: SemanticQuery, rows: list[dict[str, Any]]
) -> list[str]:
    """A few follow-ups the analyst can take structurally, built from the model and the rows."""
    out: list[str] = []
    used = {d.split(".")[-1].split("__")[0] for d in query.dimensions}
    table = model.measure(query.measures[0]).table if query.measures else None
    if table is not None:
        others = [
            d
            for d in model.tables[table].dimensions.values()
            if d.name not in used and d.type == "string"
        ]
        if others:
            out.append(f"now by {others[0].name.replace('_', ' ')}")
    for d in query.dimensions:
        name = d.split(".")[-1]
        values = [r.get(name) for r in rows if isinstance(r.get(name), str)]
        if values:
            out.append(f"only {values[0]}")
            break
    if query.limit is None and len(rows) > 5:
        out.append("top 5")
    if table is not None:
        siblings = [
            m
            for m in model.tables[table].measures.values()
            if m.agg == "ratio" and m.name not in query.measures
        ]
        if siblings:
            out.append(f"same for {siblings[0].name.replace('_', ' ')}")
    return out[:4]


def _workflow_suggestions(result: WorkflowResult, model: SemanticModel) -> list[str]:
    """Breakdowns behind the significant findings, as queries the analyst can answer."""
    measures, dimensions = set(model.measure_names()), set(model.dimension_names())
    pairs = [
        (f.metric, f.dimension.split("__")[0])
        for f in result.findings
        if f.significant
        and f.dimension
        and f.metric in measures
        and f.dimension.split("__")[0] in dimensions
    ]
    return [f"{m.replace('_', ' ')} by {d.replace('_', ' ')}" for m, d in dict.fromkeys(pairs)][:3]
