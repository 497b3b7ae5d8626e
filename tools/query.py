"""The query step: run one semantic query and report it as a step result."""

from __future__ import annotations

import time
from typing import Any

from chatter.result import StepResult
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse


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
