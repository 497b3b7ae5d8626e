"""Runs survive their server: a real `chatter serve` on loopback is killed (SIGKILL) or stopped
(SIGTERM) with background runs mid-step and queued, and a foreground run dies with its CLI
process; after a restart every run ends (completed, cancelled or failed, saying why) within a
bounded time, none stuck, finished steps not redone. The server registers a test tool that
blocks while a file exists, so "mid-step" is certain rather than a matter of timing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import KEYS, Server, _wait_for_url, key_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Shared by the server and the foreground script: the blocking tool and the "durable"
#: template (a -> b (blocks) -> c), added to the shipped templates in this process.
SETUP = r"""
import os, time
from pathlib import Path
from types import MappingProxyType
import chatter.analyst.route_rules, chatter.analyst.understand, chatter.workflow
import chatter.workflow.composite, chatter.workflow.template as templates
from chatter.tools.analyses.result import AnalysisResult
from chatter.tools.builtin import analysis_tool
from chatter.tools.params import Params
from chatter.tools.registry import register_tool

CALLS, BLOCKS = Path(os.environ["CALLS_LOG"]), Path(os.environ["BLOCK_DIR"])

class CountedParams(Params):
    name: str
    block: bool = False

def counted(warehouse, params):
    with CALLS.open("a") as out:
        out.write(params.name + "\n")
    while params.block and (BLOCKS / params.name.split("-")[0]).exists():
        time.sleep(0.05)
    return AnalysisResult(analysis="counted", rows=[{"step": params.name}], columns=["step"])

register_tool(analysis_tool("counted", counted, CountedParams, "Counts its calls.", cache=False))
DURABLE = templates.Template.model_validate({"name": "durable", "description": "crash test",
  "steps": [
    {"id": "a", "type": "analysis", "tool": "counted", "parameters": {"name": "a"}},
    {"id": "b", "type": "analysis", "tool": "counted", "parameters": {"name": "b", "block": True},
     "depends_on": ["a"]},
    {"id": "c", "type": "analysis", "tool": "counted", "parameters": {"name": "c"},
     "depends_on": ["b"]}]})
_shipped = MappingProxyType({**templates.builtin_templates(), "durable": DURABLE})
for module in (templates, chatter.workflow, chatter.workflow.composite,
               chatter.analyst.route_rules, chatter.analyst.understand):
    module.builtin_templates = lambda: _shipped
"""
SERVER = (
    SETUP
    + r"""
import sys
from chatter.cli.commands import main
sys.argv = ["chatter", "serve", "--port", "0"]
main()
"""
)
FOREGROUND = (
    SETUP
    + r"""
import sys
from chatter import run_workflow
run_workflow("durable", names("fg"), database=Path(sys.argv[1]), run_id="fg-run")
"""
)
NAMES = r"""
def names(prefix):
    return {"steps": {s: {"parameters": {"name": f"{prefix}-{s}"}} for s in "abc"}}
"""


def names(prefix: str) -> dict[str, Any]:
    return {"steps": {s: {"parameters": {"name": f"{prefix}-{s}"}} for s in "abc"}}


@pytest.fixture
def setup(tmp_path: Path, demo_db: Path) -> dict[str, Any]:
    """The scripts, the calls log and the block files of one test, on SQLite state."""
    return _setup(tmp_path, demo_db, {})


@pytest.fixture(params=["sqlite", "postgres"])
def any_setup(request: pytest.FixtureRequest, tmp_path: Path, demo_db: Path) -> dict[str, Any]:
    """``setup`` on each state backend (PostgreSQL: a database of its own)."""
    if request.param == "sqlite":
        return _setup(tmp_path, demo_db, {})
    import psycopg
    from postgres_fixture import as_url, with_database

    base: str = request.getfixturevalue("postgres_url")
    name = f"recovery_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    request.addfinalizer(lambda: _drop(base, name))
    return _setup(tmp_path, demo_db, {"CHATTER_STATE_URL": as_url(with_database(base, name))})


def _drop(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _setup(tmp_path: Path, demo_db: Path, state: dict[str, str]) -> dict[str, Any]:
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "foreground.py").write_text(SETUP + NAMES + FOREGROUND[len(SETUP) :])
    calls, blocks = tmp_path / "calls.log", tmp_path / "blocks"
    calls.touch()
    blocks.mkdir()
    return {
        "dir": tmp_path,
        "home": tmp_path / "home",
        "db": demo_db,
        "env": {"CALLS_LOG": str(calls), "BLOCK_DIR": str(blocks), **state},
        "calls": calls,
        "blocks": blocks,
    }


def block(setup: dict[str, Any], *prefixes: str) -> None:
    """Step b of the runs named ``prefix`` blocks until ``unblock``."""
    for prefix in prefixes:
        (setup["blocks"] / prefix).touch()


def unblock(setup: dict[str, Any], *prefixes: str) -> None:
    for prefix in prefixes:
        (setup["blocks"] / prefix).unlink()


@contextmanager
def server(
    setup: dict[str, Any], keys: dict[str, Any] | None = None, **env: str
) -> Iterator[Server]:
    home: Path = setup["home"]
    home.mkdir(exist_ok=True)
    key_file = setup["dir"] / "keys.json"
    key_file.write_text(json.dumps(keys or KEYS))
    full = {
        **os.environ,
        **setup["env"],
        "CHATTER_HOME": str(home),
        "CHATTER_DATABASE": str(setup["db"]),
        "CHATTER_API_KEYS": str(key_file),
        "CHATTER_API_WORKERS": "2",
        "CHATTER_MAX_PARALLEL_STEPS": "4",
        **env,
    }
    full.pop("OPENAI_API_KEY", None)
    process = subprocess.Popen(
        [sys.executable, str(setup["dir"] / "server.py")],
        env=full,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines: list[str] = []
        yield Server(_wait_for_url(process, lines), home, process, lines)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


def start_runs(srv: Server, user: str, prefixes: list[str]) -> list[str]:
    ids = []
    with srv.client(key_of(user)) as http:
        for prefix in prefixes:
            made = http.post(
                "/api/v1/workflows", json={"template": "durable", "customizations": names(prefix)}
            )
            assert made.status_code == 201, made.text
            run_id = made.json()["run_id"]
            assert http.post(f"/api/v1/workflows/{run_id}/execute").status_code == 202
            ids.append(run_id)
    return ids


def wait_for_calls(calls: Path, wanted: set[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wanted <= set(calls.read_text().split()):
            return
        time.sleep(0.05)
    raise AssertionError(f"steps {sorted(wanted)} did not start: {calls.read_text().split()}")


def wait_until_ended(srv: Server, run_ids: list[str], timeout: float = 90) -> dict[str, Any]:
    """Each run's final status document, polled as the admin; fails if any is still going."""
    ended: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    with srv.client(key_of("root")) as http:
        while time.monotonic() < deadline and len(ended) < len(run_ids):
            for run_id in run_ids:
                doc = http.get(f"/api/v1/workflows/{run_id}").json()
                if doc["status"] in ("completed", "partial", "failed", "cancelled"):
                    ended[run_id] = doc
            time.sleep(0.2)
    stuck = sorted(set(run_ids) - set(ended))
    assert not stuck, f"runs still unfinished after {timeout} s: {stuck}"
    return ended


def stored(setup: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Each run's (status, owner), read from the state itself, not through the server."""
    url = setup["env"].get("CHATTER_STATE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as db:
            rows = db.execute("SELECT run_id, status, owner FROM runs").fetchall()
    else:
        with sqlite3.connect(setup["home"] / "runs.sqlite") as db:
            rows = db.execute("SELECT run_id, status, owner FROM runs").fetchall()
    return {run_id: (status, owner) for run_id, status, owner in rows}


def test_after_kill_9_every_run_resumes_or_ends_saying_why(any_setup: dict[str, Any]) -> None:
    setup = any_setup
    calls: Path = setup["calls"]
    block(setup, "r0", "r1", "fg")
    with server(setup) as first:
        # Two workers: r0 and r1 block in step b, r2 and r3 wait queued; bob's run queues too.
        ids = start_runs(first, "alice", ["r0", "r1", "r2", "r3"])
        bobs = start_runs(first, "bob", ["bob"])
        wait_for_calls(calls, {"r0-b", "r1-b"})
        assert {stored(setup)[i][0] for i in ids[:2]} == {"running"}
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(30)
    # A CLI run on the same data directory, killed in step b: nobody is left to read it.
    fg = subprocess.Popen(
        [sys.executable, str(setup["dir"] / "foreground.py"), str(setup["db"])],
        env={**os.environ, **setup["env"], "CHATTER_HOME": str(setup["home"])},
        stderr=subprocess.DEVNULL,
    )
    wait_for_calls(calls, {"fg-b"})
    fg.kill()
    fg.wait(30)
    assert stored(setup)["fg-run"][0] == "running"  # stuck, until a server recovers it

    unblock(setup, "r0", "r1", "fg")
    without_bob = {k: v for k, v in KEYS.items() if v["user"] != "bob"}
    with server(setup, keys=without_bob) as second:
        ended = wait_until_ended(second, [*ids, *bobs, "fg-run"])
    for run_id in ids:
        assert ended[run_id]["status"] == "completed", ended[run_id]
        assert [s["status"] for s in ended[run_id]["result"]["steps"]] == ["completed"] * 3
    assert ended[bobs[0]]["status"] == "failed"
    assert "'bob' has no API key any more" in ended[bobs[0]]["reason"]
    assert ended["fg-run"]["status"] == "failed"
    assert "interrupted by a server stop" in ended["fg-run"]["reason"]
    seen = calls.read_text().split()
    for prefix in ("r0", "r1"):  # a ran once; b again (killed mid-way), then c
        assert [c for c in seen if c.startswith(prefix)] == [f"{prefix}-{s}" for s in "abbc"]
    for prefix in ("r2", "r3"):  # never started before the kill: started afresh, once
        assert [c for c in seen if c.startswith(prefix)] == [f"{prefix}-{s}" for s in "abc"]
    assert not any(c.startswith("bob") for c in seen)
    assert all(owner is None for _, owner in stored(setup).values())


def test_a_graceful_stop_leaves_runs_to_resume(setup: dict[str, Any]) -> None:
    calls: Path = setup["calls"]
    block(setup, "s0", "s1", "s2")
    with server(setup, CHATTER_API_SHUTDOWN_GRACE_S="1") as first:
        ids = start_runs(first, "alice", ["s0", "s1", "s2"])
        wait_for_calls(calls, {"s0-b", "s1-b"})
        first.process.send_signal(signal.SIGTERM)
        # Within the grace and a little more; uvicorn re-raises the signal once it has shut
        # down gracefully, so the exit is by SIGTERM either way: the store tells the stop was.
        assert first.process.wait(60) in (0, -signal.SIGTERM)
    after = stored(setup)
    assert {after[i] for i in ids} == {("interrupted", None)}, after

    unblock(setup, "s0", "s1", "s2")
    with server(setup) as second:
        ended = wait_until_ended(second, ids)
    assert {d["status"] for d in ended.values()} == {"completed"}
    seen = calls.read_text().split()
    for prefix in ("s0", "s1"):  # the stop gave up on b after its grace: b runs again
        assert [c for c in seen if c.startswith(prefix)] == [f"{prefix}-{s}" for s in "abbc"]
    assert [c for c in seen if c.startswith("s2")] == ["s2-a", "s2-b", "s2-c"]


def test_cancel_ends_cancelled_wherever_the_run_is(setup: dict[str, Any]) -> None:
    """Cancelled from another process (its heartbeat carries the flag), or after its server
    died (ended at once): the status always ends ``cancelled``."""
    from chatter.services import Services
    from chatter.settings import Settings
    from chatter.workflow.runs import cancel_run

    calls: Path = setup["calls"]
    block(setup, "live", "dead")
    with server(setup) as first:
        live, dead = start_runs(first, "alice", ["live", "dead"])
        wait_for_calls(calls, {"live-b", "dead-b"})
        elsewhere = Services(Settings(home=setup["home"]))
        try:
            assert cancel_run(elsewhere, live)  # another process: the flag goes through the store
            time.sleep(6.0)  # a heartbeat later the server has the flag
            unblock(setup, "live")
            ended = wait_until_ended(first, [live])
            assert ended[live]["status"] == "cancelled"
            assert [s["status"] for s in ended[live]["result"]["steps"]] == [
                "completed",
                "completed",
                "skipped",
            ]
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(30)
            assert stored(setup)[dead][0] == "running"  # its server is gone
            assert cancel_run(elsewhere, dead)
            assert stored(setup)[dead] == ("cancelled", None)  # at once
        finally:
            elsewhere.close()
            unblock(setup, "dead")
    assert "dead-c" not in calls.read_text().split()


def test_execute_checks_the_role_of_now(setup: dict[str, Any]) -> None:
    """A run created by an analyst whose key is a viewer's by the time it executes is refused,
    and so is an admin executing it for them."""
    with server(setup) as first, first.client(key_of("alice")) as http:
        made = http.post(
            "/api/v1/workflows", json={"template": "durable", "customizations": names("x")}
        )
        run_id = made.json()["run_id"]
    demoted = {k: ({**v, "role": "viewer"} if v["user"] == "alice" else v) for k, v in KEYS.items()}
    with server(setup, keys=demoted) as second:
        for user in ("alice", "root"):
            with second.client(key_of(user)) as http:
                refused = http.post(f"/api/v1/workflows/{run_id}/execute")
                assert refused.status_code == 403, refused.text
                assert refused.json()["error"]["code"] == "permission_denied"
        with second.client(key_of("root")) as http:
            denied = http.get("/api/v1/audit", params={"user": "alice", "decision": "denied"})
            actions = {r["action"] for r in denied.json()["records"]}
        assert "workflow.execute" in actions
        assert stored(setup)[run_id][0] == "created"  # nothing started


def test_no_key_no_run(setup: dict[str, Any]) -> None:
    """Sanity of the fixture: an unknown key is refused, so the tests above mean something."""
    with server(setup) as srv, httpx.Client(base_url=srv.url) as http:
        assert http.get("/api/v1/workflows").status_code == 401


def test_each_step_is_checked_against_the_grants_of_now(setup: dict[str, Any]) -> None:
    """A grant taken away while a run is going on stops its next step, not the run's start."""
    calls: Path = setup["calls"]
    block(setup, "g")
    with server(setup) as srv:
        (run_id,) = start_runs(srv, "alice", ["g"])
        wait_for_calls(calls, {"g-b"})
        with srv.client(key_of("root")) as http:
            taken = http.post(
                "/api/v1/admin/permissions",
                json={"subject": "user:alice", "resource": "tool:counted", "level": "none"},
            )
            assert taken.status_code == 201, taken.text
        unblock(setup, "g")
        ended = wait_until_ended(srv, [run_id])[run_id]
    steps = {s["id"]: s for s in ended["result"]["steps"]}
    assert steps["b"]["status"] == "completed"  # it had started: it ran as allowed then
    assert steps["c"]["status"] == "failed" and "tool:counted" in steps["c"]["error"]
    assert "g-c" not in calls.read_text().split()
