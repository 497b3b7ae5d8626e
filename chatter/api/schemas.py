"""Request and response bodies. Requests forbid unknown fields and bound every size, so a
typo or a hostile body is a 422 naming the field, never a surprise downstream."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SessionId = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
REFINE_TYPES = ("add_filter", "change_limit", "add_columns", "change_sort", "simplify")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatQuery(Request):
    message: str = Field(min_length=1, max_length=4000)
    session_id: str | None = SessionId


class Refine(Request):
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    #: The answer to refine; default the session's latest answer that has a query.
    message_id: str | None = SessionId
    type: Literal["add_filter", "change_limit", "add_columns", "change_sort", "simplify"]
    params: dict[str, Any] = Field(default_factory=dict, max_length=10)


class Feedback(Request):
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    message_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    rating: Literal["positive", "negative"]
    comment: str | None = Field(default=None, max_length=2000)


class WorkflowCreate(Request):
    template: str = Field(min_length=1, max_length=200)
    customizations: dict[str, Any] | None = None


class GrantRequest(Request):
    subject: str = Field(min_length=1, max_length=140)
    resource: str = Field(min_length=1, max_length=300)
    level: Literal["none", "read", "execute", "admin"]
    methods: list[Literal["read", "run", "cancel", "grant"]] | None = None
    rate_limit: dict[str, float] | None = None
    expires_at: str | None = Field(default=None, max_length=40)


class ScopeRequest(Request):
    filters: list[dict[str, Any]] = Field(max_length=20)


class Table(BaseModel):
    columns: list[str] = Field(default_factory=list)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    #: True when rows were cut: at the query's row cap or at the API's answer cap.
    truncated: bool = False
    row_count: int = 0


class ChatResponse(BaseModel):
    session_id: str
    message_id: str
    message_type: Literal["answer", "clarification", "refusal"]
    content: str
    sql_query: str | None = None
    results: Table = Field(default_factory=Table)
    visualization: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
    insights: list[dict[str, Any]] = Field(default_factory=list)
    suggested_actions: list[str] = Field(default_factory=list)
    route: dict[str, Any] | None = None
    #: The whole workflow result (CONTRACT section 3) when a workflow ran.
    workflow_result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
