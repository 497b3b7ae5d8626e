"""The built-in tools, one ToolSpec each: queries, the analyses, comparison, the tests on given
counts, and the two that read the run (roll-up and insights)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from chatter.result import StepType
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.analyses.result import AnalysisResult
from chatter.tools.count_tests import (
    ContingencyParams,
    ProportionParams,
    chi_square_tool,
    level_vs_rest_tool,
)
from chatter.tools.insight.step import InsightParams, insights_tool
from chatter.tools.protocol import ToolCall, ToolOutput, ToolSpec
from chatter.tools.query import query_tool
from chatter.tools.roll_up import RollUpParams, roll_up_tool

_ANALYSIS: frozenset[StepType] = frozenset({"analysis", "statistical_test"})


def analysis_tool(
    name: str,
    func: Callable[[Warehouse, Any], AnalysisResult],
    params: type[BaseModel],
    description: str,
    step_types: frozenset[StepType] = _ANALYSIS,
    *,
    cache: bool = True,
) -> ToolSpec:
    """A ToolSpec for an analysis: its whole result is cached like a query's (by the analysis
    and its parameters, the model, the data and its version, the scope), unless ``cache`` is
    off (an analysis with effects outside its result)."""

    def run(call: ToolCall) -> ToolOutput:
        warehouse = call.warehouse
        assert warehouse is not None
        if cache:
            result, cached = warehouse.memoize(
                func.__name__,
                call.params.model_dump(mode="json"),
                lambda: func(warehouse, call.params),
            )
            if cached:
                result = result.model_copy(update={"cached": True})
        else:
            result = func(warehouse, call.params)
        return ToolOutput(
            result.to_step(call.step_id, call.step_type, tool=name),
            [f.model_copy(update={"source_step": call.step_id}) for f in result.findings],
        )

    return ToolSpec(name, step_types, params, run, description, reads="data")


BUILTIN_TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "query",
        frozenset({"query"}),
        SemanticQuery,
        query_tool,
        "One semantic query: measures by dimensions, with filters, order and limit.",
    ),
    analysis_tool(
        "conversion_tests",
        analyses.segment_rate_tests,
        analyses.SegmentTestParams,
        "Conversion across each dimension: one omnibus test and one test per level vs rest.",
    ),
    analysis_tool(
        "segment_rate_tests",
        analyses.segment_rate_tests,
        analyses.SegmentTestParams,
        "Any rate (a ratio of counts) across each dimension: omnibus and level vs rest.",
    ),
    analysis_tool(
        "cohort_analysis",
        analyses.cohort_analysis,
        analyses.CohortParams,
        "Signup cohorts by period: conversion and retention, and the trend across cohorts.",
    ),
    analysis_tool(
        "adoption_by_segment",
        analyses.adoption_by_segment,
        analyses.AdoptionParams,
        "Feature adoption by segment, each feature tested across segments.",
    ),
    analysis_tool(
        "power_users",
        analyses.power_users,
        analyses.PowerUserParams,
        "The most active accounts (the top share by events) and how their usage differs.",
    ),
    analysis_tool(
        "usage_correlation",
        analyses.usage_correlation,
        analyses.CorrelationParams,
        "Correlation of every pair of per-account feature counts, each pair tested.",
    ),
    analysis_tool(
        "churn_relationship",
        analyses.churn_relationship,
        analyses.ChurnParams,
        "Churn of each feature's adopters against non-adopters, tested.",
    ),
    analysis_tool(
        "revenue_growth",
        analyses.revenue_growth,
        analyses.GrowthParams,
        "Revenue and paying accounts by period, growth rates and a tested trend.",
    ),
    analysis_tool(
        "ltv_by_segment",
        analyses.ltv_by_segment,
        analyses.LtvParams,
        "Lifetime value by segment (revenue per month over churn), segments compared.",
    ),
    analysis_tool(
        "expansion_opportunities",
        analyses.expansion_opportunities,
        analyses.ExpansionParams,
        "Lower-plan accounts that use the product like a higher plan, with MRR at stake.",
    ),
    analysis_tool(
        "compare_filters",
        analyses.compare_filters,
        analyses.CompareParams,
        "The same query under two filter sets, side by side, with ratio measures tested.",
        frozenset({"comparison"}),
    ),
    ToolSpec(
        "level_vs_rest_test",
        frozenset({"statistical_test"}),
        ProportionParams,
        level_vs_rest_tool,
        "One level's proportion against the rest's (Fisher's exact when counts are small).",
        reads="inputs",
    ),
    ToolSpec(
        "chi_square_test",
        frozenset({"statistical_test"}),
        ContingencyParams,
        chi_square_tool,
        "Pearson's chi-square test of independence on a table of counts (Cramér's V).",
        reads="inputs",
    ),
    ToolSpec(
        "roll_up",
        frozenset({"aggregation"}),
        RollUpParams,
        roll_up_tool,
        "The findings of the steps it follows under the run's one correction, summarised.",
        reads="run",
    ),
    ToolSpec(
        "insights",
        frozenset({"insight_generation"}),
        InsightParams,
        insights_tool,
        "Ranked insights over the run's results, each citing its evidence.",
        reads="run",
    ),
)
