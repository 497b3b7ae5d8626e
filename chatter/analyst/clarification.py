"""The one place the analyst asks back: the question it asks when it cannot read a message or
is unsure of the route, and that question as an answer (workflow ``clarify``) with the
options a reply may pick."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from chatter.result import Answer, Insight, Interpretation, Route
from chatter.semantic.model import SemanticModel


def options(templates: Mapping[str, Any]) -> list[str]:
    """What a reply may pick when the route is unclear: a template, or one query."""
    return [*templates, "query"]


def unsure_route(templates: Mapping[str, Any], best: Route) -> str:
    """The question for a route below the confidence to answer: what it guessed, and what it
    can do instead."""
    lines = [
        f"I'm not sure what you need (best guess: {best.workflow}, "
        f"confidence {best.confidence:.2f}). I can:"
    ]
    lines += [f"- run {name}: {t.description}" for name, t in templates.items()]
    lines.append('- answer one query, e.g. "conversion rate by plan" or "MRR by month"')
    return "\n".join(lines)


def unreadable(message: str, model: SemanticModel, templates: Mapping[str, Any]) -> str:
    """The question for a message the analyst could not read: why, and what it answers."""
    measures = ", ".join(model.measure_names()[:12])
    dimensions = ", ".join(model.dimension_names()[:10])
    examples = [
        *(t.questions[0] for t in templates.values() if t.questions),
        "conversion rate by industry",
        "MRR by month",
    ]
    return (
        f"{message} I answer questions about your data: measures such as {measures}, "
        f"by dimensions such as {dimensions}; and deep dives ({', '.join(templates)}"
        "). For example: " + "; ".join(f'"{e}"' for e in examples) + "."
    )


def unknown_value(message: str) -> str:
    """The question for a value the data does not have: what is not there, what is."""
    return f"{message} Which one did you mean? (Or rephrase the question.)"


def clarification(
    question: str,
    choices: list[str],
    guess: Route,
    *,
    interpretation: Interpretation | None = None,
    database: str | None = None,
) -> Answer:
    """The question back as an answer: nothing ran; ``guess`` is the route it was unsure of;
    ``interpretation`` what was read of the question so far."""
    return Answer(
        workflow="clarify",
        run_id=uuid.uuid4().hex,
        status="completed",
        insights=[Insight(text=question)],
        route=Route(workflow="clarify", confidence=guess.confidence, reason=guess.reason),
        text=question,
        clarification=True,
        options=choices,
        interpretation=interpretation,
        database=database,
    )
