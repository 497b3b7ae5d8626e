"""Settings read from ``CHATTER_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("chatter", appauthor=False))


class Settings(BaseSettings):
    """Everything configurable, with the defaults a first run uses."""

    model_config = SettingsConfigDict(env_prefix="CHATTER_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Data directory.")
    database: Path | str | None = Field(
        default=None, description="Default --database: a DuckDB file or a postgresql:// URL."
    )
    semantic_model: Path | None = Field(default=None, description="Default --semantic-model.")
    routing_rules: Path | None = Field(default=None, description="YAML/JSON routing rules.")
    today: dt.date | None = Field(
        default=None, description="Today's date for relative time windows (default: the clock)."
    )
    snapshot_date: dt.date | None = Field(
        default=None,
        description="Observation end of time-dependent analyses (default: the data's latest "
        "date on or before today).",
    )
    demo_users: int = Field(default=100_000, ge=1, description="Size of the embedded demo.")
    demo_seed: int = Field(default=42, description="Seed of the embedded demo.")
    query_timeout_s: float = Field(default=120.0, gt=0, description="Per-query time limit.")
    step_timeout_s: float = Field(default=600.0, gt=0, description="Per-step time limit.")
    # DuckDB already spreads one big query over every core, so steps that each scan the data
    # run faster one or two at a time than all at once on a small machine (see bench/).
    max_parallel_steps: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2),
        ge=1,
        description="Steps that query at the same time.",
    )
    graph_cache_size: int = Field(default=64, ge=1, description="Compiled graphs kept.")
    warehouse_pool_size: int = Field(
        default=32, ge=1, description="Warehouses (database, model and data scope) kept open."
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Model name for the optional LLM.")
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    row_cap: int = Field(default=10_000, ge=1, description="Rows a query may return.")
    duckdb_memory_limit: str | None = Field(default="1GB", description="DuckDB memory cap.")
    duckdb_threads: int | None = Field(default=None, ge=1, description="DuckDB threads.")
    cache_ttl_s: float = Field(default=1800.0, gt=0, description="Result cache time to live.")
    schema_cache_ttl_s: float = Field(default=86_400.0, gt=0)
    cache_entry_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    cache_size_limit_bytes: int = Field(default=1024**3, ge=1024 * 1024)
    log_level: str = Field(default="warning", description="debug, info, warning or error.")
    api_keys: Path | None = Field(default=None, description="JSON file of API keys.")
    session_ttl_s: float = Field(default=86_400.0, gt=0, description="Idle chat session expiry.")
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Request cap.")
    api_result_rows: int = Field(default=1000, ge=1, description="Rows a chat answer carries.")
    api_shutdown_grace_s: float = Field(
        default=20.0,
        ge=0,
        le=3600,
        description="At a graceful stop, how long steps going on may take to finish; then "
        "their queries are interrupted and unfinished runs resume at the next start.",
    )
    api_workers: int = Field(default=4, ge=1, description="Workflow runs at once in the API.")
    serve_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Worker processes of `chatter serve` (default of --workers); more than one "
        "needs state_url=postgresql://..., so rate limits, metrics and runs are shared.",
    )
    http_keep_alive_s: int = Field(
        default=5, ge=1, le=3600, description="An idle keep-alive connection is closed after this."
    )
    http_header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="A request's line and headers must arrive within this of the connection "
        "opening (or of the previous response); a slower client is disconnected.",
    )
    http_max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Most bytes of a request line and headers buffered while they arrive "
        "(a head growing past this is refused with 400).",
    )
    http_max_connections: int | None = Field(
        default=None,
        ge=1,
        description="Open connections (and requests in flight) per worker; more get 503 "
        "(default: half the open-file limit, at most 1000).",
    )
    state_pool_size: int = Field(
        default=4,
        ge=1,
        le=100,
        description="Most connections each PostgreSQL store keeps per worker process (about "
        "eight stores: mind the server's max_connections times the workers).",
    )
    state_connect_timeout_s: int = Field(
        default=5, ge=1, le=300, description="How long to wait for the PostgreSQL state server."
    )
    state_url: SecretStr | None = Field(
        default=None,
        description="Where sessions, runs, audit, grants, rate limits, metrics and checkpoints "
        "live: unset for SQLite under home, or postgresql://... shared by several workers "
        "(secret: it may hold a password).",
    )

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def demo_database(self) -> Path:
        return self.home / "demo.duckdb"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
