"""Template -> LangGraph StateGraph: one node per step, an edge from each dependency, so every
step whose dependencies are done runs in the same superstep (in parallel)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph

from chatter.context import Context
from chatter.errors import TemplateError
from chatter.semantic.model import SemanticModel
from chatter.tools.registry import get_tool, parse_params
from chatter.workflow.finalize import make_finalize_node
from chatter.workflow.nodes import make_step_node
from chatter.workflow.state import WorkflowInput, WorkflowOutput, WorkflowState
from chatter.workflow.template import Template, validate

FINALIZE = "finalize"
BEGIN = "begin"


def begin(state: WorkflowState) -> dict[str, Any]:
    """Give the run an id and a start time when the caller (e.g. LangGraph Studio) did not."""
    update: dict[str, Any] = {}
    if not state.get("run_id"):
        configurable = get_config().get("configurable", {})
        update["run_id"] = str(configurable.get("thread_id") or uuid.uuid4().hex)
    if not state.get("started_at"):
        update["started_at"] = time.time()
    return update


def build_state_graph(template: Template, model: SemanticModel) -> StateGraph[Any, Any, Any, Any]:
    """Validate ``template`` against the tools and ``model``, then build (not compile) it."""
    validate(template, model)
    reserved = [s.id for s in template.steps if s.id in (BEGIN, FINALIZE)]
    if reserved:
        raise TemplateError(f"Step id {reserved[0]!r} is reserved; rename that step.")
    builder = StateGraph(
        WorkflowState,
        context_schema=Context,
        input_schema=WorkflowInput,
        output_schema=WorkflowOutput,
    )
    for step in template.steps:
        tool = get_tool(step.tool)
        params = parse_params(tool, step.parameters, where=f"step {step.id}")
        builder.add_node(step.id, make_step_node(template, step, tool, params))
    has_dependents = {dep for s in template.steps for dep in s.after}
    builder.add_node(BEGIN, begin)
    builder.add_edge(START, BEGIN)
    for step in template.steps:
        builder.add_edge(list(step.after) if step.after else BEGIN, step.id)
    builder.add_node(FINALIZE, make_finalize_node(template))
    sinks = [s.id for s in template.steps if s.id not in has_dependents]
    builder.add_edge(sinks, FINALIZE)
    builder.add_edge(FINALIZE, END)
    return builder
