"""What every MCP request passes before its handler: a tool call naming an argument the tool
does not take is refused naming the valid ones (an agent's typo must not be answered as if the
argument were not there), and a tool's error text leaves without the values it quotes and with
secrets redacted; a secret in any other request's parameters is refused and audited."""

from __future__ import annotations

import re
from typing import Any

import anyio.to_thread
from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent

import chatter.sensitive as sensitive
from chatter.api.mcp.host import McpHost
from chatter.errors import ChatterError
from chatter.sensitive import redact_text

#: JSON-RPC's code for invalid parameters.
INVALID_PARAMS = -32602


def register_screening(server: MCPServer, host: McpHost) -> None:
    """Run the screen before every other middleware of ``server``."""

    async def screen(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params or {}
        if ctx.method == "tools/call":
            # A secret in a tool's arguments is the tool's to refuse: through the guard, as
            # the same call over HTTP is, with the same refusal document (ask's included).
            _check_argument_names(server, params)
            return _redacted(await call_next(ctx))
        if sensitive.scan(params):
            await _refuse_secret(host, ctx, params)
        return await call_next(ctx)

    server.middleware.insert(0, screen)


async def _refuse_secret(host: McpHost, ctx: ServerRequestContext[Any, Any], params: Any) -> None:
    """Audit the refusal as the caller's (when one is known) and raise the MCP error."""
    reason = sensitive.describe(sensitive.scan(params))
    try:
        who = host.context(host.caller(ctx))
    except ChatterError:  # no caller: nothing to audit it under, still refused
        raise MCPError(INVALID_PARAMS, f"sensitive_content: {reason}") from None
    try:
        await anyio.to_thread.run_sync(
            lambda: host.services.guard.refuse_secrets(
                who, action=f"mcp.{ctx.method}", params=params
            )
        )
    except ChatterError as err:
        raise MCPError(INVALID_PARAMS, f"{err.code}: {redact_text(err.message)}") from None


def _check_argument_names(server: MCPServer, params: Any) -> None:
    name = str(params.get("name", ""))[:128]
    schema = server._tool_input_schema(name)  # the SDK's own lookup (None: its error follows)
    arguments = params.get("arguments") or {}
    if schema is None or not isinstance(arguments, dict):
        return
    known = set(schema.get("properties", {}))
    unknown = sorted(redact_text(str(a))[:64] for a in arguments if a not in known)
    if unknown:
        raise MCPError(
            INVALID_PARAMS,
            f"invalid_arguments: tool {name!r} takes no argument {', '.join(map(repr, unknown))}"
            f" (it takes: {', '.join(sorted(known)) or 'none'}).",
        )


#: What pydantic's messages add that a caller does not need: the refused value itself (the
#: caller's data) and a link to pydantic's documentation.
_VALUE_QUOTED = re.compile(r"input_value=.*?, (?=input_type=)", flags=re.DOTALL)
_DOCS_LINK = re.compile(r"\s*For further information visit \S+")


def readable(text: str) -> str:
    """An error text without the values it quotes from the request, secrets redacted."""
    return redact_text(_DOCS_LINK.sub("", _VALUE_QUOTED.sub("", text)))


def _redacted(result: HandlerResult) -> HandlerResult:
    """A tool's error text, made readable (its own messages are already; the SDK's
    argument-validation messages quote the values they refused). The handler's result is a
    model or, serialized already, a dict."""
    if isinstance(result, CallToolResult) and result.is_error:
        content = [
            TextContent(type="text", text=readable(block.text))
            if isinstance(block, TextContent)
            else block
            for block in result.content
        ]
        return result.model_copy(update={"content": content})
    if isinstance(result, dict) and result.get("isError"):
        blocks = result.get("content") or []
        return {
            **result,
            "content": [
                {**b, "text": readable(str(b.get("text", "")))}
                if isinstance(b, dict) and b.get("type") == "text"
                else b
                for b in blocks
            ],
        }
    return result
