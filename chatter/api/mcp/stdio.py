"""MCP over stdio (``chatter mcp``): the same tools as ``/mcp`` for one caller, fixed when the
process starts: the user of ``CHATTER_API_KEY`` in the key ring when it is set, else the
command line's ``--user`` with the command line's default role (as ``chatter ask`` runs).

There is no app here, so this module makes what the app would: the API state (keys,
conversations, the background-run pool) and, at the end, the graceful stop that lets
unfinished runs go so the next server resumes them. The SDK keeps stdout for the protocol
while it serves (stray output goes to stderr, like the logs)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import anyio

from chatter.analyst.graph import durable_analyst
from chatter.analyst.session import ChatSession
from chatter.api.background import stop_gracefully
from chatter.api.conversation import Conversations
from chatter.api.deps import ApiState
from chatter.api.keys import KeyRing, Principal, load_keys
from chatter.api.mcp.host import McpHost
from chatter.api.mcp.server import build_server
from chatter.context import Context
from chatter.services import Services


def stdio_caller(
    services: Services, base: Context, api_key: str | None
) -> tuple[KeyRing, Principal]:
    """The key ring and the caller: ``api_key``'s principal (an unknown key is an error), else
    the base context's user and role."""
    if api_key:
        keys = load_keys(services.settings)
        return keys, keys.who(api_key)
    return KeyRing({}), Principal(base.user, base.role)


def serve_stdio(services: Services, keys: KeyRing, caller: Principal, base: Context) -> None:
    """Serve the MCP tools over stdin and stdout until the client closes stdin."""
    settings = services.settings
    api = ApiState(
        keys=keys,
        conversations=_CommandLineConversations(base),
        executor=ThreadPoolExecutor(settings.api_workers, thread_name_prefix="chatter-run"),
    )
    server = build_server(McpHost(services, api, caller_of=lambda _: caller, base=base))
    try:
        anyio.run(server.run_stdio_async)
    finally:
        stop_gracefully(services, api, settings.api_shutdown_grace_s)


class _CommandLineConversations(Conversations):
    """Turns on the command line's data and cache choice (``--database``,
    ``--semantic-model``, ``--no-cache``), which the API's conversations take from the
    settings."""

    def __init__(self, base: Context) -> None:
        super().__init__()
        self._base = base

    def _session(  # type: ignore[override]
        self, services: Services, principal: Principal, session_id: str
    ) -> ChatSession:
        ctx = dataclasses.replace(self._base, user=principal.user, role=principal.role)
        return ChatSession(services, session_id, ctx, durable_analyst(services))
