"""Hostile input on the surfaces of issue 17 (MCP, the OpenAI-compatible endpoint, the web
page's routes), from an independent review: no secret echoed back in any error, not even part
of one; an MCP argument the tool does not take is refused, not ignored; GET /mcp does not hang;
values from the data are shown in the OpenAI answer's markdown, never run as HTML or fetched
as an image."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from api_server import key_of, running_server

pytestmark = pytest.mark.integration

SECRET = "ghp_" + "Zq8" * 12
LEAK = "Zq8Zq8Zq8Zq8"  # any 12-char run of the secret's body is a leak
HTML_LEVEL = '<img src=x onerror="alert(document.cookie)">'
MD_LEVEL = "![pixel](https://attacker.example/p.png)"


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_db: Path):
    root = tmp_path_factory.mktemp("r17")
    db = root / "demo.duckdb"
    shutil.copy(demo_db, db)
    con = duckdb.connect(str(db))
    con.execute("UPDATE users SET plan_type = ? WHERE plan_type = 'growth'", [HTML_LEVEL])
    con.execute("UPDATE users SET plan_type = ? WHERE plan_type = 'starter'", [MD_LEVEL])
    con.close()
    with running_server(root / "home", db, extra_env={"CHATTER_API_WORKERS": "1"}) as running:
        yield running


def _mcp(server, body, user="alice") -> str:
    headers = {
        "Authorization": f"Bearer {key_of(user)}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    return httpx.post(
        f"{server.url}/mcp", content=json.dumps(body), headers=headers, timeout=120
    ).text


def _call(server, name, arguments) -> str:
    return _mcp(
        server,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        },
    )


# ---- MCP -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,arguments",
    [
        ("query", {"measures": ["users"], "limit": SECRET}),
        ("get_run", {"run_id": SECRET + "!"}),
        ("ask", {"question": "users", "session_id": SECRET + "!"}),
        ("run_workflow", {"action": SECRET}),
        (SECRET, {}),  # unknown tool name
    ],
)
def test_mcp_argument_errors_never_echo_a_secret(server, name, arguments) -> None:
    reply = _call(server, name, arguments)
    assert LEAK not in reply, reply[:500]
    assert "pydantic.dev" not in reply, reply[:500]  # raw pydantic text, unlike the HTTP API


def test_mcp_jsonrpc_errors_never_echo_a_secret(server) -> None:
    reply = _mcp(server, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": [SECRET]})
    assert LEAK not in reply, reply[:500]


def test_mcp_unknown_tool_argument_is_refused_not_ignored(server) -> None:
    """A typo'd argument ('filter' for 'filters') silently answers the unfiltered question; the
    HTTP API and the OpenAI route refuse unknown fields by name."""
    filtered = _call(
        server,
        "query",
        {"measures": ["users"], "filter": [{"field": "industry", "op": "=", "value": "fintech"}]},
    )
    data = [line[6:] for line in filtered.splitlines() if line.startswith("data: ")]
    doc = json.loads(data[-1] if data else filtered)
    assert "result" not in doc, f"accepted, answered unfiltered: {doc['result']}"
    message = doc["error"]["message"]
    assert "'filter'" in message and "filters" in message, message  # the typo and the choices


def test_mcp_get_stream_does_not_hang(server) -> None:
    """Stateless /mcp never sends server-initiated messages, yet GET opens an SSE stream that
    stays open forever (one per authenticated request)."""
    started = time.monotonic()
    try:
        reply = httpx.get(
            f"{server.url}/mcp",
            timeout=8,
            headers={"Authorization": f"Bearer {key_of('alice')}", "Accept": "text/event-stream"},
        )
        status = reply.status_code
    except httpx.ReadTimeout:
        status = "hung"
    assert status == 405, f"GET /mcp: {status} after {time.monotonic() - started:.1f}s"


# ---- OpenAI-compatible -----------------------------------------------------------------------


def _chat(server, body, **headers) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/chat/completions",
        json=body,
        timeout=120,
        headers={"Authorization": f"Bearer {key_of('alice')}", **headers},
    )


@pytest.mark.parametrize(
    "how",
    ["role", "metadata", "model_path"],
)
def test_openai_errors_never_echo_part_of_a_secret(server, how) -> None:
    """Messages cut the value ([:60], [:64], [:200]) before redacting it: a secret placed near
    the cut loses its tail, is no longer recognised, and its first chars are echoed."""
    if how == "role":
        reply = _chat(
            server, {"model": "chatter", "messages": [{"role": "r" * 30 + SECRET, "content": "x"}]}
        )
    elif how == "metadata":
        reply = _chat(
            server,
            {
                "model": "chatter",
                "messages": [{"role": "user", "content": "x"}],
                "metadata": {"chatter_session": "s" * 40 + SECRET + "!"},
            },
        )
    else:
        reply = httpx.get(
            f"{server.url}/v1/models/{'m' * 190}{SECRET}",
            timeout=30,
            headers={"Authorization": f"Bearer {key_of('alice')}"},
        )
    assert 400 <= reply.status_code < 500
    assert "ghp_Zq8" not in reply.text, reply.text[:400]


def test_openai_markdown_escapes_html_and_markdown_from_the_data(server) -> None:
    """Data values go into the markdown as written: a level holding HTML or a markdown image
    becomes live markup in any chat front end that renders it (stored XSS / tracking pixel)."""
    reply = _chat(
        server,
        {"model": "chatter", "messages": [{"role": "user", "content": "users by plan type"}]},
    )
    assert reply.status_code == 200, reply.text
    content = reply.json()["choices"][0]["message"]["content"]
    assert "<img" not in content, content[:600]
    assert "![pixel](" not in content, content[:600]


# ---- web -------------------------------------------------------------------------------------


def test_web_404_never_echoes_a_secret(server) -> None:
    reply = httpx.get(f"{server.url}/web/{SECRET}", timeout=30)
    assert reply.status_code == 404
    assert LEAK not in reply.text, reply.text
