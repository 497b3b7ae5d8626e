"""MCP over streamable HTTP at ``/mcp`` of ``chatter serve``, behind the API's bearer keys.

Every request is checked against the key ring before the SDK sees it (a missing or unknown key
is the API's own 401 JSON error), and its caller rides on the request's ASGI scope: a tool
reads it from the HTTP request the SDK hands it (a context variable set here would not reach
the tool, which runs in the session manager's task group). Sessions are stateless, so any
worker of ``chatter serve --workers N`` can answer any request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mcp.server import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

import chatter.sensitive as sensitive
from chatter.api.deps import ApiState, bearer, principal
from chatter.api.errors import error_body
from chatter.api.keys import Principal
from chatter.api.mcp.host import McpHost
from chatter.api.mcp.screening import INVALID_PARAMS
from chatter.api.mcp.server import build_server
from chatter.errors import ChatterError, NotAuthenticatedError
from chatter.sensitive import redact_text
from chatter.services import Services

MCP_PATH = "/mcp"
#: The ASGI scope key of the request's caller (set by McpEndpoint, read by the tools).
CALLER_KEY = "chatter.caller"


def mount_mcp(app: FastAPI, services: Services, api: ApiState) -> None:
    """Serve the MCP tools at ``/mcp``; ``mcp_sessions(app)`` must run in the app's lifespan."""
    host = McpHost(services, api, caller_of=_caller_of_request)
    server = build_server(host)
    app.state.mcp = server
    # A route, not a mount: a mount would answer /mcp with a redirect to /mcp/.
    app.router.routes.append(Route(MCP_PATH, McpEndpoint(server, host), include_in_schema=False))


@asynccontextmanager
async def mcp_sessions(app: FastAPI) -> AsyncIterator[None]:
    """The SDK's session manager, for as long as the app runs. Made at each start: one
    manager runs once, and an app may be started again (tests do)."""
    server: MCPServer = app.state.mcp
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        # The SDK's DNS-rebinding check (Host and Origin headers) guards servers that trust
        # any local caller; here every request carries an API key a rebinding page lacks,
        # and the host chatter serve listens on is its own choice.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    async with server.session_manager.run():
        yield


class McpEndpoint:
    """The ASGI app of ``/mcp``: the caller of the bearer key, then the SDK."""

    def __init__(self, server: MCPServer, host: McpHost) -> None:
        self.server = server
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        # The API's own check: 401 in the API's error body (the app's handler answers it).
        who = principal(request, await bearer(request))
        if request.method == "GET":
            # The stream a GET opens carries messages the server starts; stateless, it has
            # none, and the stream would stay open for nothing (the spec allows a 405).
            await _method_not_allowed(scope, receive, send)
            return
        body = await request.body()  # the app's body limit applies (413 past it)
        # A message the SDK cannot read (a malformed JSON-RPC request) is answered with a
        # validation error that quotes it: one holding a secret is refused here, audited. A
        # well-formed one goes on; its tools refuse secrets through the guard.
        found = [] if _well_formed(body) else sensitive.scan(body.decode("utf-8", "replace"))
        if found:
            await _refuse_secret(self.host, who, body, found, scope, receive, send)
            return
        await self.server.session_manager.handle_request(
            {**scope, CALLER_KEY: who}, _replay(body, receive), send
        )


def _well_formed(body: bytes) -> bool:
    """A JSON-RPC message (or batch) whose method is a string and whose params, when given,
    an object: the shape the SDK reads without quoting it back."""
    try:
        message = json.loads(body)
    except ValueError:
        return False
    messages = message if isinstance(message, list) else [message]
    return all(
        isinstance(m, dict)
        and isinstance(m.get("method", ""), str)
        and isinstance(m.get("params", {}), dict)
        for m in messages
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the SDK the body already read, then the client's own messages (a
    disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse_secret(
    host: McpHost,
    who: Principal,
    body: bytes,
    found: list[Any],
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    request_id = message.get("id") if isinstance(message, dict) else None
    try:
        await anyio.to_thread.run_sync(
            lambda: host.services.guard.refuse_secrets(
                host.context(who), action="mcp.request", params=body.decode("utf-8", "replace")
            )
        )
        reason = f"sensitive_content: {sensitive.describe(found)}"
    except ChatterError as err:
        reason = f"{err.code}: {redact_text(err.message)}"
    error = {"code": INVALID_PARAMS, "message": reason}
    response = JSONResponse(
        {"jsonrpc": "2.0", "id": request_id if isinstance(request_id, int | str) else None,
         "error": error},
        status_code=422,
    )  # fmt: skip
    await response(scope, receive, send)


async def _method_not_allowed(scope: Scope, receive: Receive, send: Send) -> None:
    body = error_body(
        "method_not_allowed",
        "GET /mcp opens no stream: this server starts no messages; POST JSON-RPC requests.",
    )
    response = JSONResponse(body, status_code=405, headers={"Allow": "POST, DELETE"})
    await response(scope, receive, send)


def _caller_of_request(context: ServerRequestContext[Any, Any]) -> Principal:
    request = context.request
    found = getattr(request, "scope", {}).get(CALLER_KEY)
    if not isinstance(found, Principal):  # only a request that passed McpEndpoint has one
        raise NotAuthenticatedError("Missing API key: send 'Authorization: Bearer <api key>'.")
    return found
