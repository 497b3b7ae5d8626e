"""Workflow templates as data, compiled into LangGraph graphs and run durably (checkpointed,
resumable, cancellable), with the run's one multiple-comparison correction."""

from chatter.workflow.composite import compose
from chatter.workflow.runs import (
    build_graph,
    cancel_run,
    create_run,
    execute_run,
    resume_run,
    run_workflow,
)
from chatter.workflow.template import StepSpec, Template, builtin_templates, get_template

__all__ = [
    "StepSpec",
    "Template",
    "build_graph",
    "builtin_templates",
    "cancel_run",
    "compose",
    "create_run",
    "execute_run",
    "get_template",
    "resume_run",
    "run_workflow",
]
