"""LangChain tool wrappers, so an agent can call chatter's tools with typed arguments.

``langchain_tools(context)`` binds the tools to one caller and one Warehouse (database, model,
cache, data scope): the agent never chooses a database or who it is, only what to ask. Every
call goes through the governance guard as that caller (permissions, rate limits, secrets, audit,
metrics), and the caller's mandatory data scope always applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from chatter.context import Context
from chatter.governance.guard import guarded_call
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses, stats
from chatter.tools.query import run_query_step
from chatter.workflow.resources import governed_context, warehouse_for


class CohortArgs(BaseModel):
    cohort_dimension: str = Field("signup_date", description="Date dimension defining cohorts.")
    grain: Literal["week", "month", "quarter"] = "month"
    retention_horizon: int = Field(3, ge=1, le=36)


class SegmentArgs(BaseModel):
    segment_dimension: str = Field("plan_type", description="Dimension whose levels to compare.")
    feature_dimension: str = Field("event_type", description="Dimension naming the feature.")


class FeatureArgs(BaseModel):
    feature_dimension: str = Field("event_type", description="Dimension naming the feature.")


class PowerUserArgs(FeatureArgs):
    top_share: float = Field(0.10, gt=0, lt=1, description="Share of accounts counted as power.")


class CorrelationArgs(FeatureArgs):
    method: Literal["spearman", "pearson"] = "spearman"


class RevenueArgs(BaseModel):
    revenue: str = Field("mrr", description="Revenue measure.")
    period_dimension: str = Field("month", description="Period dimension of the revenue table.")


class LtvArgs(BaseModel):
    segment_dimension: str = Field("plan_type", description="Dimension to split LTV by.")


class ExpansionArgs(BaseModel):
    plan_dimension: str = Field("plan_type", description="Plan dimension of the revenue table.")
    max_rows: int = Field(100, ge=1, le=1000)


class CompareArgs(BaseModel):
    query: SemanticQuery
    filters_a: list[dict[str, Any]] = Field(description="Filters of the first side.")
    filters_b: list[dict[str, Any]] = Field(description="Filters of the second side.")
    labels: tuple[str, str] = ("a", "b")


class ProportionArgs(BaseModel):
    successes: int = Field(ge=0)
    n: int = Field(ge=0)
    successes_rest: int = Field(ge=0)
    n_rest: int = Field(ge=0)
    label: str = "level"


class ContingencyArgs(BaseModel):
    counts: list[list[float]] = Field(description="Rows = levels, columns = outcomes.")
    row_labels: list[str]
    col_labels: list[str] = ["yes", "no"]


def _tool(
    name: str,
    description: str,
    args: type[BaseModel],
    run: Callable[..., Any],
    *,
    context: Context,
    tool: str,
    step_type: str,
) -> StructuredTool:
    def call(**kwargs: Any) -> dict[str, Any]:
        result = guarded_call(
            context,
            tool=tool,
            step_type=step_type,
            params=_jsonable(kwargs),
            func=lambda: run(**kwargs),
            step_id=name,
        )
        return result.model_dump(mode="json") if isinstance(result, BaseModel) else result

    return StructuredTool.from_function(
        func=call, name=name, description=description, args_schema=args
    )


def _jsonable(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.model_dump(mode="json") if isinstance(v, BaseModel) else v for k, v in kwargs.items()
    }


#: Analyses an agent may run, with the arguments it may choose (the warehouse is bound).
ANALYSES: tuple[tuple[Callable[..., Any], type[BaseModel]], ...] = (
    (analyses.cohort_analysis, CohortArgs),
    (analyses.adoption_by_segment, SegmentArgs),
    (analyses.power_users, PowerUserArgs),
    (analyses.usage_correlation, CorrelationArgs),
    (analyses.churn_relationship, FeatureArgs),
    (analyses.revenue_growth, RevenueArgs),
    (analyses.ltv_by_segment, LtvArgs),
    (analyses.expansion_opportunities, ExpansionArgs),
)


def _bound(func: Callable[..., Any], warehouse: Warehouse) -> Callable[..., Any]:
    return lambda **kwargs: func(warehouse, **kwargs)


def langchain_tools(context: Context, warehouse: Warehouse | None = None) -> list[BaseTool]:
    """Every step tool as a LangChain tool run as ``context``: on ``warehouse`` (default the
    context's shared one), always under the context's governed data scope."""
    governed = governed_context(context)
    if warehouse is None:
        wh = warehouse_for(governed)
    else:  # the caller's engine, never without the caller's scope
        wh = Warehouse(
            warehouse.engine,
            warehouse.model,
            cache=warehouse.cache,
            row_cap=warehouse.row_cap,
            scope=tuple(dict.fromkeys((*warehouse.scope, *governed.scope))),
        )
    tools: list[BaseTool] = [
        _tool(
            "semantic_query",
            "Measures by dimensions with filters, from the semantic model.",
            SemanticQuery,
            lambda **q: run_query_step(wh, q),
            context=context,
            tool="query",
            step_type="query",
        ),
        _tool(
            "compare_filters",
            analyses.compare_filters.__doc__ or "",
            CompareArgs,
            lambda query, **k: analyses.compare_filters(wh, query.model_dump(), **k),
            context=context,
            tool="compare_filters",
            step_type="comparison",
        ),
        _tool(
            "level_vs_rest_test",
            stats.level_vs_rest_test.__doc__ or "",
            ProportionArgs,
            stats.level_vs_rest_test,
            context=context,
            tool="level_vs_rest_test",
            step_type="statistical_test",
        ),
        _tool(
            "chi_square_test",
            stats.chi_square_test.__doc__ or "",
            ContingencyArgs,
            stats.chi_square_test,
            context=context,
            tool="chi_square_test",
            step_type="statistical_test",
        ),
    ]
    tools += [
        _tool(
            func.__name__,
            func.__doc__ or "",
            args,
            _bound(func, wh),
            context=context,
            tool=func.__name__,
            step_type="analysis",
        )
        for func, args in ANALYSES
    ]
    return tools
