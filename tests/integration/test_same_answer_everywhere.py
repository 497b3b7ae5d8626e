"""The same question gives the same answer document on every surface, apart from ids and
timings: `chatter ask --json` (a real subprocess), `chatter.ask`, `POST /api/v1/chat/query` on a
real server, and the analyst graph in a real `langgraph dev`. Each surface gets a data
directory of its own and asks the same questions in the same order, so caches agree too."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_server import key_of, running_server
from studio_server import running_studio

import chatter
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
#: Ids and timings: all that may differ between surfaces.
VOLATILE = {"run_id", "duration_ms", "setup_ms"}


def normalised(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: normalised(v) for k, v in document.items() if k not in VOLATILE}
    if isinstance(document, list):
        return [normalised(v) for v in document]
    return document


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
    with running_server(home, database) as server, server.client(key_of("alice")) as http:
        # One session per question: a one-turn answer, as on the other surfaces.
        replies = [http.post("/api/v1/chat/query", json={"message": q}) for q in QUESTIONS]
    assert [r.status_code for r in replies] == [200, 200, 200, 200, 422]
    return [r.json()["answer"] for r in replies]


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
        yield {
            "cli": by_cli(tmp_path_factory.mktemp("cli"), demo_db),
            "python": by_python(tmp_path_factory.mktemp("python"), demo_db, monkeypatch),
            "http": by_http(tmp_path_factory.mktemp("http"), demo_db),
            "studio": by_studio(tmp_path_factory.mktemp("studio"), demo_db),
        }


@pytest.mark.parametrize("index", range(len(QUESTIONS)), ids=[q[:30] for q in QUESTIONS])
def test_every_surface_gives_the_same_answer_document(
    documents: dict[str, list[Any]], index: int
) -> None:
    reference = normalised(documents["cli"][index])
    for surface in ("python", "http", "studio"):
        assert normalised(documents[surface][index]) == reference, surface


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
