"""The MCP resources: the semantic model, the list of templates, and each template's
definition, as JSON. The SDK gives a static resource no request context, so the guard checks
every read in a server middleware, where the request (and so the caller) is known: a read is
allowed, refused and audited like any other call."""

from __future__ import annotations

from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.shared.exceptions import MCPError

from chatter.api.mcp.calls import blocking
from chatter.api.mcp.catalog import authorize_model_read
from chatter.api.mcp.host import McpHost
from chatter.context import Context
from chatter.errors import ChatterError
from chatter.governance.permissions import workflow_resources
from chatter.sensitive import redact_text
from chatter.services import Services
from chatter.workflow.template import describe_templates, get_template

MODEL_URI = "chatter://semantic-model"
TEMPLATES_URI = "chatter://templates"
TEMPLATE_PREFIX = f"{TEMPLATES_URI}/"
#: JSON-RPC's server range: the caller may not read it (the data names the chatter code).
REFUSED = -32003


def register_resources(server: MCPServer, host: McpHost) -> None:
    services = host.services

    @server.resource(
        MODEL_URI,
        name="semantic-model",
        description="The semantic model: tables, dimensions, measures and joins.",
        mime_type="application/json",
    )
    def semantic_model() -> dict[str, Any]:
        return services.model(host.base.semantic_model).model_dump(mode="json")

    @server.resource(
        TEMPLATES_URI,
        name="templates",
        description="The workflow templates with their steps.",
        mime_type="application/json",
    )
    def templates() -> dict[str, Any]:
        return {"templates": describe_templates()}

    @server.resource(
        TEMPLATE_PREFIX + "{name}",
        name="template",
        description="One workflow template's definition: steps, tools, parameters.",
        mime_type="application/json",
    )
    def template(name: str) -> dict[str, Any]:
        try:
            return get_template(name).model_dump(mode="json")
        except ChatterError as err:
            raise ResourceNotFoundError(f"{err.code}: {redact_text(err.message)}") from None

    async def guard_reads(
        ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method == "resources/read":
            uri = str((ctx.params or {}).get("uri", ""))[:512]
            caller = host.caller(ctx)
            await blocking(
                lambda: authorize_read(host.services, host.context(caller), uri),
                fail=lambda err: MCPError(REFUSED, f"{err.code}: {redact_text(err.message)}"),
            )
        return await call_next(ctx)

    server.middleware.append(guard_reads)


def authorize_read(services: Services, ctx: Context, uri: str) -> None:
    """The guard's word on reading ``uri`` (an unknown one is the SDK's to refuse)."""
    if uri == MODEL_URI:
        authorize_model_read(services, ctx, action="model.read")
    elif uri == TEMPLATES_URI or uri.startswith(TEMPLATE_PREFIX):
        name = uri.removeprefix(TEMPLATE_PREFIX) if uri != TEMPLATES_URI else "*"
        services.guard.authorize(
            ctx, "read", workflow_resources(name or "*"), action="workflow.describe"
        )
