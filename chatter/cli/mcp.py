"""``chatter mcp``: the MCP tools over stdio, for Claude Desktop and other MCP clients."""

from __future__ import annotations

import os

from chatter.cli.application import (
    DatabaseOpt,
    ModelOpt,
    NoCacheOpt,
    UserOpt,
    caller_context,
    guarded,
    open_services,
)


def mcp(
    database: DatabaseOpt = None,
    semantic_model: ModelOpt = None,
    user: UserOpt = "local",
    no_cache: NoCacheOpt = False,
) -> None:
    """Serve the MCP tools over stdio (stdout carries only the protocol; logs go to stderr).
    The caller is CHATTER_API_KEY's user when it is set, else --user."""

    def run() -> None:
        from chatter.api.mcp.stdio import serve_stdio, stdio_caller

        base = caller_context(user, database, semantic_model, no_cache)
        with open_services() as services:
            keys, caller = stdio_caller(services, base, os.environ.get("CHATTER_API_KEY"))
            serve_stdio(services, keys, caller, base)

    guarded(False, run)
