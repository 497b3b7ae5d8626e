"""A question's time window applied to the workflow it was routed to: each step that reads
filtered rows gets the window on the date that fits what that step measures ("why did
conversion drop in 2024": the conversion steps keep accounts that signed up in 2024, revenue
steps the months of 2024). Steps that cannot take a filter are named, so the interpretation
says the window did not reach them instead of implying it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatter.analyst.decision import RouteDecision
from chatter.analyst.interpret import window_filters
from chatter.analyst.lead import data_span
from chatter.analyst.parse import ParsedQuestion
from chatter.analyst.vocabulary import Vocabulary
from chatter.semantic.model import SemanticModel
from chatter.semantic.warehouse import Warehouse
from chatter.tools.params import ModelName
from chatter.tools.registry import get_tool, marker
from chatter.workflow.template import Template


@dataclass
class WindowedSteps:
    #: Step id -> the filters the window adds to it.
    applied: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Steps that read rows but take no filter: the window does not reach them.
    not_applied: list[str] = field(default_factory=list)

    def customizations(self) -> dict[str, Any]:
        return {step: {"parameters": {"filters": f}} for step, f in self.applied.items()}


def _step_measures(tool_name: str, parameters: dict[str, Any]) -> list[str]:
    """What a step measures: its ``measures``, else its first measure-typed parameter (as
    given, else the tool's default)."""
    if parameters.get("measures"):
        return list(parameters["measures"])
    tool = get_tool(tool_name)
    for name, info in tool.params.model_fields.items():
        found: ModelName | None = marker(info.annotation, info.metadata)
        if found is not None and found.kind == "measure":
            value = parameters.get(name, info.default)
            if isinstance(value, str):
                return [value]
            if isinstance(value, list | tuple) and value:
                return [str(value[0])]
    return []


def window_steps(
    template: Template, parsed: ParsedQuestion, model: SemanticModel, vocab: Vocabulary
) -> WindowedSteps:
    out = WindowedSteps()
    if parsed.window is None:
        return out
    for step in template.steps:
        if not step.enabled or step.type in ("insight_generation", "aggregation"):
            continue
        filters = (
            window_filters(parsed, _step_measures(step.tool, step.parameters), model, vocab)
            if "filters" in get_tool(step.tool).params.model_fields
            else []
        )
        if filters:
            out.applied[step.id] = filters
        else:
            out.not_applied.append(step.id)
    return out


def empty_window(warehouse: Warehouse, template: Template, decision: RouteDecision) -> str | None:
    """When no step the window was applied to has data inside it: the sentence saying so and
    where the data is (running the deep dive on nothing would only report failed tests)."""
    window = decision.parsed.window if decision.parsed else None
    steps = (decision.customizations or {}).get("steps") or {}
    by_id = {s.id: s for s in template.steps}
    probes = []
    for step_id, custom in steps.items():
        filters = custom.get("parameters", {}).get("filters")
        step = by_id.get(step_id)
        measures = _step_measures(step.tool, step.parameters) if step and filters else []
        if not measures:
            continue
        rows = warehouse.query({"measures": measures[:1], "filters": filters}).records()
        if rows and any(rows[0].values()):
            return None  # data inside the window: run it
        probes.append((measures[0], filters[0]["field"]))
    if window is None or not probes:
        return None
    measure, field = probes[0]
    where = data_span(warehouse, measure, field, [])
    return f"There is no data for {window.said!r}" + (f": {where}." if where else ".")
