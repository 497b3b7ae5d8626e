"""chatter: an AI data analyst that answers product questions with tested, multi-step analyses.

The public API (CONTRACT.md section 5). Each call runs over ``services`` when given, else over
the shared services of the data directory (CHATTER_HOME). Heavy modules load on first use, so
importing chatter stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatter.version import __version__

if TYPE_CHECKING:
    from chatter.context import Context
    from chatter.result import Answer, WorkflowResult
    from chatter.services import Services


def _services(services: Services | None) -> Services:
    from chatter.services import shared_services

    return services or shared_services()


def list_templates() -> list[dict[str, Any]]:
    """Template names with their steps and dependencies."""
    from chatter.workflow.template import describe_templates

    return describe_templates()


def build_graph(
    template: str,
    customizations: dict[str, Any] | None = None,
    *,
    semantic_model: Path | None = None,
    services: Services | None = None,
) -> Any:
    """The compiled LangGraph graph of a template (cached); run it with ``invoke`` or
    ``stream``, passing ``context=chatter.Context(...)``."""
    from chatter.workflow.runs import build_graph as _build

    return _build(_services(services), template, customizations, semantic_model=semantic_model)


def run_workflow(
    template: str,
    customizations: dict[str, Any] | None = None,
    *,
    context: Context | None = None,
    services: Services | None = None,
    run_id: str | None = None,
    progress: Any = None,
    **who: Any,
) -> WorkflowResult:
    """Run a template and return its result; ``result.model_dump()`` is the JSON of
    CONTRACT.md section 3. Without ``context``, ``who`` gives its fields (user, role, database,
    semantic_model, use_cache, ...); ``progress`` receives progress events."""
    called = time.time()  # the first call's module loading is part of the caller's wait
    from chatter.workflow.runs import run_workflow as _run

    ctx = _context(context, who)
    return _run(
        _services(services),
        template,
        customizations,
        context=ctx,
        run_id=run_id,
        progress=progress,
        waited_since=called,
    )


def ask(
    question: str,
    *,
    context: Context | None = None,
    services: Services | None = None,
    progress: Any = None,
    **who: Any,
) -> Answer:
    """Answer a question as a one-turn session of the analyst: the same graph as every other
    surface, so ``answer.model_dump()`` is the document ``chatter ask --json`` prints. Without
    ``context``, ``who`` gives its fields (user, role, database, semantic_model, ...)."""
    from chatter.analyst.session import ask_once

    return ask_once(_services(services), question, _context(context, who), progress)


def _context(context: Context | None, who: dict[str, Any]) -> Context:
    from chatter.context import Context

    return context or Context(**who)


def __getattr__(name: str) -> Any:
    if name == "Context":
        from chatter.context import Context

        return Context
    if name == "Services":
        from chatter.services import Services

        return Services
    raise AttributeError(f"module 'chatter' has no attribute {name!r}")


__all__ = [
    "Context",
    "Services",
    "__version__",
    "ask",
    "build_graph",
    "list_templates",
    "run_workflow",
]
