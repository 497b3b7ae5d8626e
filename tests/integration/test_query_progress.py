"""Progress for every answer: a real `chatter serve` on loopback streams what the analyst
understood, then its single query started and finished (or a workflow's step events), then the
answer; the same events reach `chatter.ask`, a chat session and LangGraph Studio, all from the
analyst graph's custom stream."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from api_server import Server, key_of, running_server

import chatter
from chatter.analyst.session import ChatSession
from chatter.context import Context
from chatter.errors import ChatterError
from chatter.services import Services

pytestmark = pytest.mark.integration

CHAT = "/api/v1/chat/query"
WORKFLOW_QUESTION = "why are fintech trials converting worse?"
CONVERSION_STEPS = {
    "baseline_conversion",
    "industry_breakdown",
    "cohort_analysis",
    "statistical_validation",
    "insight_synthesis",
}
STEP_EVENTS = {"step_started", "step_finished", "step_skipped"}
QUERY_EVENTS = {"query_started", "query_finished"}

Events = list[tuple[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("progress-home"), demo_db) as running:
        yield running


def streamed(server: Server, user: str, message: str, session_id: str | None = None) -> Events:
    """The server-sent events of one chat turn, in order: (event name, its JSON data)."""
    body: dict[str, Any] = {"message": message}
    if session_id:
        body["session_id"] = session_id
    events: Events = []
    with (
        server.client(key_of(user)) as http,
        http.stream("POST", CHAT, json=body, headers={"Accept": "text/event-stream"}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for block in response.read().decode().split("\n\n"):
            fields = dict(
                line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
            )
            if fields:
                events.append((fields["event"], json.loads(fields["data"])))
    return events


def progress_of(events: Events) -> list[dict[str, Any]]:
    return [data for name, data in events if name == "progress"]


def names(progress: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in progress]


# ---- over HTTP --------------------------------------------------------------------------


def test_a_single_query_streams_understood_started_finished_then_the_answer(
    server: Server,
) -> None:
    events = streamed(server, "alice", "conversion rate by plan")
    assert [name for name, _ in events] == ["progress", "progress", "progress", "answer"]
    understood, started, finished = progress_of(events)
    assert names([understood, started, finished]) == [
        "understood",
        "query_started",
        "query_finished",
    ]
    reply = events[-1][1]
    document = reply["answer"]
    step = document["steps"][0]

    assert understood["route"] == document["route"] and understood["route"]["workflow"] == "query"
    assert understood["interpretation"] == document["interpretation"]
    assert understood["interpretation"]["text"] and understood["clarification"] is None

    assert started["run_id"] == finished["run_id"] == document["run_id"]
    assert started["query"] == document["query"]
    assert finished["sql"] == step["sql"] == reply["sql_query"]

    assert finished["status"] == "completed" and finished["error"] is None
    assert finished["rows"] == len(step["rows"]) == len(reply["results"]["rows"]) > 0
    assert finished["cached"] is False and finished["duration_ms"] > 0
    assert (started["percent"], finished["percent"]) == (0.0, 100.0)

    again = streamed(server, "bob", "conversion rate by plan")  # another user, same data
    repeat = progress_of(again)
    assert names(repeat) == ["understood", "query_started", "query_finished"]
    assert repeat[2]["cached"] is True and again[-1][1]["answer"]["steps"][0]["cached"] is True
    assert repeat[2]["rows"] == finished["rows"]


def test_a_workflow_streams_understood_then_its_steps_then_the_answer(server: Server) -> None:
    events = streamed(server, "alice", WORKFLOW_QUESTION)
    assert events[-1][0] == "answer"
    assert {name for name, _ in events[:-1]} == {"progress"}
    progress = progress_of(events)
    reply = events[-1][1]["answer"]

    assert progress[0]["event"] == "understood"
    assert progress[0]["route"]["workflow"] == "conversion_deep_dive" == reply["workflow"]
    assert progress[0]["interpretation"] == reply["interpretation"]
    steps = progress[1:]
    assert set(names(steps)) <= STEP_EVENTS and not set(names(steps)) & QUERY_EVENTS
    started = [e["step"] for e in steps if e["event"] == "step_started"]
    finished = [e["step"] for e in steps if e["event"] == "step_finished"]
    assert sorted(started) == sorted(finished) == sorted(CONVERSION_STEPS)  # each one once
    assert {e["run_id"] for e in steps} == {reply["run_id"]}
    assert steps[-1]["percent"] == 100.0 and steps[-1]["steps_total"] == len(CONVERSION_STEPS)


def test_a_question_back_streams_understood_with_the_question_then_the_answer(
    server: Server,
) -> None:
    events = streamed(server, "alice", "is the pro plan worth it?")
    assert [name for name, _ in events] == ["progress", "answer"]
    (understood,) = progress_of(events)
    reply = events[-1][1]
    assert reply["message_type"] == "clarification"
    assert understood["event"] == "understood"
    assert understood["route"]["workflow"] == "clarify" == reply["answer"]["workflow"]
    assert understood["clarification"] == reply["content"] and "'pro'" in reply["content"]
    assert understood["options"] == reply["answer"]["options"] and understood["options"]
    assert understood["interpretation"] == reply["interpretation"]

    # The reply is read again: understood again (a level offered is read as a message, never
    # taken for a template's name).
    then = streamed(server, "alice", understood["options"][0], session_id=reply["session_id"])
    assert then[-1][0] == "answer" and names(progress_of(then))[0] == "understood"


def test_a_refusal_streams_an_error_event(server: Server) -> None:
    # A viewer may not run workflows: understood (the route it would take), then the error.
    events = streamed(server, "vera", WORKFLOW_QUESTION)
    assert [name for name, _ in events] == ["progress", "error"]
    assert events[0][1]["event"] == "understood"
    assert events[0][1]["route"]["workflow"] == "conversion_deep_dive"
    assert events[-1][1]["error"]["code"] == "permission_denied"

    # A secret in the message is refused before anything reads it: nothing was understood.
    secret = f"conversion rate by plan {key_of('bob')}"
    refused = streamed(server, "alice", secret)
    assert [name for name, _ in refused] == ["error"]
    assert refused[0][1]["error"]["code"] == "sensitive_content"
    assert key_of("bob") not in json.dumps(refused)


# ---- in process: chatter.ask and a chat session ----------------------------------------


def test_chatter_ask_hears_the_same_stages(services: Services, demo_db: Path) -> None:
    heard: list[dict[str, Any]] = []
    answer = chatter.ask(
        "conversion rate by industry",
        services=services,
        database=str(demo_db),
        progress=heard.append,
    )
    assert names(heard) == ["understood", "query_started", "query_finished"]
    assert heard[0]["interpretation"] == answer.interpretation.model_dump(mode="json")  # type: ignore[union-attr]
    assert heard[2]["rows"] == len(answer.steps[0].rows) and heard[2]["cached"] is False
    assert heard[1]["query"] == answer.query and heard[2]["sql"] == answer.steps[0].sql
    json.dumps(heard)  # JSON as they are: every surface sends them on as they come

    quiet = chatter.ask("conversion rate by industry", services=services, database=str(demo_db))
    assert quiet.steps[0].rows == answer.steps[0].rows and quiet.steps[0].cached


def test_a_query_that_fails_says_so_before_its_error(services: Services, tmp_path: Path) -> None:
    broken = tmp_path / "no-converted-column.duckdb"  # the model's conversion needs `converted`
    with duckdb.connect(str(broken)) as con:
        con.execute("""
            CREATE TABLE users (user_id BIGINT, signup_date DATE, plan_type VARCHAR,
                industry VARCHAR, acquisition_channel VARCHAR, company_size VARCHAR,
                country VARCHAR, churned BOOLEAN, churn_date DATE);
            INSERT INTO users VALUES (1, DATE '2024-01-05', 'basic', 'alpha', 'web', 'S', 'AA',
                FALSE, NULL);
            CREATE TABLE events (event_id BIGINT, user_id BIGINT, event_type VARCHAR,
                event_ts TIMESTAMP);
            CREATE TABLE revenue (user_id BIGINT, month DATE, plan_type VARCHAR, mrr DOUBLE);
        """)
    heard: list[dict[str, Any]] = []
    with pytest.raises(ChatterError) as raised:
        chatter.ask(
            "conversion rate by plan",
            services=services,
            database=str(broken),
            progress=heard.append,
        )
    assert names(heard) == ["understood", "query_started", "query_finished"]
    failed = heard[2]
    assert failed["status"] == "failed" and failed["sql"] is None and failed["rows"] == 0
    assert failed["error"] == raised.value.message and "converted" in failed["error"]


def test_a_chat_session_hears_a_question_back_and_the_reply(
    services: Services, demo_db: Path
) -> None:
    session = ChatSession.open(services, Context(database=str(demo_db)))
    try:
        heard: list[dict[str, Any]] = []
        asked = session.say("conversion rate by plan where plan_type = 'nope'", heard.append)
        assert asked.clarification and names(heard) == ["understood"]
        assert heard[0]["clarification"] == asked.text and heard[0]["options"] == asked.options

        heard.clear()
        session.say("conversion rate by plan", heard.append)
        assert names(heard) == ["understood", "query_started", "query_finished"]

        heard.clear()
        unsure = session.say("xyzzy frobnicate", heard.append)
        assert unsure.clarification and "conversion_deep_dive" in unsure.options
        assert heard[0]["route"]["workflow"] == "clarify"
        heard.clear()
        ran = session.say("conversion_deep_dive", heard.append)  # a template offered, picked
        assert ran.workflow == "conversion_deep_dive"
        assert heard[0]["event"] == "understood"
        assert heard[0]["route"]["workflow"] == "conversion_deep_dive"
        assert set(names(heard[1:])) == {"step_started", "step_finished"}
    finally:
        session.forget()


# ---- the command line: the progress bar on stderr, stdout of --json only the JSON ---------


def cli_ask(question: str, home: Path, database: Path, *options: str) -> tuple[str, str]:
    """``chatter ask`` with stderr on a pseudo-terminal (the bar draws only on a terminal):
    (stdout, everything drawn on the terminal)."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "CHATTER_HOME": str(home), "CHATTER_DATABASE": str(database)}
    env.update(COLUMNS="200", TERM="xterm")
    with subprocess.Popen(
        [sys.executable, "-m", "chatter.cli", "ask", question, *options],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    ) as proc:
        os.close(terminal)
        drawn = b""
        while select.select([controller], [], [], 60)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the command exited: the terminal is closed
                break
            if not chunk:
                break
            drawn += chunk
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        assert proc.wait(timeout=60) == 0, drawn.decode(errors="replace")
    os.close(controller)
    return out, drawn.decode(errors="replace")


def test_the_cli_draws_the_query_stages_on_stderr_and_keeps_json_stdout_clean(
    tmp_path: Path, demo_db: Path
) -> None:
    home = tmp_path / "cli-home"
    out, drawn = cli_ask("conversion rate by acquisition channel", home, demo_db, "--json")
    document = json.loads(out)  # stdout is the document and nothing else
    rows = len(document["steps"][0]["rows"])
    assert "row(s)" not in drawn  # no bar with --json

    out, drawn = cli_ask("conversion rate by acquisition channel", home, demo_db)
    assert f"query completed, {rows} row(s) from the cache" in drawn
    assert "row(s) from the cache" not in out


# ---- LangGraph Studio: the analyst graph's custom stream ---------------------------------


@pytest.mark.slow
def test_studio_streams_the_same_events_as_http(
    server: Server, tmp_path_factory: pytest.TempPathFactory, demo_db: Path
) -> None:
    from langgraph_sdk import get_client
    from studio_server import running_studio

    question = "MRR by plan"

    async def studio_events(url: str) -> list[dict[str, Any]]:
        client = get_client(url=url)
        thread = await client.threads.create()
        found = []
        async for part in client.runs.stream(
            thread["thread_id"],
            "analyst",
            input={"messages": [{"role": "user", "content": question}]},
            stream_mode="custom",
        ):
            if part.event == "custom":
                found.append(part.data)
        return found

    with running_studio(tmp_path_factory.mktemp("studio-progress"), demo_db) as url:
        in_studio = asyncio.run(studio_events(url))
    over_http = progress_of(streamed(server, "alice", question))

    assert (
        names(in_studio)
        == names(over_http)
        == [
            "understood",
            "query_started",
            "query_finished",
        ]
    )
    varying = {"run_id", "duration_ms", "cached"}  # ids, timings and who ran it first

    def same(event: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if k not in varying}

    assert [same(e) for e in in_studio] == [same(e) for e in over_http]
