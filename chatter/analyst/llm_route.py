"""The LLM's say in routing: asked only when the deterministic router is unsure, answered through
structured output restricted to valid routes and names, and checked before it is used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, create_model

from chatter.analyst.decision import RouteDecision
from chatter.errors import ChatterError
from chatter.logs import get_logger
from chatter.result import Route
from chatter.semantic.query import SemanticQuery, resolve

if TYPE_CHECKING:
    from chatter.analyst.route import Router

log = get_logger(__name__)
LLM_CONFIDENCE = 0.7


def _schema(router: Router) -> type[BaseModel]:
    routes = tuple([*router.templates, "query"])
    route_type: Any = Literal[routes]
    return create_model(
        "RouteChoice",
        route=(route_type, Field(description="A template, or query for one lookup.")),
        measures=(list[str], Field(default_factory=list, description="For query: measures.")),
        dimensions=(list[str], Field(default_factory=list, description="For query: group by.")),
        reason=(str, Field(description="One sentence: why this route.")),
    )


def ask_llm(router: Router, question: str, fallback: RouteDecision) -> RouteDecision:
    """The LLM's route when it is valid for the model and templates, else ``fallback``."""

    prompt = (
        "Route an analyst's question. Templates: "
        + "; ".join(f"{n}: {t.description}" for n, t in router.templates.items())
        + f". Measures: {', '.join(router.model.measure_names())}. Dimensions: "
        + f"{', '.join(router.model.dimension_names())}. Use route=query for one lookup of "
        + f"measures by dimensions. Question: {question}"
    )
    try:
        choice: Any = router.llm.with_structured_output(_schema(router)).invoke(prompt)
        if choice.route == "query":
            query = SemanticQuery.parse(
                {"measures": choice.measures, "dimensions": choice.dimensions}
            )
            resolve(query, router.model)
            return RouteDecision(
                Route(
                    workflow="query",
                    confidence=LLM_CONFIDENCE,
                    reason=f"LLM: {choice.reason}"[:500],
                ),
                query=query,
                parsed=fallback.parsed,
            )
        return RouteDecision(
            Route(
                workflow=choice.route,
                confidence=LLM_CONFIDENCE,
                reason=f"LLM: {choice.reason}"[:500],
            ),
            parsed=fallback.parsed,
        )
    except (ChatterError, Exception) as err:  # invalid output or a failing server
        log.info("llm_route_rejected", error=str(err)[:200])
        return fallback
