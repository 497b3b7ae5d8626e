"""The MCP server: chatter's tools and resources over stdio (``chatter mcp``) and streamable
HTTP (``/mcp`` of ``chatter serve``), behind the same guard and audit log as the HTTP API."""

from chatter.api.mcp.host import McpHost
from chatter.api.mcp.server import build_server

__all__ = ["McpHost", "build_server"]
