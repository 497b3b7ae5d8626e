"""Workflow templates as data: steps with a type, a tool, parameters and dependencies.

This module loads and checks a template's structure (known step types, unique ids, dependencies
that exist, no cycles); the graph compiler builds on what it returns.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chatter.errors import TemplateError, UnknownTemplateError
from chatter.workflow.result import StepType

_ID = r"^[a-z][a-z0-9_]*$"


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    type: StepType
    tool: str = Field(pattern=_ID)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    optional_dependencies: tuple[str, ...] = ()
    on_failure: Literal["skip_dependents", "fail_run"] = "skip_dependents"
    enabled: bool = True


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_ID)
    description: str
    questions: tuple[str, ...] = ()
    steps: tuple[StepSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _graph(self) -> Template:
        ids = [s.id for s in self.steps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate step id(s): {', '.join(duplicates)}")
        known = set(ids)
        for step in self.steps:
            for dep in (*step.depends_on, *step.optional_dependencies):
                if dep not in known:
                    raise ValueError(
                        f"step {step.id!r} depends on unknown step {dep!r}; steps: {', '.join(ids)}"
                    )
        topological_order(self)  # raises on a cycle
        return self

    def step(self, step_id: str) -> StepSpec:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)


def topological_order(template: Template) -> list[str]:
    """Step ids so that each comes after its dependencies (ties in declaration order)."""
    deps = {s.id: set(s.depends_on) | set(s.optional_dependencies) for s in template.steps}
    order: list[str] = []
    while deps:
        ready = [i for i, d in deps.items() if not d - set(order)]
        if not ready:
            raise ValueError(f"dependency cycle among steps: {', '.join(sorted(deps))}")
        order.extend(ready)
        for i in ready:
            del deps[i]
    return order


def parse_template(data: Any, source: str) -> Template:
    try:
        return Template.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TemplateError(f"Template {source}: {where}: {first['msg']}") from None


@cache
def builtin_templates() -> dict[str, Template]:
    """The templates shipped in ``chatter.graphs`` (graphs/*.yaml), by name."""
    out: dict[str, Template] = {}
    for entry in sorted(resources.files("chatter.graphs").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            template = parse_template(yaml.safe_load(entry.read_text("utf-8")), entry.name)
            out[template.name] = template
    return out


def get_template(name: str) -> Template:
    templates = builtin_templates()
    if name not in templates:
        raise UnknownTemplateError(name, templates)
    return templates[name]


def describe_templates() -> list[dict[str, Any]]:
    """Each template's name, description and steps (id, type, tool, dependencies)."""
    return [
        {
            "name": t.name,
            "description": t.description,
            "steps": [
                {
                    "id": s.id,
                    "type": s.type,
                    "tool": s.tool,
                    "description": s.description,
                    "depends_on": list(s.depends_on),
                }
                for s in t.steps
            ],
        }
        for t in builtin_templates().values()
    ]
