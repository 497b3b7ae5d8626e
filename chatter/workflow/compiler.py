"""Template -> LangGraph StateGraph: one node per step, an edge from each dependency, so every
step whose dependencies are done runs in the same superstep (in parallel).

Steps that test come first; then one correction node puts all their findings under the run's
multiple-comparison correction; then the steps that read the run (insights, roll-up); then the
node that assembles the result. A graph is built for one services object, whose stores, guard
and pools its nodes use.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph

from chatter.context import Context
from chatter.semantic.model import SemanticModel
from chatter.services import Services
from chatter.tools.registry import get_tool, parse_params
from chatter.workflow.correction import make_correction_node
from chatter.workflow.finalize import make_finalize_node
from chatter.workflow.nodes import make_step_node
from chatter.workflow.state import WorkflowInput, WorkflowOutput, WorkflowState
from chatter.workflow.template import (
    BEGIN,
    CORRECT,
    FINALIZE,
    Template,
    run_readers,
    validate,
)


def begin(state: WorkflowState) -> dict[str, Any]:
    """Give the run an id and a start time when the caller (e.g. LangGraph Studio) did not."""
    update: dict[str, Any] = {}
    if not state.get("run_id"):
        configurable = get_config().get("configurable", {})
        update["run_id"] = str(configurable.get("thread_id") or uuid.uuid4().hex)
    if not state.get("started_at"):
        update["started_at"] = time.time()
    return update


def build_state_graph(
    services: Services, template: Template, model: SemanticModel
) -> StateGraph[Any, Any, Any, Any]:
    """Validate ``template`` against the tools and ``model``, then build (not compile) it."""
    validate(template, model)
    readers = run_readers(template)
    builder = StateGraph(
        WorkflowState,
        context_schema=Context,
        input_schema=WorkflowInput,
        output_schema=WorkflowOutput,
    )
    for step in template.steps:
        tool = get_tool(step.tool)
        params = parse_params(tool, step.parameters, where=f"step {step.id}")
        builder.add_node(step.id, make_step_node(services, template, step, tool, params))
    builder.add_node(BEGIN, begin)
    builder.add_node(CORRECT, make_correction_node(template))
    builder.add_node(FINALIZE, make_finalize_node(services, template))
    builder.add_edge(START, BEGIN)

    testers = [s for s in template.steps if s.id not in readers]
    for step in testers:
        builder.add_edge(list(step.after) if step.after else BEGIN, step.id)
    tester_sinks = [s.id for s in testers if not any(s.id in t.after for t in testers)]
    builder.add_edge(tester_sinks or BEGIN, CORRECT)

    for step in template.steps:
        if step.id in readers:
            builder.add_edge([CORRECT, *(d for d in step.after if d in readers)], step.id)
    reader_sinks = [
        r for r in readers if not any(r in s.after for s in template.steps if s.id in readers)
    ]
    builder.add_edge(sorted(reader_sinks) or CORRECT, FINALIZE)
    builder.add_edge(FINALIZE, END)
    return builder
