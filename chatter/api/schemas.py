"""Request and response bodies. Requests forbid unknown fields and bound every size, so a
typo or a hostile body is a 422 naming the field, never a surprise downstream."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

SessionId = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
_INT64 = 2**63
_MAX_DEPTH = 64
#: A free-form value (refinement params, customizations, filters) as the OpenAPI document
#: describes it: any JSON whose numbers fit in 64 bits, the part of ``_storable`` a schema can
#: say. ``chatter.api.openapi`` adds the component.
JsonValue = Annotated[Any, WithJsonSchema({"$ref": "#/components/schemas/JsonValue"})]


def _storable(value: Any) -> None:
    """Refuse what JSON can spell but nothing downstream can store or send back: nesting
    deeper than _MAX_DEPTH, a lone surrogate (``"\\ud800"``) in a string or key, an integer
    beyond 64 bits, a number that overflows a float (``1e400`` reads as infinity). Free-form
    fields (refinement params, customizations, filter values) would otherwise carry them to a
    500."""
    todo = [(value, 0)]
    while todo:  # a loop, not recursion: the parser allows nesting ~900 deep
        item, depth = todo.pop()
        if depth > _MAX_DEPTH:
            raise ValueError(f"nesting must be at most {_MAX_DEPTH} deep")
        if isinstance(item, dict):
            todo.extend((k, depth + 1) for k in item)
            todo.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            todo.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text must be valid Unicode (no lone surrogates)") from None
        elif isinstance(item, int) and not isinstance(item, bool) and not -_INT64 <= item < _INT64:
            raise ValueError("integers must fit in 64 bits")
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _only_storable(cls, value: Any) -> Any:
        _storable(value)
        return value


class ChatQuery(Request):
    message: str = Field(min_length=1, max_length=4000)
    session_id: str | None = SessionId


class Refine(Request):
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    #: The answer to refine; default the session's latest answer that has a query.
    message_id: str | None = SessionId
    type: Literal["add_filter", "change_limit", "add_columns", "change_sort", "simplify"]
    params: dict[str, JsonValue] = Field(default_factory=dict, max_length=10)


class Feedback(Request):
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    message_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    rating: Literal["positive", "negative"]
    comment: str | None = Field(default=None, max_length=2000)


class WorkflowCreate(Request):
    template: str = Field(min_length=1, max_length=200)
    customizations: dict[str, JsonValue] | None = None


class GrantRequest(Request):
    subject: str = Field(min_length=1, max_length=140)
    resource: str = Field(min_length=1, max_length=300)
    level: Literal["none", "read", "execute", "admin"]
    methods: list[Literal["read", "run", "cancel", "grant"]] | None = None
    rate_limit: dict[str, float] | None = None
    expires_at: str | None = Field(default=None, max_length=40)


class ScopeRequest(Request):
    filters: list[dict[str, JsonValue]] = Field(max_length=20)


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
    #: The answer document, as ``chatter ask --json`` prints it and ``chatter.ask`` returns it
    #: (every step's rows cut at CHATTER_API_RESULT_ROWS, ``truncated`` saying so).
    answer: dict[str, Any] | None = None
    #: What the question was understood to ask (CONTRACT section 3), and where it ran.
    interpretation: dict[str, Any] | None = None
    database: str | None = None
    error: dict[str, Any] | None = None
