"""The MCP tools: each is the HTTP API's path for the same request (the guard, the audit log,
the conversations, the background runs), as the caller of the request.

- ``list_templates``, ``describe_model``: what may be asked;
- ``ask``: a turn in a session (``POST /api/v1/chat/query``'s document);
- ``query``: one semantic query (``chatter query --json``'s document);
- ``run_workflow``: create, execute (to completion, or in the background), status, cancel;
- ``get_run``: a run's status and, once ended, its result.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio
from anyio.from_thread import BlockingPortal
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from chatter.analyst.answer import query_result
from chatter.api import run_access
from chatter.api.deps import ApiState
from chatter.api.keys import Principal
from chatter.api.mcp import catalog
from chatter.api.mcp.calls import blocking, tool_error, tool_result
from chatter.api.mcp.host import McpHost
from chatter.api.schemas import ChatQuery
from chatter.errors import ChatterError
from chatter.logs import get_logger
from chatter.result import Route
from chatter.semantic.model_schema import TimeGrain
from chatter.semantic.query import Filter, OrderBy
from chatter.services import Services
from chatter.stores.runs import ENDED

log = get_logger(__name__)
#: How often a waiting run_workflow looks at its run.
POLL_S = 0.25
#: Rows of a query's table written into its text (the structured content has them all).
TEXT_ROWS = 20

T = TypeVar("T")
Progress = Callable[[dict[str, Any]], None]
Action = Literal["run", "create", "execute", "status", "cancel"]
RunId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def register_tools(server: MCPServer, host: McpHost) -> None:
    """Add the tools to ``server``; each finds its caller through ``host``."""
    services, api = host.services, host.api

    def caller(ctx: Context) -> Principal:
        try:
            return host.caller(ctx.request_context)
        except ChatterError as err:
            raise tool_error(err) from None

    @server.tool(annotations=READ_ONLY)
    async def list_templates(ctx: Context) -> CallToolResult:
        """The workflow templates run_workflow runs, each with its steps (id, type, tool,
        dependencies)."""
        who = caller(ctx)
        found = await blocking(lambda: run_access.templates(services, who))
        lines = [
            f"{t['name']}: {t['description']} (steps: {', '.join(s['id'] for s in t['steps'])})"
            for t in found
        ]
        return tool_result({"templates": found}, "\n".join(lines))

    @server.tool(annotations=READ_ONLY)
    async def describe_model(ctx: Context) -> CallToolResult:
        """The semantic model: its measures, its dimensions and, for string dimensions, their
        levels as the data holds them. The names are what query and ask understand."""
        who = caller(ctx)
        doc = await blocking(lambda: catalog.describe_model(services, host.context(who)))
        lines = [f"Measures: {', '.join(m['name'] for m in doc['measures'])}"]
        for d in doc["dimensions"]:
            levels = f": {', '.join(map(str, d['levels']))}" if d["levels"] else ""
            lines.append(f"Dimension {d['name']} ({d['type']}){levels}")
        return tool_result(doc, "\n".join(lines))

    @server.tool()
    async def ask(
        question: Annotated[
            str, Field(min_length=1, max_length=4000, description="A question, in words.")
        ],
        ctx: Context,
        session_id: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=64,
                pattern=r"^[A-Za-z0-9_-]+$",
                description="Continue this session (follow-ups build on its last answer); "
                "omit for a new one.",
            ),
        ] = None,
    ) -> CallToolResult:
        """Ask the analyst a question about the data; it answers with one semantic query or a
        whole workflow, with its interpretation, table, SQL, findings and follow-ups. The
        document is the chat API's (POST /api/v1/chat/query)."""
        who = caller(ctx)
        body = ChatQuery(message=question, session_id=session_id)
        reply = await _with_progress(
            ctx, lambda note: api.conversations.turn(services, who, body, progress=note)
        )
        doc = reply.model_dump(mode="json")
        if reply.error:  # a refusal (permission, rate limit, a secret): recorded, and an error
            return tool_result(doc, f"{reply.error['code']}: {reply.error['message']}", error=True)
        return tool_result(doc, f"{reply.content}\n\nsession_id: {reply.session_id}")

    @server.tool(annotations=READ_ONLY)
    async def query(
        ctx: Context,
        measures: Annotated[
            list[str], Field(description="Measures to compute (describe_model lists them).")
        ],
        dimensions: Annotated[
            list[str], Field(description="Dimensions to group by; DIM__month sets a grain.")
        ] = [],  # noqa: B006 (the SDK copies defaults per call)
        filters: Annotated[
            list[Filter],
            Field(description='Row filters, e.g. {"field": "industry", "op": "=", "value": "x"}.'),
        ] = [],  # noqa: B006
        order_by: Annotated[list[OrderBy], Field(description="Sort by returned columns.")] = [],  # noqa: B006
        limit: Annotated[int | None, Field(ge=1, description="Return at most this many rows.")] = (
            None
        ),
        time_grain: Annotated[
            TimeGrain | None, Field(description="Grain of date dimensions.")
        ] = None,
    ) -> CallToolResult:
        """Run one semantic query (measures by dimensions, filtered, sorted, limited) and
        return its result document (the same as `chatter query --json`)."""
        who = caller(ctx)
        request = {
            "measures": measures,
            "dimensions": dimensions,
            "filters": [f.model_dump(mode="json") for f in filters],
            "time_grain": time_grain,
            "order_by": [o.model_dump(mode="json") for o in order_by],
            "limit": limit,
        }
        route = Route(
            workflow="query", confidence=1.0, reason="An explicit semantic query over MCP."
        )
        result = await blocking(lambda: query_result(services, host.context(who), request, route))
        doc = result.model_dump(mode="json")
        return tool_result(doc, _table_text(doc["steps"][0]))

    @server.tool()
    async def run_workflow(
        ctx: Context,
        action: Annotated[
            Action,
            Field(
                description="run: create and execute a template; create: record a run; "
                "execute: start a created run; status: a run's state; cancel: stop a run."
            ),
        ] = "run",
        template: Annotated[
            str | None,
            Field(max_length=200, description="For run and create (list_templates names them)."),
        ] = None,
        customizations: Annotated[
            dict[str, Any] | None,
            Field(
                description='For run and create: {"steps": {"<step_id>": {"enabled": false, '
                '"parameters": {...}}}}.'
            ),
        ] = None,
        run_id: Annotated[
            RunId | None, Field(description="For execute, status and cancel.")
        ] = None,
        wait_s: Annotated[
            float,
            Field(
                ge=0,
                le=3600,
                description="For run and execute: wait this long for the run to end (0: return "
                "at once and poll get_run).",
            ),
        ] = 600,
    ) -> CallToolResult:
        """Run a workflow template in the background, the HTTP API's way: create, execute,
        status, cancel. With action run (the default) and a wait, the result of the finished
        run is returned."""
        who = caller(ctx)
        if action in ("run", "create"):
            if template is None:
                raise ToolError(
                    f"invalid_request: action {action!r} needs a template (list_templates "
                    "names them)."
                )
            name = template
            status = await blocking(
                lambda: run_access.create(services, api, name, customizations, host.context(who))
            )
            if action == "create":
                return _run_result(status)
            run_id = status["run_id"]
        if run_id is None:
            raise ToolError(
                f"invalid_request: action {action!r} needs a run_id (run and create return one)."
            )
        chosen: str = run_id
        if action == "status":
            return await _status_result(services, api, chosen, who)
        if action == "cancel":
            return _run_result(
                await blocking(lambda: run_access.cancel(services, api, chosen, who))
            )
        await blocking(lambda: run_access.execute(services, api, chosen, who))
        return _run_result(await _wait(ctx, lambda: _status(services, api, chosen, who), wait_s))

    @server.tool(annotations=READ_ONLY)
    async def get_run(run_id: RunId, ctx: Context) -> CallToolResult:
        """A run's status, its latest progress and, once it ended, its result."""
        return await _status_result(services, api, run_id, caller(ctx))


def _status(services: Services, api: ApiState, run_id: str, who: Principal) -> dict[str, Any]:
    return run_access.run_status(run_access.owned_run(services, run_id, who), api)


async def _status_result(
    services: Services, api: ApiState, run_id: str, who: Principal
) -> CallToolResult:
    return _run_result(await blocking(lambda: _status(services, api, run_id, who)))


async def _wait(ctx: Context, look: Callable[[], dict[str, Any]], wait_s: float) -> dict[str, Any]:
    """The run's status once it ended, or when ``wait_s`` is up; its progress events are
    passed on as MCP progress notifications meanwhile."""
    deadline = anyio.current_time() + wait_s
    seen: list[Any] = []
    while True:
        status = await blocking(look)
        if status["status"] in ENDED or anyio.current_time() >= deadline:
            return status
        event = status.get("progress")
        if event and (not seen or seen[-1] != event):
            seen.append(event)
            await ctx.report_progress(len(seen), None, _event_text(event))
        await anyio.sleep(POLL_S)


async def _with_progress(ctx: Context, work: Callable[[Progress], T]) -> T:
    """``work(note)`` off the event loop, its progress events passed on to the client."""
    failed: ToolError | None = None
    async with BlockingPortal() as portal:
        try:
            done = await blocking(lambda: work(_progress_through(portal, ctx)))
        except ToolError as err:  # raised past the portal, not inside its task group's error
            failed = err
    if failed is not None:
        raise failed
    return done


def _progress_through(portal: BlockingPortal, ctx: Context) -> Progress:
    """A progress callback for work in other threads (a workflow's steps run in several): each
    event becomes an MCP progress notification (none when the client asked for none). A
    notification that cannot be sent (the client went away) never stops the work."""
    count = 0
    lock = threading.Lock()

    def note(event: dict[str, Any]) -> None:
        nonlocal count
        with lock:
            count += 1
            done = count
        try:
            portal.call(ctx.report_progress, done, None, _event_text(event))
        except Exception:
            log.info("mcp_progress_not_sent", exc_info=True)

    return note


def _event_text(event: dict[str, Any]) -> str:
    parts = [str(event.get("event", "progress")), str(event.get("step") or "")]
    if event.get("status"):
        parts.append(str(event["status"]))
    return " ".join(p for p in parts if p)


def _run_result(status: dict[str, Any]) -> CallToolResult:
    """A run's status document, with its state (and, once ended, its insights) as text."""
    lines = [f"Run {status['run_id']} ({status['workflow']}): {status['status']}"]
    if status.get("reason"):
        lines.append(str(status["reason"]))
    result = status.get("result") or {}
    lines += [f"- {insight['text']}" for insight in result.get("insights") or []]
    if status["status"] not in ENDED:
        lines.append("Poll get_run with this run_id for its progress and result.")
    return tool_result(status, "\n".join(lines))


def _table_text(step: dict[str, Any]) -> str:
    """A query step as text: its columns, its first rows (one JSON object a line), its SQL."""
    if step.get("error"):
        return f"Query {step['status']}: {step['error']}"
    rows = step.get("rows") or []
    lines = [f"{len(rows)} rows of {', '.join(step.get('columns') or [])}"]
    lines += [json.dumps(row, default=str) for row in rows[:TEXT_ROWS]]
    if len(rows) > TEXT_ROWS:
        lines.append(f"(first {TEXT_ROWS} of {len(rows)} rows)")
    lines.append(f"SQL: {step.get('sql')}")
    return "\n".join(lines)
