"""What the MCP tools run on, whichever transport carries them: the data directory's services,
the API's state (keys, conversations, background runs) and how the caller of a request is
known. Over HTTP the caller is the bearer key of each request; over stdio it is fixed when the
process starts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcp.server import ServerRequestContext

from chatter.api.deps import ApiState
from chatter.api.keys import Principal
from chatter.context import Context
from chatter.services import Services

#: The caller of one MCP request (raises NotAuthenticatedError when there is none).
CallerOf = Callable[[ServerRequestContext[Any, Any]], Principal]


@dataclass
class McpHost:
    services: Services
    api: ApiState
    caller_of: CallerOf
    #: What every caller's context starts from: the data and cache choice of the command line
    #: over stdio (``--database``, ``--semantic-model``, ``--no-cache``), the defaults over HTTP.
    base: Context = field(default_factory=Context)

    def caller(self, request: ServerRequestContext[Any, Any]) -> Principal:
        return self.caller_of(request)

    def context(self, caller: Principal) -> Context:
        """The runtime context of ``caller``: who asks, on the host's data."""
        return dataclasses.replace(self.base, user=caller.user, role=caller.role)
