"""Runtime context: who is asking and against which data. Travels with a run, never with a
compiled graph, so one cached graph serves every user."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatter.semantic.model import SemanticModel, load_model
from chatter.semantic.query import Filter
from chatter.semantic.warehouse import Warehouse, open_warehouse
from chatter.settings import Settings, get_settings


@dataclass(kw_only=True, frozen=True)
class Context:
    user: str = "local"
    role: str = "analyst"
    tenant: str | None = None
    database: Path | None = None  # None: CHATTER_DATABASE, else the embedded demo
    semantic_model: Path | None = None  # None: CHATTER_SEMANTIC_MODEL, else the packaged saas
    use_cache: bool = True
    scope: tuple[Filter, ...] = field(default=())
    # What routing rules may look at besides user and role (e.g. {"user_tier": "premium"}).
    attributes: dict[str, Any] = field(default_factory=dict)


def resolve_database(database: Path | None, settings: Settings) -> Path:
    """The database to use; the embedded demo is generated on first use."""
    chosen = database or settings.database
    if chosen is not None:
        return Path(chosen).expanduser()
    from chatter.demo import ensure_demo_database

    return ensure_demo_database(settings.demo_database, settings.demo_users, settings.demo_seed)


def resolve_model(path: Path | None, settings: Settings) -> SemanticModel:
    return load_model(path or settings.semantic_model)


def open_context_warehouse(ctx: Context, settings: Settings | None = None) -> Warehouse:
    """A Warehouse for the context's database, model, cache choice and data scope."""
    settings = settings or get_settings()
    model = resolve_model(ctx.semantic_model, settings)
    database = resolve_database(ctx.database, settings)
    return open_warehouse(
        database,
        model,
        cache_dir=settings.cache_dir if ctx.use_cache else None,
        timeout_s=settings.query_timeout_s,
        row_cap=settings.row_cap,
        ttl_s=settings.cache_ttl_s,
        schema_ttl_s=settings.schema_cache_ttl_s,
        entry_max_bytes=settings.cache_entry_max_bytes,
        size_limit=settings.cache_size_limit_bytes,
        scope=ctx.scope,
    )


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
        database=Path(str(database)) if database else None,
        semantic_model=Path(str(model)) if model else None,
        use_cache=bool(data.get("use_cache", True)),
        scope=filters,
        attributes=dict(attributes)
        if isinstance(attributes := data.get("attributes"), dict)
        else {},
    )
