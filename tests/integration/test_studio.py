"""LangGraph Studio: a real `langgraph dev` on loopback serves the templates from langgraph.json,
driven by langgraph-sdk: run a template, get insights."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[str]:
    langgraph = shutil.which("langgraph") or str(Path(sys.executable).parent / "langgraph")
    home = tmp_path_factory.mktemp("studio-home")
    port = free_port()
    env = {
        **os.environ,
        "CHATTER_HOME": str(home),
        "CHATTER_DATABASE": str(demo_db),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
    }
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [
            langgraph,
            "dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
            "--no-reload",
            "--allow-blocking",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError((home / "server.log").read_text()[-4000:])
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError(
                "langgraph dev did not start: " + (home / "server.log").read_text()[-4000:]
            )
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_studio_serves_the_templates_and_runs_one(server: str) -> None:
    from langgraph_sdk import get_client

    async def scenario() -> tuple[set[str], dict]:
        client = get_client(url=server)
        assistants = await client.assistants.search(limit=50)
        graphs = {a["graph_id"] for a in assistants}
        thread = await client.threads.create()
        output = await client.runs.wait(thread["thread_id"], "conversion_deep_dive", input={})
        return graphs, output

    graphs, output = asyncio.run(scenario())
    assert {
        "analyst",
        "conversion_deep_dive",
        "feature_usage_deep_dive",
        "revenue_optimization",
    } <= graphs
    result = output["result"]
    assert result["workflow"] == "conversion_deep_dive"
    assert result["status"] == "completed", json.dumps(result)[:2000]
    assert result["insights"] and all(i["evidence"] for i in result["insights"])
    assert any("fintech" in i["text"] for i in result["insights"])


def test_studio_serves_the_analyst_with_memory(server: str) -> None:
    from langgraph_sdk import get_client

    async def scenario() -> tuple[dict, dict]:
        client = get_client(url=server)
        thread = await client.threads.create()
        first = await client.runs.wait(
            thread["thread_id"],
            "analyst",
            input={"messages": [{"role": "user", "content": "conversion rate by plan"}]},
        )
        second = await client.runs.wait(
            thread["thread_id"],
            "analyst",
            input={"messages": [{"role": "user", "content": "now by industry"}]},
        )
        return first, second

    first, second = asyncio.run(scenario())
    assert first["answer"]["query"]["dimensions"] == ["users.plan_type"]
    assert second["answer"]["query"]["dimensions"] == ["industry"]
    assert second["messages"][-1]["type"] == "ai" and "fintech" in second["messages"][-1]["content"]
