"""Workflow templates as data: steps with a type, a tool, parameters and dependencies.

Loading checks the structure (known step types, unique ids, dependencies that exist, no cycles);
``customize`` merges a user's customizations and ``validate`` checks every tool, parameter and
semantic-model name, so a bad template or customization is rejected before anything runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chatter.errors import (
    InvalidValueError,
    TemplateError,
    UnknownParameterError,
    UnknownStepError,
    UnknownTemplateError,
    invalid_value_from,
)
from chatter.result import StepType
from chatter.semantic.model import SemanticModel
from chatter.tools.registry import check_names, get_tool, parse_params

_ID = r"^[a-z][a-z0-9_]*$"
#: The nodes a compiled template has besides its steps (no step may take their names).
BEGIN, CORRECT, FINALIZE = "begin", "correct_findings", "finalize"
RESERVED_STEP_IDS = (BEGIN, CORRECT, FINALIZE)


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    type: StepType
    tool: str = Field(pattern=_ID)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    depends_on: tuple[str, ...] = ()  # must complete, else this step is skipped
    optional_dependencies: tuple[str, ...] = ()  # run after them, whatever their outcome
    on_failure: Literal["skip_dependents", "fail_run"] = "skip_dependents"
    enabled: bool = True
    timeout_s: float | None = Field(default=None, gt=0)

    @property
    def after(self) -> tuple[str, ...]:
        return (*self.depends_on, *self.optional_dependencies)


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_ID)
    description: str
    questions: tuple[str, ...] = ()  # example questions: vocabulary for the router
    keywords: tuple[str, ...] = ()  # more words analysts use for this kind of question
    steps: tuple[StepSpec, ...] = Field(min_length=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    correction: Literal["bh", "holm"] = "bh"

    @model_validator(mode="after")
    def _graph(self) -> Template:
        ids = [s.id for s in self.steps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate step id(s): {', '.join(duplicates)}")
        known = set(ids)
        for step in self.steps:
            for dep in step.after:
                if dep not in known:
                    raise ValueError(
                        f"step {step.id!r} depends on unknown step {dep!r}; steps: {', '.join(ids)}"
                    )
                if dep == step.id:
                    raise ValueError(f"step {step.id!r} depends on itself")
        topological_order(self)  # raises on a cycle
        return self

    def step(self, step_id: str) -> StepSpec:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise UnknownStepError(
            step_id, [s.id for s in self.steps], context=f"in template {self.name}"
        )

    @property
    def content_hash(self) -> str:
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def topological_order(template: Template) -> list[str]:
    """Step ids so that each comes after its dependencies (ties in declaration order)."""
    deps = {s.id: set(s.after) for s in template.steps}
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
def builtin_templates() -> Mapping[str, Template]:
    """The templates shipped in ``chatter.graphs`` (graphs/*.yaml), by name: read once, and
    read-only (they are part of the code)."""
    out: dict[str, Template] = {}
    for entry in sorted(resources.files("chatter.graphs").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            template = parse_template(yaml.safe_load(entry.read_text("utf-8")), entry.name)
            out[template.name] = template
    return MappingProxyType(out)


def get_template(name: str) -> Template:
    templates = builtin_templates()
    if name not in templates:
        raise UnknownTemplateError(name, templates)
    return templates[name]


# ---- customization ----------------------------------------------------------------------------

_TOP_KEYS = {"steps", "alpha", "correction"}
_STEP_KEYS = {"enabled", "parameters", "timeout_s"}


def customize(template: Template, customizations: Any) -> Template:
    """``template`` with a user's customizations merged in (CONTRACT.md section 2):
    ``{"alpha": 0.01, "steps": {"<id>": {"enabled": false, "parameters": {...}}}}``.
    Parameters replace the template's, except ``filters``, which are added to them."""
    if not customizations:
        return template
    if not isinstance(customizations, dict):
        raise InvalidValueError(
            "customizations",
            customizations,
            'a JSON object like {"steps": {"<step_id>": {"enabled": false}}}',
        )
    for key in customizations:
        if key not in _TOP_KEYS:
            raise UnknownParameterError(key, _TOP_KEYS, context="in customizations")
    steps_custom = customizations.get("steps") or {}
    if not isinstance(steps_custom, dict):
        raise InvalidValueError("customizations.steps", steps_custom, "an object keyed by step id")
    ids = [s.id for s in template.steps]
    for step_id in steps_custom:
        if step_id not in ids:
            raise UnknownStepError(step_id, ids, context=f"in customizations of {template.name}")
    steps = [_customize_step(s, steps_custom.get(s.id)) for s in template.steps]
    data = template.model_dump()
    data["steps"] = [s.model_dump() for s in steps]
    for key in ("alpha", "correction"):
        if key in customizations:
            data[key] = customizations[key]
    try:
        return Template.model_validate(data)
    except ValidationError as err:
        raise invalid_value_from(err, "customizations") from None


def _customize_step(step: StepSpec, custom: Any) -> StepSpec:
    if custom is None:
        return step
    if not isinstance(custom, dict):
        raise InvalidValueError(
            f"customizations.steps.{step.id}",
            custom,
            'an object like {"enabled": false, "parameters": {...}}',
        )
    for key in custom:
        if key not in _STEP_KEYS:
            raise UnknownParameterError(key, _STEP_KEYS, context=f"for step {step.id}")
    update: dict[str, Any] = {}
    if "enabled" in custom:
        if not isinstance(custom["enabled"], bool):
            raise InvalidValueError(f"step {step.id} enabled", custom["enabled"], "true or false")
        update["enabled"] = custom["enabled"]
    if "timeout_s" in custom:
        update["timeout_s"] = custom["timeout_s"]
    if "parameters" in custom:
        given = custom["parameters"]
        if not isinstance(given, dict):
            raise InvalidValueError(f"step {step.id} parameters", given, "an object")
        merged = {**step.parameters, **given}
        if "filters" in given and "filters" in step.parameters:
            extra = given["filters"] if isinstance(given["filters"], list) else [given["filters"]]
            merged["filters"] = [*step.parameters["filters"], *extra]
        update["parameters"] = merged
    return step.model_copy(update=update)


def validate(template: Template, model: SemanticModel) -> None:
    """Every enabled step's tool exists, fits the step type, and its parameters and the names
    they use (measures, dimensions, filters) are valid for ``model``; no step takes the name of
    a node the compiler adds; no testing step depends on a step that reads the run."""
    reserved = [s.id for s in template.steps if s.id in RESERVED_STEP_IDS]
    if reserved:
        raise TemplateError(f"Step id {reserved[0]!r} is reserved; rename that step.")
    readers = run_readers(template)
    for step in template.steps:
        before = set(step.after) & readers
        if step.id not in readers and before:
            raise TemplateError(
                f"Step {step.id!r} depends on {sorted(before)[0]!r}, which reads the run's "
                "corrected findings and so runs after every testing step; reorder the steps."
            )
    for step in template.steps:
        tool = get_tool(step.tool)
        if step.type not in tool.step_types:
            raise TemplateError(
                f"Step {step.id!r} is a {step.type} step but tool {tool.name!r} "
                f"serves {', '.join(sorted(tool.step_types))} steps."
            )
        params = parse_params(tool, step.parameters, where=f"step {step.id}")
        if step.enabled:
            check_names(params, model)


def run_readers(template: Template) -> set[str]:
    """The steps whose tool reads the run (its steps and corrected findings)."""
    return {s.id for s in template.steps if get_tool(s.tool).reads == "run"}


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
                    "optional_dependencies": list(s.optional_dependencies),
                }
                for s in t.steps
            ],
        }
        for t in builtin_templates().values()
    ]
