"""Runtime context: who is asking and against which data. Travels with a run, never with a
compiled graph, so one cached graph serves every user."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatter.semantic.engines.locator import DatabaseUrl, parse_database
from chatter.semantic.query import Filter


@dataclass(kw_only=True, frozen=True)
class Context:
    user: str = "local"
    role: str = "analyst"
    tenant: str | None = None
    # A DuckDB file or a database URL (text is parsed); None: CHATTER_DATABASE, else the demo.
    database: Path | DatabaseUrl | str | None = None
    semantic_model: Path | None = None  # None: CHATTER_SEMANTIC_MODEL, else the packaged saas
    use_cache: bool = True
    scope: tuple[Filter, ...] = field(default=())
    # What routing rules may look at besides user and role (e.g. {"user_tier": "premium"}).
    attributes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.database is not None:  # a URL keeps its password out of repr and str
            object.__setattr__(self, "database", parse_database(self.database))


def context_to_dict(ctx: Context) -> dict[str, object]:
    """JSON-safe form, for the run store (a resumed run uses the same context)."""
    return {
        "user": ctx.user,
        "role": ctx.role,
        "tenant": ctx.tenant,
        "database": str(ctx.database) if ctx.database else None,
        "semantic_model": str(ctx.semantic_model) if ctx.semantic_model else None,
        "use_cache": ctx.use_cache,
        "scope": [f.model_dump(mode="json") for f in ctx.scope],
        "attributes": dict(ctx.attributes),
    }


def context_from_dict(data: dict[str, object]) -> Context:
    database, model = data.get("database"), data.get("semantic_model")
    scope = data.get("scope")
    filters = tuple(Filter.model_validate(f) for f in scope) if isinstance(scope, list) else ()
    return Context(
        user=str(data.get("user", "local")),
        role=str(data.get("role", "analyst")),
        tenant=str(data["tenant"]) if isinstance(data.get("tenant"), str) else None,
        database=parse_database(str(database)) if database else None,
        semantic_model=Path(str(model)) if model else None,
        use_cache=bool(data.get("use_cache", True)),
        scope=filters,
        attributes=dict(attributes)
        if isinstance(attributes := data.get("attributes"), dict)
        else {},
    )
