"""How a tool does its work: off the event loop (stores, warehouses and runs block), with a
chatter error turned into the tool's error: an ``isError`` result whose message is the error's
code and message (which names the bad item and the valid choices), secrets redacted, never a
traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent

from chatter.errors import ChatterError
from chatter.sensitive import redact_text

T = TypeVar("T")


def tool_error(err: ChatterError) -> ToolError:
    return ToolError(f"{err.code}: {redact_text(err.message)}")


async def blocking(
    work: Callable[[], T], *, fail: Callable[[ChatterError], Exception] = tool_error
) -> T:
    """``work()`` in a worker thread; a ChatterError it raises becomes ``fail(error)`` (by
    default the tool's error)."""
    try:
        return await anyio.to_thread.run_sync(work)
    except ChatterError as err:
        raise fail(err) from None


def tool_result(document: dict[str, Any], text: str, *, error: bool = False) -> CallToolResult:
    """``document`` as structured content, with ``text`` for clients that read only text."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=json.loads(json.dumps(document, default=str)),
        is_error=error,
    )
