"""chatter: an AI data analyst that answers product questions with tested, multi-step analyses.

The public API (CONTRACT.md section 5). Heavy modules load on first use, so importing chatter
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from chatter.result import WorkflowResult


def list_templates() -> list[dict[str, Any]]:
    """Template names with their steps and dependencies."""
    from chatter.workflow.template import describe_templates

    return describe_templates()


def build_graph(
    template: str,
    customizations: dict[str, Any] | None = None,
    *,
    semantic_model: Path | None = None,
) -> Any:
    """The compiled LangGraph graph of a template (cached); run it with ``invoke`` or
    ``stream``, passing ``context=chatter.Context(...)``."""
    from chatter.workflow.runs import build_graph as _build

    return _build(template, customizations, semantic_model=semantic_model)


def run_workflow(
    template: str,
    customizations: dict[str, Any] | None = None,
    *,
    user: str = "local",
    **options: Any,
) -> WorkflowResult:
    """Run a template and return its result; ``result.model_dump()`` is the JSON of
    CONTRACT.md section 3. Options: role, database, semantic_model, use_cache, run_id,
    progress (a callable receiving progress events)."""
    from chatter.workflow.runs import run_workflow as _run

    return _run(template, customizations, user=user, **options)


def __getattr__(name: str) -> Any:
    if name == "Context":
        from chatter.context import Context

        return Context
    raise AttributeError(f"module 'chatter' has no attribute {name!r}")


__all__ = ["Context", "__version__", "build_graph", "list_templates", "run_workflow"]
