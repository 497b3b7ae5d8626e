"""What every analysis returns: rows, the findings it tested, the SQL it ran, and notes."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from sqlglot import exp

from chatter.result import Finding, StepResult, StepType
from chatter.semantic.warehouse import Warehouse, json_safe
from chatter.tools.analyses.clean_rows import RowCleaner
from chatter.tools.stats import TestResult


class AnalysisResult(BaseModel):
    """Rows a person can read, plus every test the analysis made (uncorrected: the run applies
    one multiple-comparison correction over all its findings)."""

    analysis: str
    columns: list[str] = Field(default_factory=list)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    sql: list[str] = Field(default_factory=list)  # every statement as run, literals written in
    notes: list[str] = Field(default_factory=list)  # definitions and caveats a reader needs
    summary: dict[str, Any] = Field(default_factory=dict)  # headline numbers, for insights
    truncated: bool = False
    cached: bool = False

    def to_step(
        self,
        step_id: str,
        step_type: StepType,
        *,
        tool: str | None = None,
        duration_ms: float = 0.0,
    ) -> StepResult:
        """This analysis as a completed step of a run (its findings travel separately)."""
        return StepResult(
            id=step_id,
            type=step_type,
            status="completed",
            tool=tool,
            duration_ms=duration_ms,
            sql=";\n".join(self.sql) or None,
            columns=self.columns,
            rows=self.rows,
            truncated=self.truncated,
            cached=self.cached,
            summary=self.summary,
            notes=self.notes,
        )


def to_finding(
    result: TestResult,
    *,
    metric: str,
    dimension: str | None = None,
    segment: str | None = None,
    subject: str | None = None,
    descriptive: bool = False,
) -> Finding:
    """A test result as a run finding (p_adjusted and significant are set by the correction;
    ``descriptive`` keeps a comparison true by construction out of it)."""
    return Finding(
        metric=metric,
        dimension=dimension,
        segment=segment,
        subject=subject,
        test=result.test,
        statistic=result.statistic,
        p_value=result.p_value,
        effect_size=result.effect_size,
        effect_size_name=result.effect_size_name,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        ci_of=result.ci_of,
        n=result.n,
        estimates=dict(result.estimates),
        testable=result.testable,
        reason=result.reason,
        warnings=list(result.warnings),
        descriptive=descriptive,
    )


class Recorder:
    """Runs an analysis's queries through the warehouse and keeps what the result must show:
    every statement as run, whether all came from the cache, whether any was truncated."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.cleaner = RowCleaner(warehouse)
        self.sql: list[str] = []
        self.cached = True
        self.truncated = False

    def query(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows of a semantic query as dicts of Python values (dates stay dates)."""
        result = self.warehouse.query(query)
        self.sql.append(result.sql)
        self.cached &= result.cached
        self.truncated |= result.truncated
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]

    def query_sets(
        self,
        query: dict[str, Any],
        groupings: list[tuple[str, ...]],
        *,
        pre_aggregate: bool = False,
    ) -> list[list[dict[str, Any]]]:
        """Rows of ``query``'s measures by each of ``groupings`` (tuples of its dimensions): one
        statement when the warehouse can group by all of them at once, else one per grouping
        (``pre_aggregate``: see Warehouse.query_sets)."""
        if not groupings:
            return []
        found = self.warehouse.query_sets(query, groupings, pre_aggregate=pre_aggregate)
        if found is None:
            return [self.query({**query, "dimensions": list(g)}) for g in groupings]
        results, sql = found
        self.sql.append(sql)
        self.cached &= all(r.cached for r in results)
        return [[dict(zip(r.columns, row, strict=True)) for row in r.rows] for r in results]

    def rows(self, ast: exp.Expr, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of an analysis's own statement as dicts (aggregates: a few rows)."""
        result = self.warehouse.run_ast(self.cleaner.clean(ast), params, row_cap=100_000)
        self.sql.append(result.sql)
        self.cached &= result.cached
        self.truncated |= result.truncated
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]

    def arrays(self, ast: exp.Expr, params: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
        arrays, sql = self.warehouse.fetch_arrays(self.cleaner.clean(ast), params)
        self.sql.append(sql)
        self.cached = False
        return arrays

    def result(
        self,
        analysis: str,
        rows: list[dict[str, Any]],
        findings: list[Finding],
        notes: list[str],
        summary: dict[str, Any] | None = None,
    ) -> AnalysisResult:
        columns = list(rows[0]) if rows else []
        quality = self.cleaner.note()
        notes = [*notes, quality] if quality else notes
        return AnalysisResult(
            analysis=analysis,
            columns=columns,
            rows=[{k: json_safe(v) for k, v in r.items()} for r in rows],
            findings=findings,
            sql=self.sql,
            notes=notes,
            summary=json_safe(summary or {}),
            truncated=self.truncated,
            cached=self.cached and bool(self.sql),
        )
