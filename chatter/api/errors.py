"""Every failure as ``{"error": {"code", "message"}}``: the caller's mistakes are 4xx with a
message naming the bad item; a 500 only ever means a bug, and says so without a traceback."""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatter.errors import ChatterError, RateLimitedError
from chatter.logs import get_logger
from chatter.sensitive import redact_text

log = get_logger(__name__)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    # A message may quote the caller's input, lone surrogates and all: keep it encodable.
    message = message.encode("utf-8", "replace").decode("utf-8")
    return {"error": {"code": code, "message": message}}


def retry_after(seconds: float) -> dict[str, str]:
    """The ``Retry-After`` header: whole seconds, at least 1."""
    return {"Retry-After": str(max(1, round(seconds)))}


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_message(err: RequestValidationError) -> str:
    problems = []
    for item in err.errors()[:5]:
        if item.get("type") == "json_invalid":
            problems.append("the body is not valid JSON")
            continue
        problems.append(f"{_location(tuple(item.get('loc', ())))}: {item.get('msg', 'invalid')}")
    return redact_text("Invalid request: " + "; ".join(problems) + ".")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ChatterError)
    async def chatter_error(request: Request, err: ChatterError) -> JSONResponse:
        status = err.http_status if err.bad_input else 500
        headers = None
        if isinstance(err, RateLimitedError):
            headers = retry_after(err.retry_after_s)
        if err.code == "not_authenticated":
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(
            error_body(err.code, redact_text(err.message)), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", validation_message(err)), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        code = codes.get(err.status_code, "http_error")
        detail = redact_text(str(err.detail))  # it may quote the path: never a secret back
        if err.status_code == 400 and "parsing the body" in detail:
            # FastAPI's word for a body it cannot decode (bad UTF-8, nesting past its limit).
            code, detail = "invalid_request", "Invalid request: the body cannot be decoded as JSON."
        return JSONResponse(
            error_body(code, detail),
            err.status_code,
            headers=getattr(err, "headers", None),
        )

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg_pool.PoolTimeout)
    async def state_down(request: Request, err: Exception) -> JSONResponse:
        # The shared state's server went away (or is saturated) while serving: not a bug of
        # the request, and over as soon as it is back.
        log.error("state_unavailable", path=request.url.path, error=type(err).__name__)
        return JSONResponse(
            error_body(
                "state_unavailable",
                "The shared state database (CHATTER_STATE_URL) is unavailable; try again.",
            ),
            503,
            headers=retry_after(5.0),
        )

    @app.exception_handler(Exception)
    async def bug(request: Request, err: Exception) -> JSONResponse:
        log.error("api_internal_error", path=request.url.path, exc_info=True)
        return JSONResponse(
            error_body("internal", f"Internal error ({type(err).__name__}); it is logged."), 500
        )


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with a 413, whether the client declares the length
    or streams it chunked: nothing past the limit is read into memory."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # the exception middleware answers 413
                    raise StarletteHTTPException(413, self._message())
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> str:
        return f"The request body is over {self.limit:,} bytes."

    async def _refuse(self, send: Send) -> None:
        body = JSONResponse(error_body("body_too_large", self._message()), 413)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(k.encode(), v.encode()) for k, v in body.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": body.body})
