"""Follow-ups the analyst offers after an answer: structural edits of the query it answered
("now by industry", "only fintech", "top 5"), or the breakdowns behind a workflow's
significant findings. Built from the model and the rows, never from canned sentences."""

from __future__ import annotations

from typing import Any

from chatter.result import WorkflowResult
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import SemanticQuery


def query_follow_ups(
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


def workflow_follow_ups(result: WorkflowResult, model: SemanticModel) -> list[str]:
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
