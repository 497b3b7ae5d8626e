"""The step tools a template may name: what each accepts (a typed parameter model whose names are
checked against the semantic model before anything runs) and how it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatter.errors import UnknownParameterError, UnknownToolError, invalid_value_from
from chatter.result import StepType
from chatter.semantic.model import SemanticModel, TimeGrain
from chatter.semantic.query import SemanticQuery, resolve, resolve_filters
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.analyses.result import AnalysisResult


@dataclass(frozen=True)
class ModelName:
    """Marks a parameter as naming a ``dimension`` or ``measure`` of the semantic model."""

    kind: Literal["dimension", "measure"]


Dimension = Annotated[str, ModelName("dimension")]
Measure = Annotated[str, ModelName("measure")]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FilteredParams(Params):
    filters: tuple[dict[str, Any], ...] = ()


class SegmentTestParams(FilteredParams):
    metric: Measure = "conversion_rate"
    dimensions: tuple[Dimension, ...] = ("plan_type", "industry")


class CohortParams(FilteredParams):
    cohort_dimension: Dimension = "signup_date"
    grain: TimeGrain = "month"
    population: Measure = "users"
    converted: Measure = "converted_users"
    churned: Measure = "churned_users"
    churn_date_dimension: Dimension = "churn_date"
    metric: Measure = "conversion_rate"
    retention_horizon: int = Field(3, ge=1, le=60)
    max_periods: int = Field(12, ge=1, le=120)


class AdoptionParams(FilteredParams):
    feature_dimension: Dimension = "event_type"
    segment_dimension: Dimension = "plan_type"
    adopters: Measure = "active_users"
    population: Measure = "users"


class PowerUserParams(Params):
    feature_dimension: Dimension = "event_type"
    top_share: float = Field(0.10, gt=0, lt=1)


class CorrelationParams(Params):
    feature_dimension: Dimension = "event_type"
    adopters: Measure = "active_users"
    method: Literal["spearman", "pearson"] = "spearman"
    max_features: int = Field(25, ge=2, le=100)


class ChurnParams(FilteredParams):
    feature_dimension: Dimension = "event_type"
    customers: Measure = "converted_users"
    churned: Measure = "churned_users"
    metric: Measure = "churn_rate"


class GrowthParams(FilteredParams):
    revenue: Measure = "mrr"
    customers: Measure = "paying_users"
    period_dimension: Dimension = "month"


class LtvParams(FilteredParams):
    segment_dimension: Dimension = "plan_type"
    revenue: Measure = "mrr"
    monthly_revenue: Measure = "avg_mrr"
    exposure: Measure = "paying_months"
    revenue_accounts: Measure = "paying_users"
    customers: Measure = "converted_users"
    churned: Measure = "churned_users"


class ExpansionParams(Params):
    plan_dimension: Dimension = "plan_type"
    revenue: Measure = "mrr"
    period_dimension: Dimension = "month"
    feature_dimension: Dimension = "event_type"
    max_rows: int = Field(100, ge=1, le=10_000)


class CompareParams(Params):
    query: SemanticQuery
    filters_a: tuple[dict[str, Any], ...]
    filters_b: tuple[dict[str, Any], ...]
    labels: tuple[str, str] = ("a", "b")


class InsightParams(Params):
    max_insights: int = Field(8, ge=1, le=50)


class RollUpParams(Params):
    pass


@dataclass(frozen=True)
class ToolSpec:
    name: str
    step_types: frozenset[str]
    params: type[BaseModel]
    run: Callable[[Warehouse, Any], AnalysisResult] | None  # None: run by the workflow itself
    description: str = ""


def _analysis(func: Callable[..., AnalysisResult]) -> Callable[[Warehouse, Any], AnalysisResult]:
    def run(warehouse: Warehouse, params: BaseModel) -> AnalysisResult:
        result, cached = warehouse.memoize(
            func.__name__, params.model_dump(mode="json"), lambda: func(warehouse, **dict(params))
        )
        return result.model_copy(update={"cached": True}) if cached else result

    return run


def _compare(warehouse: Warehouse, params: CompareParams) -> AnalysisResult:
    return analyses.compare_filters(
        warehouse,
        params.query.model_dump(mode="json"),
        filters_a=params.filters_a,
        filters_b=params.filters_b,
        labels=params.labels,
    )


_ANALYSIS_TYPES = frozenset({"analysis", "statistical_test"})
TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "query",
            frozenset({"query"}),
            SemanticQuery,
            None,
            "One semantic query: measures by dimensions.",
        ),
        ToolSpec(
            "conversion_tests",
            _ANALYSIS_TYPES,
            SegmentTestParams,
            _analysis(analyses.segment_rate_tests),
            "Conversion across each dimension: omnibus and level vs rest.",
        ),
        ToolSpec(
            "segment_rate_tests",
            _ANALYSIS_TYPES,
            SegmentTestParams,
            _analysis(analyses.segment_rate_tests),
            "Any rate across each dimension.",
        ),
        ToolSpec(
            "cohort_analysis",
            _ANALYSIS_TYPES,
            CohortParams,
            _analysis(analyses.cohort_analysis),
            "Signup cohorts: conversion and retention.",
        ),
        ToolSpec(
            "adoption_by_segment",
            _ANALYSIS_TYPES,
            AdoptionParams,
            _analysis(analyses.adoption_by_segment),
            "Feature adoption by segment.",
        ),
        ToolSpec(
            "power_users",
            _ANALYSIS_TYPES,
            PowerUserParams,
            _analysis(analyses.power_users),
            "Top decile of activity and how their usage differs.",
        ),
        ToolSpec(
            "usage_correlation",
            _ANALYSIS_TYPES,
            CorrelationParams,
            _analysis(analyses.usage_correlation),
            "Correlation of per-account feature use.",
        ),
        ToolSpec(
            "churn_relationship",
            _ANALYSIS_TYPES,
            ChurnParams,
            _analysis(analyses.churn_relationship),
            "Churn of adopters vs non-adopters.",
        ),
        ToolSpec(
            "revenue_growth",
            _ANALYSIS_TYPES,
            GrowthParams,
            _analysis(analyses.revenue_growth),
            "Revenue growth and its trend.",
        ),
        ToolSpec(
            "ltv_by_segment",
            _ANALYSIS_TYPES,
            LtvParams,
            _analysis(analyses.ltv_by_segment),
            "Lifetime value by segment.",
        ),
        ToolSpec(
            "expansion_opportunities",
            _ANALYSIS_TYPES,
            ExpansionParams,
            _analysis(analyses.expansion_opportunities),
            "Lower-plan accounts that use the product like a higher plan.",
        ),
        ToolSpec(
            "compare_filters",
            frozenset({"comparison"}),
            CompareParams,
            _compare,
            "The same query under two filter sets, side by side, tested.",
        ),
        ToolSpec(
            "roll_up",
            frozenset({"aggregation"}),
            RollUpParams,
            None,
            "All upstream findings under one correction, summarised.",
        ),
        ToolSpec(
            "insights",
            frozenset({"insight_generation"}),
            InsightParams,
            None,
            "Ranked insights, each citing its evidence.",
        ),
    )
}


def get_tool(name: str) -> ToolSpec:
    if name not in TOOLS:
        raise UnknownToolError(name, TOOLS)
    return TOOLS[name]


def register_tool(spec: ToolSpec) -> None:
    """Add a tool (extensions, tests). Names are unique."""
    if spec.name in TOOLS:
        raise ValueError(f"a tool named {spec.name!r} is already registered")
    TOOLS[spec.name] = spec


def parse_params(tool: ToolSpec, params: Mapping[str, Any], *, where: str) -> BaseModel:
    """The step's parameters as the tool's typed model; unknown keys name the valid ones."""
    known = set(tool.params.model_fields)
    for key in params:
        if key not in known:
            raise UnknownParameterError(key, known, context=f"for {where} (tool {tool.name})")
    try:
        return tool.params.model_validate(dict(params))
    except ValidationError as err:
        raise invalid_value_from(err, f"{where} parameter") from None


def check_names(params: BaseModel, model: SemanticModel) -> None:
    """Every dimension, measure and filter the parameters name exists in ``model``."""
    if isinstance(params, SemanticQuery):
        resolve(params, model)
        return
    for name, info in type(params).model_fields.items():
        value = getattr(params, name)
        names = marker(info.annotation, info.metadata)
        if name in ("filters", "filters_a", "filters_b"):
            resolve_filters(list(value), model)
        elif isinstance(value, SemanticQuery):
            resolve(value, model)
        elif names is not None:
            for item in value if isinstance(value, tuple | list) else (value,):
                if names.kind == "dimension":
                    model.dimension(item.split("__")[0] if "__" in item else item)
                else:
                    model.measure(item)


def marker(annotation: Any, metadata: list[Any]) -> ModelName | None:
    for meta in metadata:
        if isinstance(meta, ModelName):
            return meta
    for arg in get_args(annotation):  # tuple[Dimension, ...]
        if get_origin(arg) is Annotated:
            for meta in arg.__metadata__:
                if isinstance(meta, ModelName):
                    return meta
    return None


__all__ = [
    "TOOLS",
    "ModelName",
    "StepType",
    "ToolSpec",
    "check_names",
    "get_tool",
    "parse_params",
    "register_tool",
]
