"""LangGraph Studio: a real `langgraph dev` on loopback serves the templates from langgraph.json,
driven by langgraph-sdk: run a template, get insights."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from studio_server import running_studio

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[str]:
    with running_studio(tmp_path_factory.mktemp("studio-home"), demo_db) as url:
        yield url


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
