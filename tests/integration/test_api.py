"""The chat HTTP API against a real `chatter serve` on loopback: auth, chat with sessions and
streaming, refinements, feedback, exports, background workflow runs with cancel, admin routes,
scopes and secrets through HTTP, idle expiry, and sessions surviving a restart."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from api_server import Server, key_of, running_server

pytestmark = pytest.mark.integration

CHAT = "/api/v1/chat/query"
SECRET = "ghp_" + "Zq8" * 12


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("api") / "home"
    with running_server(home, demo_db, extra_env={"CHATTER_API_WORKERS": "1"}) as running:
        yield running


def client(server: Server, user: str | None) -> httpx.Client:
    return server.client(key_of(user) if user else None)


def ask(server: Server, user: str, message: str, session_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if session_id:
        body["session_id"] = session_id
    with client(server, user) as http:
        response = http.post(CHAT, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def independent(database: Path, tmp: Path) -> duckdb.DuckDBPyConnection:
    copy = tmp / "copy.duckdb"
    shutil.copy(database, copy)
    return duckdb.connect(str(copy), read_only=True)


# ---- auth -------------------------------------------------------------------------------------


def test_health_is_open_and_everything_else_needs_a_key(server: Server) -> None:
    with client(server, None) as http:
        assert http.get("/health").json()["status"] == "ok"
        for method, path in [
            ("POST", CHAT),
            ("GET", "/api/v1/chat/sessions"),
            ("GET", "/api/v1/workflows/templates"),
            ("GET", "/api/v1/metrics"),
            ("GET", "/api/v1/audit"),
        ]:
            response = http.request(method, path, json={"message": "hi"})
            assert response.status_code == 401, (method, path)
            assert response.json()["error"]["code"] == "not_authenticated"
        wrong = http.get("/api/v1/chat/sessions", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "Unknown API key."


def test_openapi_docs_are_served(server: Server) -> None:
    with client(server, None) as http:
        assert http.get("/docs").status_code == 200
        paths = http.get("/openapi.json").json()["paths"]
    for path in (CHAT, "/api/v1/chat/refine", "/api/v1/workflows", "/api/v1/audit", "/health"):
        assert path in paths


@pytest.mark.slow
def test_without_configured_keys_one_admin_key_is_made_kept_and_printed(
    tmp_path: Path, demo_db: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHATTER_API_KEYS"}
    home = tmp_path / "home"
    import subprocess
    import sys

    from api_server import _wait_for_url

    def start() -> tuple[subprocess.Popen[str], str, list[str]]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chatter.cli", "serve", "--port", "0"],
            env={**env, "CHATTER_HOME": str(home), "CHATTER_DATABASE": str(demo_db)},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: list[str] = []
        url = _wait_for_url(proc, lines)
        time.sleep(0.3)
        return proc, url, lines

    proc, url, lines = start()
    try:
        printed = next(line for line in lines if "Admin API key" in line).split()[-1]
        stored = json.loads((home / "api_key.json").read_text())
        assert list(stored) == [printed] and stored[printed] == {"user": "admin", "role": "admin"}
        assert stat.S_IMODE((home / "api_key.json").stat().st_mode) == 0o600
        headers = {"Authorization": f"Bearer {printed}"}
        assert httpx.get(f"{url}/api/v1/metrics", headers=headers).status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)
    proc, _, lines = start()  # a restart keeps the same key
    try:
        assert any(printed in line for line in lines)
    finally:
        proc.terminate()
        proc.wait(20)


# ---- chat -------------------------------------------------------------------------------------


def test_a_question_answers_with_every_contract_field(
    server: Server, demo_db: Path, tmp_path: Path
) -> None:
    reply = ask(server, "alice", "conversion rate by plan")
    assert {
        "session_id",
        "message_id",
        "message_type",
        "content",
        "sql_query",
        "results",
        "visualization",
        "findings",
        "insights",
        "suggested_actions",
        "route",
    } <= set(reply)
    assert reply["message_type"] == "answer" and reply["route"]["workflow"] == "query"
    assert reply["visualization"]["$schema"].startswith("https://vega.github.io/schema/vega-lite")
    assert "GROUP BY" in reply["sql_query"] and reply["suggested_actions"]
    with independent(demo_db, tmp_path) as db:
        expected = dict(
            db.execute("SELECT plan_type, AVG(converted::INT) FROM users GROUP BY 1").fetchall()
        )
    got = {r["plan_type"]: r["conversion_rate"] for r in reply["results"]["rows"]}
    assert got == pytest.approx(expected)
    assert reply["results"]["row_count"] == len(expected) and not reply["results"]["truncated"]


def test_follow_ups_use_the_session_and_sessions_are_private(server: Server) -> None:
    first = ask(server, "alice", "churn rate by plan")
    second = ask(server, "alice", "now by industry", first["session_id"])
    assert second["session_id"] == first["session_id"]
    assert (
        "industry" in second["results"]["columns"] and "churn_rate" in second["results"]["columns"]
    )
    with client(server, "alice") as http:
        mine = http.get("/api/v1/chat/sessions").json()["sessions"]
        assert first["session_id"] in {s["session_id"] for s in mine}
        got = http.get(f"/api/v1/chat/sessions/{first['session_id']}").json()
        assert [m["question"] for m in got["messages"]] == ["churn rate by plan", "now by industry"]
    with client(server, "bob") as http:
        assert first["session_id"] not in {
            s["session_id"] for s in http.get("/api/v1/chat/sessions").json()["sessions"]
        }
        for response in (
            http.get(f"/api/v1/chat/sessions/{first['session_id']}"),
            http.delete(f"/api/v1/chat/sessions/{first['session_id']}"),
            http.post(CHAT, json={"message": "top 5", "session_id": first["session_id"]}),
        ):
            assert (
                response.status_code == 404
                and response.json()["error"]["code"] == "unknown_session"
            )


def test_deleting_a_session_forgets_its_conversation(server: Server) -> None:
    first = ask(server, "alice", "users by plan")
    with client(server, "alice") as http:
        assert http.delete(f"/api/v1/chat/sessions/{first['session_id']}").status_code == 200
        assert http.get(f"/api/v1/chat/sessions/{first['session_id']}").status_code == 404
        again = http.post(
            CHAT, json={"message": "now by industry", "session_id": first["session_id"]}
        )
        assert again.status_code == 404


def test_streaming_sends_progress_then_the_answer(server: Server) -> None:
    with (
        client(server, "alice") as http,
        http.stream(
            "POST",
            CHAT,
            json={"message": "why are fintech trials converting worse?"},
            headers={"Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = []
        for block in response.read().decode().split("\n\n"):
            lines = dict(
                line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
            )
            if lines:
                events.append((lines["event"], json.loads(lines["data"])))
    kinds = [e for e, _ in events]
    assert kinds[-1] == "answer" and "progress" in kinds
    assert {d.get("event") for e, d in events if e == "progress"} >= {
        "step_started",
        "step_finished",
    }
    answer = events[-1][1]
    assert answer["route"]["workflow"] == "conversion_deep_dive"
    assert answer["workflow_result"]["status"] in ("completed", "partial") and answer["findings"]


def test_refinements_edit_the_query_structurally(server: Server) -> None:
    first = ask(server, "alice", "conversion rate by plan")
    session = first["session_id"]

    def refine(kind: str, params: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"session_id": session, "type": kind, "params": params}
        if message_id:
            body["message_id"] = message_id
        with client(server, "alice") as http:
            response = http.post("/api/v1/chat/refine", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    filtered = refine("add_filter", {"field": "industry", "op": "=", "value": "fintech"})
    assert "'fintech'" in filtered["sql_query"] and "WHERE" in filtered["sql_query"]
    wider = refine("add_columns", {"dimensions": ["industry"]})
    assert "industry" in wider["results"]["columns"]
    sorted_ = refine("change_sort", {"field": "conversion_rate", "descending": True})
    rates = [r["conversion_rate"] for r in sorted_["results"]["rows"]]
    assert rates == sorted(rates, reverse=True)
    limited = refine("change_limit", {"limit": 2})
    assert limited["results"]["row_count"] == 2 and "LIMIT 2" in limited["sql_query"]
    simple = refine("simplify", {}, message_id=first["message_id"])
    assert simple["results"]["columns"] == ["plan_type", "conversion_rate"]
    with client(server, "alice") as http:
        bad = http.post(
            "/api/v1/chat/refine", json={"session_id": session, "type": "explode", "params": {}}
        )
        assert bad.status_code == 422 and "add_filter" in bad.json()["error"]["message"]
        typo = http.post(
            "/api/v1/chat/refine",
            json={
                "session_id": session,
                "type": "add_columns",
                "params": {"dimensions": ["industy"]},
            },
        )
        assert (
            typo.status_code == 400 and "Did you mean 'industry'" in typo.json()["error"]["message"]
        )


def test_feedback_is_stored_and_feeds_satisfaction(server: Server) -> None:
    reply = ask(server, "bob", "users by plan")
    with client(server, "bob") as http:
        for rating in ("positive", "positive", "negative"):
            ok = http.post(
                "/api/v1/chat/feedback",
                json={
                    "session_id": reply["session_id"],
                    "message_id": reply["message_id"],
                    "rating": rating,
                    "comment": "ok",
                },
            )
            assert ok.status_code == 200 and ok.json()["recorded"]
        unknown = http.post(
            "/api/v1/chat/feedback",
            json={"session_id": reply["session_id"], "message_id": "nope", "rating": "positive"},
        )
        assert unknown.status_code == 404
    with client(server, "root") as http:
        feedback = http.get("/api/v1/metrics").json()["counters"]["feedback"]
    assert feedback["positive"] >= 2 and feedback["negative"] >= 1
    assert feedback["satisfaction"] == pytest.approx(
        feedback["positive"] / (feedback["positive"] + feedback["negative"])
    )


def test_exports_carry_the_answer_rows(server: Server, tmp_path: Path) -> None:
    reply = ask(server, "alice", "users and conversion rate by plan")
    rows = reply["results"]["rows"]
    base = f"/api/v1/chat/sessions/{reply['session_id']}/messages/{reply['message_id']}/export"
    with client(server, "alice") as http:
        as_csv = http.get(base, params={"format": "csv"})
        as_json = http.get(base, params={"format": "json"})
        as_parquet = http.get(base, params={"format": "parquet"})
        assert http.get(base, params={"format": "xls"}).status_code == 422
    assert as_csv.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["plan_type"] for r in parsed] == [r["plan_type"] for r in rows]
    assert as_json.json()["rows"] == rows
    path = tmp_path / "x.parquet"
    path.write_bytes(as_parquet.content)
    with duckdb.connect() as db:
        table = db.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
    assert [tuple(r.values()) for r in rows] == table


def test_answers_stored_before_the_answer_document_became_flat_still_export_and_refine(
    server: Server,
) -> None:
    """Sessions stored by the previous version kept the result under "result": nothing stored
    is lost."""
    from chatter.stores.sessions import SessionStore

    rows = [{"plan_type": "starter", "users": 3}, {"plan_type": "growth", "users": 2}]
    old = {
        "text": "| plan_type | users |",
        "result": {
            "workflow": "query",
            "run_id": "old-run",
            "status": "completed",
            "steps": [
                {"id": "query", "type": "query", "status": "completed", "rows": rows,
                 "columns": ["plan_type", "users"]}
            ],
        },
        "query": {"measures": ["users"], "dimensions": ["plan_type"], "filters": [],
                  "time_grain": None, "order_by": [], "limit": None},
        "suggestions": [],
        "clarification": False,
        "options": [],
        "error": None,
    }  # fmt: skip
    store = SessionStore(server.home / "sessions.sqlite")
    try:
        session = store.create("alice", "users by plan")["session_id"]
        message = store.add_message(session, "users by plan", old)
    finally:
        store.close()
    base = f"/api/v1/chat/sessions/{session}/messages/{message}/export"
    with client(server, "alice") as http:
        exported = http.get(base, params={"format": "json"})
        refined = http.post(
            "/api/v1/chat/refine",
            json={"session_id": session, "message_id": message, "type": "change_limit",
                  "params": {"limit": 1}},
        )  # fmt: skip
    assert exported.status_code == 200 and exported.json()["rows"] == rows
    assert refined.status_code == 200, refined.text
    assert refined.json()["results"]["row_count"] == 1 and "LIMIT 1" in refined.json()["sql_query"]


# ---- workflows --------------------------------------------------------------------------------


def wait_for(http: httpx.Client, run_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = http.get(f"/api/v1/workflows/{run_id}").json()
        if status["status"] not in ("created", "queued", "running", "interrupted"):
            return dict(status)
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def test_a_workflow_runs_in_the_background(server: Server) -> None:
    with client(server, "alice") as http:
        names = {t["name"] for t in http.get("/api/v1/workflows/templates").json()["templates"]}
        assert names >= {"conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization"}
        created = http.post("/api/v1/workflows", json={"template": "revenue_optimization"})
        assert created.status_code == 201 and created.json()["status"] == "created"
        run_id = created.json()["run_id"]
        started = http.post(f"/api/v1/workflows/{run_id}/execute")
        assert started.status_code == 202 and started.json()["status"] in ("queued", "running")
        again = http.post(f"/api/v1/workflows/{run_id}/execute")
        assert again.status_code == 409
        done = wait_for(http, run_id)
        assert (
            done["status"] == "completed" and done["result"]["workflow"] == "revenue_optimization"
        )
        assert done["progress"]["percent"] == 100.0
        history = http.get("/api/v1/workflows").json()["runs"]
        assert run_id in {r["run_id"] for r in history}
    with client(server, "bob") as http:
        assert http.get(f"/api/v1/workflows/{run_id}").status_code == 404
        assert run_id not in {r["run_id"] for r in http.get("/api/v1/workflows").json()["runs"]}


def test_bad_workflow_requests_are_4xx(server: Server) -> None:
    with client(server, "alice") as http:
        typo = http.post("/api/v1/workflows", json={"template": "conversion_deep_div"})
        assert typo.status_code == 400 and "Did you mean 'conversion_deep_dive'" in typo.text
        bad = http.post(
            "/api/v1/workflows",
            json={"template": "conversion_deep_dive", "customizations": {"steps": {"nope": {}}}},
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_step"
        assert http.post("/api/v1/workflows/nope/execute").status_code == 404
    with client(server, "vera") as http:
        denied = http.post("/api/v1/workflows", json={"template": "conversion_deep_dive"})
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"


def test_cancel_really_stops_runs(server: Server) -> None:
    """One worker (CHATTER_API_WORKERS=1): the first run is running when cancelled, the second
    waits behind it and ends cancelled without starting; a created run is cancelled in place."""
    with client(server, "alice") as http:
        ids = []
        for _ in range(2):
            run_id = http.post(
                "/api/v1/workflows",
                json={"template": "feature_usage_deep_dive", "customizations": {}},
            ).json()["run_id"]
            assert http.post(f"/api/v1/workflows/{run_id}/execute").status_code == 202
            ids.append(run_id)
        for run_id in reversed(ids):
            response = http.post(f"/api/v1/workflows/{run_id}/cancel")
            assert response.status_code == 202 and response.json()["cancelled"], response.text
        queued = http.get(f"/api/v1/workflows/{ids[1]}").json()
        assert queued["status"] == "cancelled" and queued["result"] is None  # at once
        assert queued["reason"] == "cancelled before it started"
        first = wait_for(http, ids[0])
        assert first["status"] == "cancelled"
        assert any(s["status"] == "skipped" for s in first["result"]["steps"])
        created = http.post("/api/v1/workflows", json={"template": "conversion_deep_dive"}).json()[
            "run_id"
        ]
        assert http.post(f"/api/v1/workflows/{created}/cancel").json()["status"] == "cancelled"
        assert http.post(f"/api/v1/workflows/{created}/execute").status_code == 409
        assert http.post(f"/api/v1/workflows/{created}/cancel").status_code == 409


# ---- admin, governance through HTTP ----------------------------------------------------------


def test_admin_routes_are_admin_only(server: Server) -> None:
    for user in ("alice", "vera"):
        with client(server, user) as http:
            for path in (
                "/api/v1/metrics",
                "/api/v1/audit",
                "/api/v1/audit/verify",
                "/api/v1/admin/permissions",
            ):
                response = http.get(path)
                assert response.status_code == 403, (user, path)
    with client(server, "root") as http:
        snapshot = http.get("/api/v1/metrics").json()
        assert snapshot["counters"]["tool_calls"]["total"] > 0 and "health" in snapshot
        text = http.get("/api/v1/metrics", params={"format": "prometheus"}).text
        assert "chatter_tool_calls_total" in text
        denied = http.get("/api/v1/audit", params={"user": "vera", "decision": "denied"}).json()[
            "records"
        ]
        assert {r["action"] for r in denied} >= {"metrics.read", "audit.read"}
        assert http.get("/api/v1/audit/verify").json()["ok"] is True
        bad_time = http.get("/api/v1/audit", params={"since": "yesterday"})
        assert bad_time.status_code == 400 and "since" in bad_time.json()["error"]["message"]


def test_grants_and_scopes_over_http_change_what_users_get(
    server: Server, demo_db: Path, tmp_path: Path
) -> None:
    with client(server, "vera") as http:
        assert (
            http.post("/api/v1/workflows", json={"template": "conversion_deep_dive"}).status_code
            == 403
        )
    with client(server, "root") as http:
        granted = http.post(
            "/api/v1/admin/permissions",
            json={
                "subject": "user:vera",
                "resource": "workflow:conversion_deep_dive",
                "level": "execute",
            },
        )
        assert granted.status_code == 201 and granted.json()["granted_by"] == "root"
        scoped = http.put(
            "/api/v1/admin/scopes/user:bob",
            json={"filters": [{"field": "country", "op": "=", "value": "DE"}]},
        )
        assert scoped.status_code == 200
        assert (
            http.put(
                "/api/v1/admin/scopes/user:bob",
                json={"filters": [{"field": "contry", "op": "=", "value": "DE"}]},
            ).status_code
            == 400
        )
    with client(server, "vera") as http:
        assert (
            http.post("/api/v1/workflows", json={"template": "conversion_deep_dive"}).status_code
            == 201
        )
    reply = ask(server, "bob", "users by plan")
    with independent(demo_db, tmp_path) as db:
        expected = dict(
            db.execute(
                "SELECT plan_type, COUNT(*) FROM users WHERE country = 'DE' GROUP BY 1"
            ).fetchall()
        )
    assert {r["plan_type"]: r["users"] for r in reply["results"]["rows"]} == expected
    with client(server, "root") as http:
        revoked = http.delete(
            "/api/v1/admin/permissions",
            params={"subject": "user:vera", "resource": "workflow:conversion_deep_dive"},
        )
        assert revoked.json() == {"revoked": True}
        http.put("/api/v1/admin/scopes/user:bob", json={"filters": []})
        changes = http.get(
            "/api/v1/audit", params={"action": "permissions.*", "user": "root"}
        ).json()["records"]
        assert {"permissions.grant", "permissions.scope", "permissions.revoke"} <= {
            r["action"] for r in changes
        }


def test_a_secret_in_a_message_is_refused_and_not_kept(server: Server) -> None:
    with client(server, "alice") as http:
        response = http.post(CHAT, json={"message": f"conversion by plan, my token is {SECRET}"})
        assert response.status_code == 422
        body = response.json()
        assert body["error"]["code"] == "sensitive_content" and body["message_type"] == "refusal"
        assert SECRET not in response.text
        stored = http.get(f"/api/v1/chat/sessions/{body['session_id']}").json()
        assert SECRET not in json.dumps(stored) and "[REDACTED" in stored["messages"][0]["question"]
    time.sleep(0.2)
    assert not any(SECRET in line for line in server.stderr)
    for path in server.home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_secret_in_a_refinement_is_refused_and_not_kept(server: Server) -> None:
    """A refinement is a turn of the session too: a secret in its values must reach neither the
    session store nor the chat checkpoints, whose input channel would keep it."""
    first = ask(server, "alice", "conversion rate by plan")
    with client(server, "alice") as http:
        response = http.post(
            "/api/v1/chat/refine",
            json={
                "session_id": first["session_id"],
                "type": "add_filter",
                "params": {"field": "industry", "op": "=", "value": SECRET},
            },
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "sensitive_content"
        assert SECRET not in response.text
    time.sleep(0.2)
    for path in server.home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_rate_limits_answer_429_with_retry_after(server: Server) -> None:
    with client(server, "root") as http:
        http.post(
            "/api/v1/admin/permissions",
            json={
                "subject": "user:bob",
                "resource": "tool:query",
                "level": "execute",
                "rate_limit": {"calls": 1, "window_s": 3600},
            },
        )
    try:
        ask(server, "bob", "users by industry")
        with client(server, "bob") as http:
            limited = http.post(CHAT, json={"message": "users by country"})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 3000
        assert limited.json()["error"]["code"] == "rate_limited"
    finally:
        with client(server, "root") as http:
            http.delete(
                "/api/v1/admin/permissions",
                params={"subject": "user:bob", "resource": "tool:query"},
            )


# ---- durability -------------------------------------------------------------------------------


@pytest.mark.slow
def test_sessions_survive_a_restart_and_idle_ones_expire(tmp_path: Path, demo_db: Path) -> None:
    home = tmp_path / "home"
    with running_server(home, demo_db) as first:
        reply = ask(first, "alice", "conversion rate by plan")
    with running_server(home, demo_db) as second:
        follow = ask(second, "alice", "now by industry", reply["session_id"])
        assert "industry" in follow["results"]["columns"]
    ttl = {"CHATTER_SESSION_TTL_S": "1"}
    with running_server(home, demo_db, extra_env=ttl) as third, client(third, "alice") as http:
        fresh = http.post(CHAT, json={"message": "users by plan"}).json()
        time.sleep(1.5)
        assert http.get(f"/api/v1/chat/sessions/{fresh['session_id']}").status_code == 404
        assert http.get("/api/v1/chat/sessions").json()["sessions"] == []
