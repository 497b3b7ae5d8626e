"""What the OpenAPI document says beyond the routes' signatures: the error body every 4xx
carries, why each status happens, and the media types of streams and exports. Routes pick
their statuses with ``errors(...)``; routers add ``errors(401)`` for the bearer key;
``install_openapi`` finishes the document (free-form JSON values, query parameters)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from chatter.api.schemas import ChatResponse


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """``{"error": {"code", "message"}}``, as ``chatter.api.errors.error_body`` makes it."""

    error: ErrorDetail


Responses = dict[int | str, dict[str, Any]]

_WHY = {
    400: "A value the schema cannot check (an unknown name, a bad time, a body that is not JSON).",
    401: "No API key, or an unknown one: send `Authorization: Bearer <api key>`.",
    403: "The caller's role or grants do not allow it.",
    404: "No such session, message or run of the caller's.",
    409: "The run (or the database) is not in a state that allows it.",
    413: "The request body is over the size limit.",
    422: "The request does not match this schema, or it holds something that looks like a secret.",
    429: "Over a rate limit; `Retry-After` says when to try again.",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
}
#: A refused question is still a turn of the session: its body is the chat response (session
#: and message ids, ``error``) unless the request never reached the analyst.
_REFUSALS = (403, 422, 429)


def errors(*statuses: int, refusals: bool = False) -> Responses:
    """The error responses ``statuses``, each with the error body (``refusals``: 403, 422 and
    429 may instead be a chat response carrying ``error``)."""
    found: Responses = {}
    for status in statuses:
        model: Any = ErrorBody | ChatResponse if refusals and status in _REFUSALS else ErrorBody
        found[status] = {"model": model, "description": _WHY[status]}
        if status in _HEADERS:
            found[status]["headers"] = _HEADERS[status]
    return found


#: The chat answer as server-sent events, when the request asks ``Accept: text/event-stream``.
STREAM: Responses = {
    200: {
        "description": "The answer (JSON), or with `Accept: text/event-stream` a stream of "
        "`progress` events, then one `answer` (or `error`) event.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}

#: An answer's table in the format asked for.
EXPORT: Responses = {
    200: {
        "description": "The table as a file (Content-Disposition: attachment).",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {"type": "array", "items": {"type": "object"}},
                    },
                    "required": ["columns", "rows"],
                }
            },
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

#: Metrics as JSON, or Prometheus' text format with ``format=prometheus``.
METRICS: Responses = {
    200: {
        "description": "A snapshot (JSON), or with `format=prometheus` the text exposition format.",
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}

#: The free-form values of request bodies (``chatter.api.schemas.JsonValue``).
JSON_VALUE: dict[str, Any] = {
    "description": "Any JSON value whose numbers fit in a 64-bit integer.",
    "anyOf": [
        {"type": "string"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "number", "minimum": -(2**63), "maximum": 2**63 - 1},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}},
    ],
}


#: What the bearer-guarded caller dependency (``chatter.api.deps.caller``) answers on every
#: route it guards: no key, or a query parameter the route does not take.
_CALLER_ERRORS = (401, 422)


def install_openapi(app: FastAPI) -> None:
    """Finish ``app``'s document when it is first built: add the JsonValue component, drop
    ``null`` from query parameters (a query string cannot carry one: leave the parameter out)
    and document the caller dependency's 401 and 422 on every route it guards."""
    build = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["JsonValue"] = JSON_VALUE
        schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template=_REF)).pop(
            "$defs", None
        )
        schemas.setdefault("ErrorDetail", ErrorDetail.model_json_schema())
        for item in doc.get("paths", {}).values():
            for operation in item.values():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "query":
                        _drop_null(parameter["schema"])
                if "security" in operation:
                    for status in _CALLER_ERRORS:
                        operation["responses"].setdefault(str(status), _error_response(status))
        return doc

    app.openapi = document  # type: ignore[method-assign]


_REF = "#/components/schemas/{model}"


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _WHY[status],
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def _drop_null(schema: dict[str, Any]) -> None:
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if "anyOf" in schema and len(options) == 1:
        del schema["anyOf"]
        schema.update(options[0])
    elif "anyOf" in schema:
        schema["anyOf"] = options
