"""API keys against a real `chatter serve` on loopback and the real `chatter` command: a key in
any input is refused like other secrets and never kept (no file under CHATTER_HOME holds its
bytes), errors never echo it, weak keys stop the start-up (exit code 2, naming the user, never
the key), and `chatter keys create` prints a strong key that a server accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import KEYS, Server, key_of, running_server

from chatter.api.key_strength import weakness

pytestmark = pytest.mark.integration

CHAT = "/api/v1/chat/query"
ROOT, VERA = key_of("root"), key_of("vera")  # vera's is hex: no secret pattern knows it


def chatter(*args: str, home: Path, env: dict[str, str] | None = None) -> Any:
    environment = {k: v for k, v in os.environ.items() if k != "CHATTER_API_KEYS"}
    environment |= {"CHATTER_HOME": str(home), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "chatter.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A key made by `chatter keys create --json`, for user carol."""
    home = tmp_path_factory.mktemp("create") / "home"
    made = chatter("keys", "create", "--user", "carol", "--role", "analyst", "--json", home=home)
    assert made.returncode == 0, made.stderr
    return dict(json.loads(made.stdout))


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, demo_db: Path, created: dict[str, Any]
) -> Iterator[Server]:
    """The test keys and carol's new key, in a keys file outside the server's home."""
    folder = tmp_path_factory.mktemp("keys")
    keys = folder / "keys.json"
    keys.write_text(json.dumps({**KEYS, **created["entry"]}))
    env = {"CHATTER_API_WORKERS": "1", "CHATTER_API_KEYS": str(keys)}
    with running_server(folder / "home", demo_db, extra_env=env) as running:
        yield running


def every_key() -> list[str]:
    return list(KEYS)


def assert_kept_nowhere(server: Server, *keys: str) -> None:
    """No file under the server's home (SQLite files and their WAL, checkpoints, the result
    cache) and no log line holds any of ``keys``."""
    time.sleep(0.3)  # let the server finish writing (WAL) and logging
    files = [p for p in server.home.rglob("*") if p.is_file()]
    assert files, "the server wrote nothing?"
    for path in files:
        data = path.read_bytes()
        for key in keys:
            assert key.encode() not in data, (path, KEYS.get(key, {}).get("user"))
    for key in keys:
        assert not any(key in line for line in server.stderr)


# ---- a key in an input is refused and kept nowhere ---------------------------------------------


def test_the_admin_key_in_a_message_is_refused_with_422_and_kept_nowhere(server: Server) -> None:
    with server.client(key_of("alice")) as http:
        first = http.post(CHAT, json={"message": "conversion rate by plan"})
        assert first.status_code == 200, first.text
        session = first.json()["session_id"]
        for message, session_id in [
            (f"conversion by plan, the admin key is {ROOT}", None),
            (f"now by industry {ROOT}", session),  # a turn of an existing session
            (f"users by country; key={VERA}", None),  # a hex key: known only as configured
        ]:
            body = {"message": message} | ({"session_id": session_id} if session_id else {})
            response = http.post(CHAT, json=body)
            assert response.status_code == 422, response.text
            refused = response.json()
            assert refused["error"]["code"] == "sensitive_content"
            assert refused["message_type"] == "refusal"
            assert "API key" in refused["error"]["message"]
            assert ROOT not in response.text and VERA not in response.text
            stored = http.get(f"/api/v1/chat/sessions/{refused['session_id']}").json()
            assert "[REDACTED:api_key]" in json.dumps(stored)
    with server.client(ROOT) as http:  # one's own key too
        own = http.post(CHAT, json={"message": f"conversion rate by plan {ROOT}"})
        assert own.status_code == 422 and ROOT not in own.text
        streamed = http.post(
            CHAT,
            json={"message": f"users by plan {ROOT}"},
            headers={"Accept": "text/event-stream"},
        )
        assert "event: error" in streamed.text and "sensitive_content" in streamed.text
        assert ROOT not in streamed.text
    assert_kept_nowhere(server, *every_key())


def test_a_key_in_refine_params_customizations_or_feedback_is_kept_nowhere(
    server: Server,
) -> None:
    with server.client(key_of("alice")) as http:
        answer = http.post(CHAT, json={"message": "conversion rate by plan"}).json()
        refined = http.post(
            "/api/v1/chat/refine",
            json={
                "session_id": answer["session_id"],
                "type": "add_filter",
                "params": {"field": "industry", "op": "=", "value": ROOT},
            },
        )
        assert refined.status_code == 422, refined.text
        assert refined.json()["error"]["code"] == "sensitive_content" and ROOT not in refined.text
        run = http.post(
            "/api/v1/workflows",
            json={
                "template": "conversion_deep_dive",
                "customizations": {
                    "steps": {
                        "industry_breakdown": {
                            "parameters": {
                                "filters": [{"field": "industry", "op": "=", "value": VERA}]
                            }
                        }
                    }
                },
            },
        )
        assert run.status_code == 422, run.text
        assert run.json()["error"]["code"] == "sensitive_content" and VERA not in run.text
        feedback = http.post(
            "/api/v1/chat/feedback",
            json={
                "session_id": answer["session_id"],
                "message_id": answer["message_id"],
                "rating": "negative",
                "comment": f"wrong, and here is a key {ROOT}",
            },
        )
        assert feedback.status_code == 200 and ROOT not in feedback.text
    assert_kept_nowhere(server, *every_key())


def test_errors_never_echo_a_key(server: Server) -> None:
    with server.client(key_of("alice")) as http:
        answers = [
            http.get(f"/api/v1/workflows/{ROOT}"),  # an unknown run named by a key
            http.get(f"/api/v1/chat/sessions/{VERA}"),
            http.post(CHAT, json={"message": "users by plan", "session_id": ROOT}),
            http.post("/api/v1/workflows", json={"template": ROOT}),
            http.post("/api/v1/workflows", json={"template": f"conversion_deep_dive {VERA}"}),
            http.post(
                "/api/v1/chat/feedback",
                json={"session_id": ROOT, "message_id": VERA, "rating": ROOT},
            ),
            http.post(CHAT, json={"message": ROOT * 200}),  # over the length limit
        ]
    with server.client(ROOT + "x") as http:  # a near miss of a key
        answers.append(http.get("/api/v1/chat/sessions"))
    for response in answers:
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
        assert "error" in response.json()
        assert ROOT not in response.text and VERA not in response.text, response.text
    assert_kept_nowhere(server, ROOT, VERA)


# ---- weak keys stop the start-up ----------------------------------------------------------------


def test_weak_keys_stop_chatter_serve_with_exit_code_2_naming_their_users(
    tmp_path: Path, demo_db: Path
) -> None:
    weak = {
        "alice-key-0123456789": "alice",  # too short
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": "bob",  # repeated characters
        "abcdefghijklmnopqrstuvwxyz0123456789": "vera",  # sequences
        "correcthorsebatterystaple": "dora",  # words
        "Xq7-Lp2_Mn9-Rt5_Vb6-Wc4_Yd1": "Xq7-Lp2_Mn9-Rt5_Vb6-Wc4_Yd1",  # the user's name
    }
    keys = tmp_path / "keys.json"
    entries = {k: {"user": u, "role": "analyst"} for k, u in weak.items()}
    keys.write_text(json.dumps({**entries, key_of("root"): {"user": "root", "role": "admin"}}))
    env = {"CHATTER_API_KEYS": str(keys), "CHATTER_DATABASE": str(demo_db)}
    started = time.monotonic()
    served = chatter("serve", "--port", "0", home=tmp_path / "home", env=env)
    assert served.returncode == 2, served.stderr
    assert time.monotonic() - started < 60  # refused at start-up, never serving
    said = " ".join(served.stderr.split())
    for user in ("alice", "bob", "vera", "dora"):
        assert f"user {user!r} is too weak" in said
    assert "the key of a user is too weak: it is the user's name" in said
    assert "24 characters" in said and "chatter keys create" in said
    for key in weak:  # the one equal to its user's name is said as "a user"
        assert key not in served.stderr and key not in served.stdout
    assert "user 'root'" not in said and key_of("root") not in said
    checked = chatter("keys", "check", "--json", home=tmp_path / "home", env=env)
    assert checked.returncode == 2
    assert json.loads(checked.stdout)["error"]["code"] == "invalid_api_keys"


# ---- chatter keys create ------------------------------------------------------------------------


def test_keys_create_prints_only_a_strong_key(tmp_path: Path) -> None:
    made = chatter("keys", "create", "--user", "alice", "--role", "analyst", home=tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == key + "\n" and key.startswith("chk_")
    assert weakness(key, user="alice", role="analyst") is None
    assert "CHATTER_API_KEYS" in made.stderr and key not in made.stderr
    again = chatter("keys", "create", home=tmp_path)
    assert again.stdout.strip() != key


def test_keys_create_json_is_one_document_and_a_server_accepts_the_key(
    server: Server, created: dict[str, Any]
) -> None:
    assert set(created) == {"key", "user", "role", "estimated_bits", "entry"}
    assert created["user"] == "carol" and created["role"] == "analyst"
    assert created["entry"] == {created["key"]: {"user": "carol", "role": "analyst"}}
    assert created["estimated_bits"] >= 100
    assert weakness(created["key"], user="carol", role="analyst") is None
    with server.client(created["key"]) as http:
        response = http.post(CHAT, json={"message": "users by plan"})
    assert response.status_code == 200, response.text
    with httpx.Client(base_url=server.url, timeout=60) as http:
        bad = http.get("/api/v1/chat/sessions", headers={"Authorization": "Bearer chk_nope"})
    assert bad.status_code == 401


def test_keys_create_refuses_a_bad_role_with_exit_code_2(tmp_path: Path) -> None:
    made = chatter("keys", "create", "--role", "no such role", "--json", home=tmp_path)
    assert made.returncode == 2
    assert json.loads(made.stdout)["error"]["code"] == "invalid_api_keys"


# ---- the command line screens the data directory's keys too ------------------------------------


def test_chatter_ask_refuses_a_configured_key_and_keeps_it_nowhere(
    tmp_path: Path, demo_db: Path
) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(KEYS))
    home = tmp_path / "home"
    env = {"CHATTER_API_KEYS": str(keys), "CHATTER_DATABASE": str(demo_db)}
    asked = chatter("ask", f"conversion rate by plan {VERA}", "--json", home=home, env=env)
    assert asked.returncode == 2, asked.stderr
    assert json.loads(asked.stdout)["error"]["code"] == "sensitive_content"
    ran = chatter("run", ROOT, "--json", home=home, env=env)  # an error quoting the input
    assert ran.returncode == 2 and json.loads(ran.stdout)["error"]["message"]
    for out in (asked, ran):
        assert VERA not in out.stdout + out.stderr and ROOT not in out.stdout + out.stderr
    for path in (p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        assert VERA.encode() not in data and ROOT.encode() not in data, path
