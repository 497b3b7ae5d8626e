"""The same question gives the same answer document on every surface, apart from ids and
timings: `chatter ask --json` (a real subprocess), `chatter.ask`, `POST /api/v1/chat/query` on a
real server, the analyst graph in a real `langgraph dev`, and the `ask` tool of `chatter mcp`
(the SDK's client over stdio); the OpenAI-compatible endpoint (the official client) answers
the rendering of that document in markdown. Each surface gets a data directory of its own and
asks the same questions in the same order, so caches agree too."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from api_server import key_of, running_server
from documents import normalised
from studio_server import running_studio

import chatter
from chatter.api.openai_markdown import answer_markdown, inert
from chatter.api.schemas import ChatResponse
from chatter.report_tables import measure_formats
from chatter.semantic.model import default_model
from chatter.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = "ghp_" + "Zq8" * 12  # a GitHub-token-shaped fake
QUESTIONS = [
    "conversion rate by plan",  # one query
    "top 5 industries by churn rate",  # a query with an order and a limit
    "why are fintech trials converting worse?",  # a workflow
    "hello there",  # a question back
    f"churn by plan, key {SECRET}",  # a refusal
]


def by_cli(home: Path, database: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "CHATTER_HOME": str(home)}
    env.pop("OPENAI_API_KEY", None)
    out = []
    for question in QUESTIONS:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "chatter.cli",
                "ask",
                question,
                "--json",
                "--database",
                str(database),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode in (0, 2), done.stderr
        out.append(json.loads(done.stdout))
    return out


def by_python(home: Path, database: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setenv("CHATTER_HOME", str(home))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    get_settings.cache_clear()
    return [chatter.ask(q, database=database).model_dump(mode="json") for q in QUESTIONS]


def by_http(home: Path, database: Path) -> list[dict[str, Any]]:
    """The chat route's whole bodies (the answer document is their ``answer``)."""
    with running_server(home, database) as server, server.client(key_of("alice")) as http:
        # One session per question: a one-turn answer, as on the other surfaces.
        replies = [http.post("/api/v1/chat/query", json={"message": q}) for q in QUESTIONS]
    assert [r.status_code for r in replies] == [200, 200, 200, 200, 422]
    return [r.json() for r in replies]


def by_openai(home: Path, database: Path) -> list[dict[str, Any]]:
    """Each question as a new conversation of the OpenAI-compatible endpoint, with the
    official client: the markdown it answers, or the error it raises."""
    import openai

    out: list[dict[str, Any]] = []
    with running_server(home, database) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key_of("alice"))
        for question in QUESTIONS:
            try:
                done = client.chat.completions.create(
                    model="chatter", messages=[{"role": "user", "content": question}]
                )
                out.append({"content": done.choices[0].message.content})
            except openai.APIStatusError as err:
                out.append({"status": err.status_code, "error": err.body})
    return out


def without_marker(markdown: str) -> str:
    """The markdown without the session marker it ends with (each surface has its sessions)."""
    return re.sub(r"\n*<!-- chatter-session: [^>]* -->\s*$", "", markdown)


def by_mcp(home: Path, database: Path) -> list[dict[str, Any]]:
    """The ``ask`` tool of ``chatter mcp`` over stdio, with the SDK's own client."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "chatter.cli", "mcp", "--database", str(database)],
        env={"CHATTER_HOME": str(home), "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )

    async def ask_all() -> list[dict[str, Any]]:
        out = []
        async with Client(params, read_timeout_seconds=300) as client:
            for question in QUESTIONS:  # no session id: a one-turn answer each
                done = await client.call_tool("ask", {"question": question})
                assert isinstance(done.structured_content, dict), done.content
                out.append(done.structured_content["answer"])
        return out

    return anyio.run(ask_all)


def by_studio(home: Path, database: Path) -> list[dict[str, Any]]:
    from langgraph_sdk import get_client

    async def ask_all(url: str) -> list[dict[str, Any]]:
        client = get_client(url=url)
        out = []
        for question in QUESTIONS:
            thread = await client.threads.create()
            state = await client.runs.wait(
                thread["thread_id"],
                "analyst",
                input={"messages": [{"role": "user", "content": question}]},
            )
            out.append(state["answer"])
        return out

    with running_studio(home, database) as url:
        return asyncio.run(ask_all(url))


@pytest.fixture(scope="module")
def documents(
    tmp_path_factory: pytest.TempPathFactory, demo_db: Path
) -> Iterator[dict[str, list[Any]]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        found = {
            "cli": by_cli(tmp_path_factory.mktemp("cli"), demo_db),
            "python": by_python(tmp_path_factory.mktemp("python"), demo_db, monkeypatch),
            "http_bodies": by_http(tmp_path_factory.mktemp("http"), demo_db),
            "openai": by_openai(tmp_path_factory.mktemp("openai"), demo_db),
            "studio": by_studio(tmp_path_factory.mktemp("studio"), demo_db),
            "mcp": by_mcp(tmp_path_factory.mktemp("mcp"), demo_db),
        }
        found["http"] = [body["answer"] for body in found["http_bodies"]]
        yield found


@pytest.mark.parametrize("index", range(len(QUESTIONS)), ids=[q[:30] for q in QUESTIONS])
def test_every_surface_gives_the_same_answer_document(
    documents: dict[str, list[Any]], index: int
) -> None:
    reference = normalised(documents["cli"][index])
    for surface in ("python", "http", "studio", "mcp"):
        assert normalised(documents[surface][index]) == reference, surface


@pytest.mark.parametrize("index", range(len(QUESTIONS)), ids=[q[:30] for q in QUESTIONS])
def test_the_openai_endpoint_answers_the_same_document_in_markdown(
    documents: dict[str, list[Any]], index: int
) -> None:
    """Its markdown is the rendering of the answer the chat route gave to the same question
    (a refusal: the same error)."""
    body, said = documents["http_bodies"][index], documents["openai"][index]
    if body["error"]:
        assert said["status"] == 422 and said["error"]["code"] == body["error"]["code"]
        return
    formats = measure_formats(default_model())
    cap = get_settings().api_result_rows
    expected = answer_markdown(ChatResponse.model_validate(body), formats, cap)
    assert without_marker(said["content"]) == without_marker(expected)
    assert inert(body["answer"]["interpretation"]["text"]) in said["content"]


def test_the_answers_are_what_each_question_asked_for(documents: dict[str, list[Any]]) -> None:
    """Equal documents must also be right ones (equal failures would pass the test above)."""
    query, top, workflow, asked, refused = documents["cli"]
    assert query["workflow"] == "query" and query["status"] == "completed"
    assert {r["plan_type"] for r in query["steps"][0]["rows"]} and query["database"]
    assert top["query"]["limit"] == 5 and len(top["steps"][0]["rows"]) == 5
    assert workflow["workflow"] == "conversion_deep_dive" and workflow["insights"]
    assert workflow["findings"] and all(
        (f["p_adjusted"] is None) == f["descriptive"] for f in workflow["findings"]
    )
    assert asked["workflow"] == "clarify" and asked["clarification"] and asked["options"]
    assert refused["workflow"] == "refused" and refused["error"]["code"] == "sensitive_content"
    assert SECRET not in json.dumps(documents)
