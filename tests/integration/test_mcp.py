"""The MCP server with the SDK's own client: over stdio (``chatter mcp`` launched by the
client) and over streamable HTTP (``/mcp`` of a real ``chatter serve`` on loopback), through
the same guard, audit log and answer document as the HTTP API."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import httpx2
import pytest
from api_server import KEYS, Server, key_of, running_server
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult

pytestmark = pytest.mark.integration

TOOLS = {"list_templates", "describe_model", "ask", "query", "run_workflow", "get_run"}
T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(scenario)


def text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def structured(result: CallToolResult) -> dict[str, Any]:
    assert isinstance(result.structured_content, dict), text(result)
    return result.structured_content


# ---- stdio ---------------------------------------------------------------------------------


def stdio_client(home: Path, database: Path, **env: str) -> Client:
    """``chatter mcp`` as the SDK's stdio client launches it, in its own data directory."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "chatter.cli", "mcp", "--database", str(database)],
        env={"CHATTER_HOME": str(home), "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **env},
    )
    return Client(params, read_timeout_seconds=120)


def test_stdio_lists_tools_asks_and_runs_a_template_to_completion(
    tmp_path: Path, demo_db: Path
) -> None:
    async def scenario() -> None:
        async with stdio_client(tmp_path / "home", demo_db) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            uris = {str(r.uri) for r in (await client.list_resources()).resources}
            assert uris == {"chatter://semantic-model", "chatter://templates"}

            asked = await client.call_tool("ask", {"question": "conversion rate by plan type"})
            doc = structured(asked)
            assert not asked.is_error and doc["message_type"] == "answer", text(asked)
            assert doc["answer"]["workflow"] == "query"
            assert doc["results"]["columns"] == ["plan_type", "conversion_rate"]
            assert doc["session_id"] in text(asked)
            # A follow-up in the same session builds on the first answer.
            follow = await client.call_tool(
                "ask", {"question": "now by industry", "session_id": doc["session_id"]}
            )
            assert "industry" in structured(follow)["results"]["columns"], text(follow)

            # A question a workflow answers: its steps' progress arrives as MCP progress
            # notifications (sent from the threads the steps run in).
            events: list[str] = []

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                events.append(message or "")

            why = await client.call_tool(
                "ask", {"question": "why are fintech trials converting worse?"},
                progress_callback=on_progress,
            )  # fmt: skip
            assert structured(why)["route"]["workflow"] == "conversion_deep_dive", text(why)
            assert "step_finished statistical_validation completed" in events, events

            ran = await client.call_tool("run_workflow", {"template": "conversion_deep_dive"})
            status = structured(ran)
            assert not ran.is_error and status["status"] == "completed", text(ran)
            assert status["user"] == "local"  # --user's default: no CHATTER_API_KEY here
            steps = [s["id"] for s in status["result"]["steps"]]
            assert steps[0] == "baseline_conversion" and "statistical_validation" in steps
            assert status["result"]["findings"], "the run tested nothing"
            read = await client.call_tool("get_run", {"run_id": status["run_id"]})
            assert structured(read)["result"]["run_id"] == status["run_id"]

            unknown = await client.call_tool("query", {"measures": ["conversion_rat"]})
            assert unknown.is_error
            assert "'conversion_rat'" in text(unknown) and "conversion_rate" in text(unknown)

    run(scenario)


def test_stdio_caller_is_the_api_key_user(tmp_path: Path, demo_db: Path) -> None:
    """With CHATTER_API_KEY set, the stdio caller is that key's user and role: here the
    viewer vera, who may query but not run a workflow."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(KEYS))
    env = {"CHATTER_API_KEYS": str(keys), "CHATTER_API_KEY": key_of("vera")}

    async def scenario() -> None:
        async with stdio_client(tmp_path / "home", demo_db, **env) as client:
            refused = await client.call_tool("run_workflow", {"template": "conversion_deep_dive"})
            assert refused.is_error
            assert "permission_denied" in text(refused) and "'vera'" in text(refused)
            queried = await client.call_tool(
                "query", {"measures": ["users"], "dimensions": ["industry"]}
            )
            assert not queried.is_error, text(queried)
            assert structured(queried)["steps"][0]["columns"] == ["industry", "users"]

    run(scenario)


# ---- streamable HTTP ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("mcp") / "home"
    with running_server(home, demo_db, extra_env={"CHATTER_API_WORKERS": "1"}) as running:
        yield running


def http_client(server: Server, user: str | None) -> Client:
    headers = {"Authorization": f"Bearer {key_of(user)}"} if user else {}
    transport = streamable_http_client(
        f"{server.url}/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=120)
    )
    return Client(transport, read_timeout_seconds=120)


def test_http_lists_tools_and_resources_with_a_key(server: Server) -> None:
    async def scenario() -> None:
        async with http_client(server, "alice") as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            read = await client.read_resource("chatter://semantic-model")
            model = json.loads(getattr(read.contents[0], "text", ""))
            assert "users" in model["tables"]

    run(scenario)


@pytest.mark.parametrize("header", [None, "Bearer not-a-key", "Basic YWxpY2U6eA=="])
def test_http_without_a_known_key_is_refused(server: Server, header: str | None) -> None:
    headers = {"Accept": "application/json, text/event-stream"}
    if header:
        headers["Authorization"] = header
    ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    reply = httpx.post(f"{server.url}/mcp", json=ping, headers=headers, timeout=30)
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "not_authenticated"
    assert reply.headers["www-authenticate"] == "Bearer"


def test_http_client_without_a_key_cannot_connect(server: Server) -> None:
    async def scenario() -> None:
        async with http_client(server, None) as client:
            await client.list_tools()

    # The SDK reports the 401 (the raw answer is checked above) as an MCP error.
    with pytest.raises(ExceptionGroup) as caught:
        run(scenario)
    assert caught.group_contains(MCPError)


def test_http_viewer_running_a_workflow_is_refused_and_audited(server: Server) -> None:
    async def scenario() -> tuple[CallToolResult, CallToolResult]:
        async with http_client(server, "vera") as client:
            return (
                await client.call_tool("run_workflow", {"template": "conversion_deep_dive"}),
                await client.call_tool(
                    "ask", {"question": "why are fintech trials converting worse?"}
                ),
            )

    refused, asked = run(scenario)
    # A question that needs a workflow is refused too: an error carrying the refusal document.
    assert asked.is_error and structured(asked)["error"]["code"] == "permission_denied"
    assert refused.is_error
    message = text(refused)
    assert "permission_denied" in message
    assert "may not run workflow:conversion_deep_dive" in message and "'vera'" in message
    with server.client(key_of("root")) as admin:
        reply = admin.get("/api/v1/audit", params={"user": "vera", "decision": "denied"})
    assert reply.status_code == 200, reply.text
    denied = [r for r in reply.json()["records"] if r["action"] == "workflow.run"]
    assert denied, reply.json()
    # The entry is this refusal: its reason is what the MCP error said.
    assert denied[0]["role"] == "viewer" and denied[0]["reason"] in message


def test_http_ask_is_the_chat_api_answer(server: Server) -> None:
    question = "conversion rate by acquisition channel"

    async def scenario() -> CallToolResult:
        async with http_client(server, "alice") as client:
            return await client.call_tool("ask", {"question": question})

    asked = run(scenario)
    assert not asked.is_error, text(asked)
    over_mcp = structured(asked)
    with server.client(key_of("alice")) as http:
        over_http = http.post("/api/v1/chat/query", json={"message": question}).json()
    for field in ("message_type", "content", "sql_query", "results", "interpretation"):
        assert over_mcp[field] == over_http[field], field
    assert over_mcp["session_id"] != over_http["session_id"]


def test_http_two_keys_are_two_users(server: Server) -> None:
    """Two clients at once on one server, each key its own caller, request by request."""

    async def scenario() -> tuple[CallToolResult, CallToolResult, CallToolResult, Any]:
        async with http_client(server, "alice") as alice, http_client(server, "bob") as bob:
            mine = structured(await alice.call_tool("ask", {"question": "users by plan type"}))
            theirs = await bob.call_tool(
                "ask", {"question": "now by industry", "session_id": mine["session_id"]}
            )
            created = await alice.call_tool(
                "run_workflow", {"action": "create", "template": "revenue_optimization"}
            )
            run_id = structured(created)["run_id"]
            peek = await bob.call_tool("get_run", {"run_id": run_id})
            own = await alice.call_tool("get_run", {"run_id": run_id})
            cancelled = await alice.call_tool(
                "run_workflow", {"action": "cancel", "run_id": run_id}
            )
            return theirs, peek, own, structured(cancelled)

    theirs, peek, own, cancelled = run(scenario)
    assert theirs.is_error and "session" in text(theirs).lower()
    assert peek.is_error and "of yours" in text(peek)
    assert structured(own)["user"] == "alice" and structured(own)["status"] == "created"
    assert cancelled["status"] == "cancelled" and cancelled["cancelled"] is True


def test_http_bad_arguments_name_the_item_and_the_choices(server: Server) -> None:
    async def scenario() -> list[CallToolResult]:
        async with http_client(server, "alice") as client:
            return [
                await client.call_tool("run_workflow", {"template": "conversion_deep_div"}),
                await client.call_tool("query", {"measures": ["revenu"]}),
                await client.call_tool("run_workflow", {"action": "execute"}),
            ]

    template, measure, missing = run(scenario)
    assert template.is_error and measure.is_error and missing.is_error
    assert "unknown_template" in text(template) and "'conversion_deep_div'" in text(template)
    assert "feature_usage_deep_dive, revenue_optimization" in text(template)
    assert "unknown_measure" in text(measure) and "'revenu'" in text(measure)
    assert "conversion_rate" in text(measure)  # the valid measures are listed
    assert "run_id" in text(missing)
    assert "Traceback" not in text(template) + text(measure) + text(missing)


def test_http_unknown_resource_is_an_mcp_error(server: Server) -> None:
    async def scenario() -> MCPError:
        async with http_client(server, "alice") as client:
            with pytest.raises(MCPError) as caught:
                await client.read_resource("chatter://templates/conversion_deep_div")
            return caught.value

    error = run(scenario)
    assert "'conversion_deep_div'" in error.message and "conversion_deep_dive" in error.message
