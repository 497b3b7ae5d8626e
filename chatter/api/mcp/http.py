"""MCP over streamable HTTP at ``/mcp`` of ``chatter serve``, behind the API's bearer keys.

Every request is checked against the key ring before the SDK sees it (a missing or unknown key
is the API's own 401 JSON error), and its caller rides on the request's ASGI scope: a tool
reads it from the HTTP request the SDK hands it (a context variable set here would not reach
the tool, which runs in the session manager's task group). Sessions are stateless, so any
worker of ``chatter serve --workers N`` can answer any request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from mcp.server import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from chatter.api.deps import ApiState, bearer, principal
from chatter.api.keys import Principal
from chatter.api.mcp.host import McpHost
from chatter.api.mcp.server import build_server
from chatter.errors import NotAuthenticatedError
from chatter.services import Services

MCP_PATH = "/mcp"
#: The ASGI scope key of the request's caller (set by McpEndpoint, read by the tools).
CALLER_KEY = "chatter.caller"


def mount_mcp(app: FastAPI, services: Services, api: ApiState) -> None:
    """Serve the MCP tools at ``/mcp``; ``mcp_sessions(app)`` must run in the app's lifespan."""
    server = build_server(McpHost(services, api, caller_of=_caller_of_request))
    app.state.mcp = server
    # A route, not a mount: a mount would answer /mcp with a redirect to /mcp/.
    app.router.routes.append(Route(MCP_PATH, McpEndpoint(server), include_in_schema=False))


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

    def __init__(self, server: MCPServer) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        # The API's own check: 401 in the API's error body (the app's handler answers it).
        who = principal(request, await bearer(request))
        await self.server.session_manager.handle_request({**scope, CALLER_KEY: who}, receive, send)


def _caller_of_request(context: ServerRequestContext[Any, Any]) -> Principal:
    request = context.request
    found = getattr(request, "scope", {}).get(CALLER_KEY)
    if not isinstance(found, Principal):  # only a request that passed McpEndpoint has one
        raise NotAuthenticatedError("Missing API key: send 'Authorization: Bearer <api key>'.")
    return found
