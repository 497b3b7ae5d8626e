"""The query tool: run one semantic query and report it as a step result with its chart."""

from __future__ import annotations

import time
from typing import Any

from chatter.charts import chart_spec
from chatter.result import StepResult
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.clean_rows import RowCleaner
from chatter.tools.protocol import ToolCall, ToolOutput


def run_query_step(
    warehouse: Warehouse, query: SemanticQuery | dict[str, Any], step_id: str = "query"
) -> StepResult:
    """Run ``query``; bad input raises (nothing ran), a completed query becomes a StepResult."""
    started = time.perf_counter()
    result = warehouse.query(query)
    return StepResult(
        id=step_id,
        type="query",
        status="completed",
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        sql=result.sql,
        columns=list(result.columns),
        rows=result.records(),
        truncated=result.truncated,
        cached=result.cached,
    )


def query_tool(call: ToolCall) -> ToolOutput:
    """A workflow's query step: the rows as stored, and a data-quality note when the tables it
    reads hold rows the run's analyses leave out (events of unknown accounts, repeated ids)."""
    assert call.warehouse is not None and isinstance(call.params, SemanticQuery)
    step = run_query_step(call.warehouse, call.params, step_id=call.step_id)
    cleaner = RowCleaner(call.warehouse)
    cleaner.check(step.sql or "")
    quality = cleaner.note(as_stored=True)
    notes = [quality] if quality else []
    return ToolOutput(
        step.model_copy(
            update={"chart": chart_spec(step, title=call.title), "notes": [*step.notes, *notes]}
        )
    )
