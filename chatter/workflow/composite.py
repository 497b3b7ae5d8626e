"""Composite workflows: several templates as one graph, run one after another (later ones run
when the earlier are done and their insights see every earlier result) or side by side; every
finding goes through the run's one correction, and one insight step speaks for them all."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatter.errors import TemplateError, UnknownTemplateError, invalid_value_from
from chatter.workflow.template import StepSpec, Template, builtin_templates, customize

SEPARATOR = "__"


class CompositeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    templates: tuple[str, ...] = Field(min_length=2, max_length=6)
    mode: Literal["sequential", "parallel"] = "sequential"
    customizations: dict[str, dict[str, Any]] = Field(default_factory=dict)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    correction: Literal["bh", "holm"] = "bh"

    @field_validator("templates")
    @classmethod
    def _distinct(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(names)) != len(names):
            raise ValueError("each template may appear once")
        return names

    @classmethod
    def parse(cls, data: Any) -> CompositeSpec:
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise invalid_value_from(err, "composite") from None


def _prefixed(name: str, step: StepSpec, extra_after: tuple[str, ...]) -> StepSpec:
    return step.model_copy(
        update={
            "id": f"{name}{SEPARATOR}{step.id}",
            "depends_on": tuple(f"{name}{SEPARATOR}{d}" for d in step.depends_on),
            "optional_dependencies": (
                *(f"{name}{SEPARATOR}{d}" for d in step.optional_dependencies),
                *extra_after,
            ),
        }
    )


def compose(spec: CompositeSpec | dict[str, Any]) -> Template:
    """One template holding every component's steps (ids prefixed ``<template>__``), ordered
    or side by side as ``mode`` says, with a single insight step over everything."""
    spec = CompositeSpec.parse(spec)
    known = builtin_templates()
    for name in (*spec.templates, *spec.customizations):
        if name not in known:
            raise UnknownTemplateError(name, known, context="in the composite")
    steps: list[StepSpec] = []
    previous: tuple[str, ...] = ()
    insight: StepSpec | None = None
    for name in spec.templates:
        template = customize(known[name], spec.customizations.get(name))
        own = [s for s in template.steps if s.type != "insight_generation"]
        insight = insight or next(
            (s for s in template.steps if s.type == "insight_generation"), None
        )
        roots = {s.id for s in own if not s.after}
        for step in own:
            after = previous if spec.mode == "sequential" and step.id in roots else ()
            steps.append(_prefixed(name, step, after))
        sinks = {s.id for s in own} - {d for s in own for d in s.after}
        previous = tuple(f"{name}{SEPARATOR}{s}" for s in sorted(sinks))
    if insight is None:
        raise TemplateError("None of the composed templates has an insight step.")
    steps.append(
        StepSpec(
            id="insights",
            type="insight_generation",
            tool=insight.tool,
            description="Ranked insights over every template's findings.",
            parameters=insight.parameters,
            optional_dependencies=tuple(s.id for s in steps),
        )
    )
    return Template(
        name=SEPARATOR.join(("composite", *spec.templates)),
        description="Composite of " + ", ".join(spec.templates) + f" ({spec.mode}).",
        steps=tuple(steps),
        alpha=spec.alpha,
        correction=spec.correction,
    )


def component_names(template_name: str) -> tuple[str, ...]:
    """The templates a run of ``template_name`` is made of: itself, or a composite's parts."""
    head, *parts = template_name.split(SEPARATOR)
    return tuple(parts) if head == "composite" and parts else (template_name,)
