"""Errors of the OpenAI-compatible routes: the API's ``{"error": {"code", "message"}}`` with
the status and headers the API's own handlers give, plus OpenAI's ``type`` and ``param``, so
the official openai client raises its typed error (AuthenticationError, NotFoundError, ...)
with the message."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from chatter.api.errors import error_body, retry_after

#: OpenAI's error type for each status (what its clients and front ends switch on).
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
_NOT_COPIED = {"content-length", "content-type"}


def error_type(status: int) -> str:
    return _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def openai_error_body(
    status: int, code: str, message: str, param: str | None = None
) -> dict[str, dict[str, Any]]:
    body: dict[str, dict[str, Any]] = dict(error_body(code, message))
    body["error"].update(type=error_type(status), param=param)
    return body


def refusal_response(error: dict[str, Any], status: int) -> JSONResponse:
    """A refused turn (permission, rate limit, a secret in the question) as its error status."""
    headers = retry_after(float(error["retry_after_s"])) if "retry_after_s" in error else None
    body = openai_error_body(status, str(error.get("code")), str(error.get("message")))
    return JSONResponse(body, status_code=status, headers=headers)


def _param(err: Exception) -> str | None:
    """The request field at fault, as OpenAI names it (``messages.0.content``)."""
    if isinstance(err, RequestValidationError) and err.errors():
        first = err.errors()[0]
        if first.get("type") == "json_invalid":  # its location is a character position
            return None
        loc = first.get("loc", ())
        named = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
        return ".".join(named) or None
    param = getattr(err, "param", None)
    return param if isinstance(param, str) else None


Handler = Callable[[Request, Exception], Awaitable[Response]]


def _handler_for(request: Request, err: Exception) -> Handler | None:
    handlers: dict[Any, Handler] = request.app.exception_handlers
    return next((handlers[c] for c in type(err).__mro__ if c in handlers), None)


class OpenAIRoute(APIRoute):
    """A route whose errors (its dependencies' included: the bearer key, the body's schema)
    are answered by the app's own handlers, then given OpenAI's ``type`` and ``param``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as err:
                answer = _handler_for(request, err)
                if answer is None:
                    raise
                return _with_openai_fields(await answer(request, err), _param(err))

        return route


def _with_openai_fields(response: Response, param: str | None) -> Response:
    body = json.loads(bytes(response.body))
    error = body.get("error")
    if not isinstance(error, dict):
        return response
    error.update(type=error_type(response.status_code), param=param)
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _NOT_COPIED}
    return JSONResponse(body, status_code=response.status_code, headers=headers)
