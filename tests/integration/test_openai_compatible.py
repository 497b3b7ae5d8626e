"""The OpenAI-compatible endpoint (``/v1/chat/completions``, ``/v1/models``) with the official
``openai`` client against a real `chatter serve` on loopback: answers as markdown whose numbers
are the HTTP API's, streaming, sessions carried over turns (by the answer's marker, a header or
metadata) and private to their user, the models list, and errors raised as the client's typed
exceptions with the server's message."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from api_server import Server, key_of, running_server
from postgres_fixture import as_url
from test_serve_workers import serving_pid, worker_pids

from chatter.api.openai_markdown import inert
from chatter.number_text import cell_text

pytestmark = pytest.mark.integration

CHAT = "/api/v1/chat/query"
MARKER = re.compile(r"<!-- chatter-session: ([A-Za-z0-9_-]+) -->")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("openai") / "home"
    with running_server(home, demo_db) as running:
        yield running


def client(server: Server, user: str | None = None, key: str | None = None) -> openai.OpenAI:
    # No retries: a test must see the first answer (the client retries 409s and 429s).
    return openai.OpenAI(
        base_url=f"{server.url}/v1", api_key=key or key_of(user or ""), max_retries=0, timeout=120
    )


def ask(
    server: Server, user: str, messages: list[dict[str, str]], **options: Any
) -> openai.types.chat.ChatCompletion:
    return client(server, user).chat.completions.create(
        model="chatter",
        messages=messages,  # type: ignore[arg-type]
        **options,
    )


def say(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def http_answer(server: Server, user: str, question: str) -> dict[str, Any]:
    with server.client(key_of(user)) as http:
        response = http.post(CHAT, json={"message": question})
    assert response.status_code == 200, response.text
    return dict(response.json())


def first_table(markdown: str) -> tuple[list[str], list[list[str]]]:
    """The first markdown table: its headers and its rows' cells."""
    lines = [line for line in markdown.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    block = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        block.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return [c.strip() for c in block[0]], block[2:]


def formatted_rows(reply: dict[str, Any], kinds: dict[str, str]) -> list[list[str]]:
    """The HTTP API's rows as the markdown writes their values."""
    columns = reply["results"]["columns"]
    return [
        [cell_text(row[c], kinds.get(c, "number"), missing="-") for c in columns]
        for row in reply["results"]["rows"]
    ]


# ---- models ----------------------------------------------------------------------------------


def test_the_models_list_is_the_analyst(server: Server) -> None:
    models = client(server, "alice").models.list()
    assert [m.id for m in models.data] == ["chatter"]
    assert models.data[0].object == "model" and models.data[0].owned_by == "chatter"
    assert client(server, "vera").models.retrieve("chatter").id == "chatter"
    with pytest.raises(openai.NotFoundError, match="chatter"):
        client(server, "alice").models.retrieve("gpt-4o")


# ---- answers ---------------------------------------------------------------------------------


def test_an_answer_is_markdown_with_the_http_apis_numbers(server: Server) -> None:
    question = "conversion rate by plan"
    completion = ask(server, "alice", say(question), temperature=0.2, max_tokens=50, seed=1)
    reference = http_answer(server, "alice", question)
    content = completion.choices[0].message.content or ""
    assert completion.object == "chat.completion" and completion.model == "chatter"
    assert completion.choices[0].finish_reason == "stop" and len(completion.choices) == 1
    # The interpretation first, then the table whose every value is the API's, formatted.
    interpretation = reference["interpretation"]["text"]
    assert content.splitlines()[0] == f"**Understood:** {interpretation}"
    headers, rows = first_table(content)
    assert headers == ["plan type", "conversion rate"]
    assert rows == formatted_rows(reference, {"conversion_rate": "percent"})
    assert len(rows) == reference["results"]["row_count"] > 1
    assert reference["sql_query"] in content
    for follow_up in reference["suggested_actions"]:
        assert f"- {follow_up}" in content
    # No tokens are generated: the usage block says 0, and the turn's session is named.
    usage = completion.usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (0, 0)
    assert usage.total_tokens == 0
    turn = (completion.model_extra or {})["chatter"]
    assert MARKER.findall(content) == [turn["session_id"]] and turn["route"] == "query"
    assert completion.id == f"chatcmpl-{turn['message_id']}"
    with server.client(key_of("alice")) as http:
        session = http.get(f"/api/v1/chat/sessions/{turn['session_id']}").json()
    assert [m["question"] for m in session["messages"]] == [question]


def test_a_long_table_is_cut_as_the_api_cuts_it_and_says_so(tmp_path: Path, demo_db: Path) -> None:
    env = {"CHATTER_API_RESULT_ROWS": "3"}
    with running_server(tmp_path / "home", demo_db, extra_env=env) as capped:
        content = ask(capped, "alice", say("users by country")).choices[0].message.content or ""
        reference = http_answer(capped, "alice", "users by country")
    total = reference["results"]["row_count"]
    assert total > 3 and len(reference["results"]["rows"]) == 3
    assert first_table(content)[1] == formatted_rows(reference, {})
    assert f"First 3 of {total:,} rows" in content and "CHATTER_API_RESULT_ROWS" in content


def test_a_workflow_answer_shows_its_findings_numbered_as_the_evidence_cites_them(
    server: Server,
) -> None:
    question = "why are fintech trials converting worse?"
    content = ask(server, "alice", say(question)).choices[0].message.content or ""
    reference = http_answer(server, "alice", question)
    findings = reference["findings"]
    assert reference["route"]["workflow"] != "query" and findings
    # The answer's own words, insights included (shown inert: "p < 0.001" as "p &lt; 0.001").
    assert inert(reference["content"]) in content
    numbered = re.findall(r"^\| (\d+) \| ", content, flags=re.MULTILINE)
    assert numbered == [str(n) for n in range(1, len(findings) + 1)]
    significant = sum(f["significant"] for f in findings if f["testable"] and not f["descriptive"])
    assert f"({significant} of " in content
    evidence = content.split("**Evidence**")[1].split("\n\n", 2)[1].splitlines()
    assert len(evidence) == len(reference["insights"])
    cited = {
        int(n)
        for line in evidence  # "1. findings 19, 24 and 26; table ..., rows ..."
        for n in re.findall(r"\b(\d+)\b", line.split(". ", 1)[1].split(";")[0])
        if line.split(". ", 1)[1].startswith("finding")
    }
    expected = {
        int(e.split("[")[1].rstrip("]")) + 1
        for insight in reference["insights"]
        for e in insight["evidence"]
        if e.startswith("findings[")
    }
    assert cited == expected


def test_a_question_back_shows_the_question_and_its_options(server: Server) -> None:
    question = "is the pro plan worth it?"
    reference = http_answer(server, "alice", question)
    assert reference["message_type"] == "clarification" and reference["suggested_actions"]
    completion = ask(server, "alice", say(question))
    content = completion.choices[0].message.content or ""
    assert (completion.model_extra or {})["chatter"]["message_type"] == "clarification"
    assert reference["content"] in content
    for option in reference["suggested_actions"]:
        assert f"\n- {option}" in content


def test_streaming_sends_the_same_answer_in_chunks(server: Server) -> None:
    question = "churn rate by industry"
    whole = ask(server, "alice", say(question)).choices[0].message.content or ""
    stream = ask(
        server, "alice", say(question), stream=True, stream_options={"include_usage": True}
    )
    pieces, usage, roles = [], None, []
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk" and chunk.model == "chatter"
        if chunk.usage is not None:
            usage = chunk
            continue
        delta = chunk.choices[0].delta
        roles += [delta.role] if delta.role else []
        pieces.append(delta.content or "")
    streamed = "".join(pieces)
    assert roles == ["assistant"] and len([p for p in pieces if p]) > 3
    # Same answer but for the session it was recorded in (each request is a new session).
    assert MARKER.sub("", streamed) == MARKER.sub("", whole)
    assert usage is not None and usage.choices == [] and usage.usage is not None
    assert usage.usage.total_tokens == 0
    assert MARKER.findall(streamed) == [(usage.model_extra or {})["chatter"]["session_id"]]


def test_the_stream_is_server_sent_events_ending_with_done(server: Server) -> None:
    body = {"model": "chatter", "messages": say("users by plan"), "stream": True}
    with server.client(key_of("alice")) as http:
        response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    data = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "stop"


# ---- sessions --------------------------------------------------------------------------------


def test_a_follow_up_continues_the_session_its_history_names(server: Server) -> None:
    history = say("conversion rate by plan")
    first = ask(server, "alice", history)
    history += [
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "now by country"},
    ]
    pieces = [
        c.choices[0].delta.content or ""
        for c in ask(server, "alice", history, stream=True)
        if c.choices
    ]
    follow = "".join(pieces)
    session = (first.model_extra or {})["chatter"]["session_id"]
    assert MARKER.findall(follow) == [session]
    # The same measure by the new dimension: the session carried the measure over.
    headers, rows = first_table(follow)
    assert headers == ["country", "conversion rate"] and len(rows) > 1
    with server.client(key_of("alice")) as http:
        stored = http.get(f"/api/v1/chat/sessions/{session}").json()
        reference = http.post(CHAT, json={"message": "conversion rate by country"}).json()
    assert [m["question"] for m in stored["messages"]] == [
        "conversion rate by plan",
        "now by country",
    ]
    assert rows == formatted_rows(reference, {"conversion_rate": "percent"})


def test_a_session_named_by_header_or_metadata_is_continued(server: Server) -> None:
    first = ask(server, "bob", say("churn rate by plan"))
    session = (first.model_extra or {})["chatter"]["session_id"]
    by_header = client(server, "bob").chat.completions.create(
        model="chatter",
        messages=say("now by industry"),  # type: ignore[arg-type]
        extra_headers={"X-Chatter-Session": session},
    )
    by_metadata = ask(server, "bob", say("now by country"), metadata={"chatter_session": session})
    for reply, dimension in ((by_header, "industry"), (by_metadata, "country")):
        assert (reply.model_extra or {})["chatter"]["session_id"] == session
        assert first_table(reply.choices[0].message.content or "")[0] == [dimension, "churn rate"]


def test_another_users_session_is_unknown(server: Server) -> None:
    first = ask(server, "alice", say("users by plan"))
    session = (first.model_extra or {})["chatter"]["session_id"]
    history = [
        *say("users by plan"),
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "now by industry"},
    ]
    with pytest.raises(openai.NotFoundError, match="marker") as by_marker:
        ask(server, "bob", history)
    assert by_marker.value.code == "unknown_session" and session in by_marker.value.message
    assert by_marker.value.param == "messages"
    with pytest.raises(openai.NotFoundError, match="X-Chatter-Session"):
        client(server, "bob").chat.completions.create(
            model="chatter",
            messages=say("now by industry"),  # type: ignore[arg-type]
            extra_headers={"X-Chatter-Session": session},
        )
    with pytest.raises(openai.BadRequestError, match="not a session id"):
        ask(server, "bob", say("users by plan"), metadata={"chatter_session": "no such/id"})
    with server.client(key_of("alice")) as http:
        stored = http.get(f"/api/v1/chat/sessions/{session}").json()
    assert [m["question"] for m in stored["messages"]] == ["users by plan"]


def test_a_conversation_goes_on_in_whichever_worker_serves_it(
    tmp_path: Path, demo_db: Path, postgres_url: str
) -> None:
    """Two workers on PostgreSQL state: each turn on a connection of its own, until both
    workers have served the conversation; every turn continues the one session (its marker
    found in the history) and builds on the last answer, whichever worker got it."""
    env = {"CHATTER_STATE_URL": as_url(postgres_url), "CHATTER_SERVE_WORKERS": "2"}
    with running_server(tmp_path / "home", demo_db, extra_env=env) as server:
        deadline = time.monotonic() + 60
        while len(pids := worker_pids(server.process.pid)) < 2:
            assert time.monotonic() < deadline, "the two workers did not start"
            time.sleep(0.2)
        port = int(server.url.rsplit(":", 1)[1])
        history = say("conversion rate by plan")
        follow_ups = [("now by country", "country"), ("now by industry", "industry")]
        served: Counter[int | None] = Counter()
        sessions = set()
        for turn in range(40):
            with httpx.Client(timeout=120) as http:
                raw = openai.OpenAI(
                    base_url=f"{server.url}/v1", api_key=key_of("alice"), http_client=http
                ).chat.completions.with_raw_response.create(
                    model="chatter",
                    messages=history,  # type: ignore[arg-type]
                )
                stream = raw.http_response.extensions["network_stream"]
                served[serving_pid(port, stream.get_extra_info("client_addr")[1], pids)] += 1
            content = raw.parse().choices[0].message.content or ""
            sessions |= set(MARKER.findall(content))
            expected = "plan type" if turn == 0 else follow_ups[(turn - 1) % 2][1]
            assert first_table(content)[0] == [expected, "conversion rate"], content
            if set(served) == pids:
                break
            question = follow_ups[turn % 2][0]
            history += [{"role": "assistant", "content": content}, *say(question)]
        assert set(served) == pids, served
        assert len(sessions) == 1
        with server.client(key_of("alice")) as http:
            stored = http.get(f"/api/v1/chat/sessions/{sessions.pop()}").json()
        assert len(stored["messages"]) == sum(served.values())


# ---- errors ----------------------------------------------------------------------------------


def test_a_bad_key_is_an_authentication_error(server: Server) -> None:
    bad = client(server, key="chk_not_a_key_of_this_server")
    with pytest.raises(openai.AuthenticationError, match="Unknown API key") as raised:
        bad.chat.completions.create(model="chatter", messages=say("users by plan"))  # type: ignore[arg-type]
    assert raised.value.status_code == 401 and raised.value.type == "authentication_error"
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_an_unknown_model_names_the_one_served(server: Server) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client(server, "alice").chat.completions.create(
            model="gpt-4o",
            messages=say("users by plan"),  # type: ignore[arg-type]
        )
    error = raised.value
    assert error.code == "model_not_found" and error.param == "model"
    assert "'gpt-4o'" in error.message and "chatter" in error.message


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"n": 2}, "n=2"),
        ({"tools": [{"type": "function", "function": {"name": "lookup"}}]}, "tools"),
        ({"response_format": {"type": "json_object"}}, "json_object"),
        ({"logprobs": True}, "logprobs"),
        ({"extra_body": {"temprature": 0.5}}, "temprature"),
    ],
)
def test_parameters_that_would_change_the_answer_are_refused(
    server: Server, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(openai.UnprocessableEntityError, match=named) as raised:
        ask(server, "alice", say("users by plan"), **options)
    assert raised.value.type == "invalid_request_error"


def test_the_last_message_must_be_the_users(server: Server) -> None:
    history = [*say("users by plan"), {"role": "assistant", "content": "an answer"}]
    with pytest.raises(openai.BadRequestError, match="last message must be the user's") as raised:
        ask(server, "alice", history)
    assert raised.value.param == "messages"


def test_a_viewer_asking_for_a_workflow_is_refused(server: Server) -> None:
    question = say("why are fintech trials converting worse?")
    with pytest.raises(openai.PermissionDeniedError, match="viewer") as raised:
        ask(server, "vera", question)
    assert raised.value.code == "permission_denied" and "workflow" in raised.value.message
    # Streamed, the refusal comes after the stream began: an error the client raises.
    with pytest.raises(openai.APIError, match="viewer"):
        for _ in ask(server, "vera", question, stream=True):
            pass
    # A single query is a viewer's to ask.
    assert "| plan type |" in (
        ask(server, "vera", say("users by plan")).choices[0].message.content or ""
    )


def test_requests_are_answered_under_the_api_errors_shape(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response = http.post("/v1/chat/completions", json={"model": "chatter"})
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "type", "param"}
    with server.client(key_of("alice")) as http:
        response = http.post("/v1/chat/completions", json={"model": "chatter", "messages": []})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["param"] == "messages"


def test_no_request_made_a_server_error(server: Server) -> None:
    """Last in the module: nothing above reached the API's internal-error handler."""
    assert not any(
        "api_internal_error" in line or "openai_stream_failed" in line for line in server.stderr
    )
