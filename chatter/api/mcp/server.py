"""The MCP server of chatter: its tools and resources over one host (services, API state, the
way a request's caller is known), for either transport."""

from __future__ import annotations

import logging

from mcp.server.mcpserver import MCPServer

from chatter.api.mcp.host import McpHost
from chatter.api.mcp.resources import register_resources
from chatter.api.mcp.screening import register_screening
from chatter.api.mcp.tools import register_tools
from chatter.logs import get_logger
from chatter.version import __version__

INSTRUCTIONS = (
    "chatter is a data analyst over a semantic model. describe_model lists the measures, "
    "dimensions and levels; ask answers a question in words (pass session_id back for "
    "follow-ups); query runs one semantic query; list_templates and run_workflow run whole "
    "analyses with statistical tests; get_run reads a run."
)


def build_server(host: McpHost) -> MCPServer:
    root = logging.getLogger()
    before = list(root.handlers)
    server: MCPServer = MCPServer(
        name="chatter",
        title="chatter",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )
    # MCPServer sets up the root logger (a Rich handler on stderr) when nothing did; chatter's
    # logs are JSON lines on stderr, so that handler goes and the SDK's loggers write JSON.
    for added in root.handlers[len(before) :]:
        root.removeHandler(added)
    _log_sdk_as_json()
    register_tools(server, host)
    register_resources(server, host)
    register_screening(server, host)  # first of the middleware: before the guard of reads
    return server


class _JsonLines(logging.Handler):
    """Standard-library records (the SDK's) as chatter's structlog JSON lines."""

    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelname.lower()
        method = level if level in ("debug", "info", "warning", "error", "critical") else "info"
        getattr(get_logger(record.name), method)(record.getMessage(), exc_info=record.exc_info)


def _log_sdk_as_json() -> None:
    sdk = logging.getLogger("mcp")
    if not any(isinstance(h, _JsonLines) for h in sdk.handlers):
        sdk.addHandler(_JsonLines(logging.WARNING))
        sdk.propagate = False
