"""The API examples run end to end against a real `chatter serve`: the Python client's demo
and the curl walkthrough (with jq, and with its Python fallback)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import Server, key_of, running_server

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("api-examples") / "home", demo_db) as running:
        yield running


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES.parent,
    )


def test_python_client_demo(server: Server) -> None:
    done = _run(
        [sys.executable, str(EXAMPLES / "api_client.py")],
        CHATTER_URL=server.url,
        CHATTER_API_KEY=key_of("root"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "health: ok" in out
    assert "> conversion rate by plan   [query]" in out
    assert "SQL: SELECT" in out
    assert "export csv: 3 rows; header industry,conversion_rate" in out
    assert "messages in this one: 3" in out
    assert "[100%]" in out  # the streamed workflow's progress events
    assert "conversion_deep_dive: completed" in out
    assert "completed, 5 steps" in out  # the background run, polled to its end
    assert "errors are typed: HTTP 404 unknown_session" in out
    assert "chain ok: True" in out


def test_python_client_demo_as_analyst_and_without_key(server: Server) -> None:
    analyst = _run(
        [sys.executable, str(EXAMPLES / "api_client.py")],
        CHATTER_URL=server.url,
        CHATTER_API_KEY=key_of("bob"),
    )
    assert analyst.returncode == 0, analyst.stdout + analyst.stderr
    assert "metrics/audit: permission_denied" in analyst.stdout

    keyless = _run(
        [sys.executable, str(EXAMPLES / "api_client.py")],
        CHATTER_URL=server.url,
        CHATTER_API_KEY="",
    )
    assert keyless.returncode == 2
    assert "CHATTER_API_KEY" in keyless.stderr


@pytest.mark.parametrize("json_tool", ["jq", "python"])
def test_curl_walkthrough(server: Server, json_tool: str) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    if json_tool == "jq" and shutil.which("jq") is None:
        pytest.skip("jq is not installed (the Python fallback is tested)")
    done = _run(
        ["bash", str(EXAMPLES / "api_walkthrough.sh")],
        BASE=server.url,
        KEY=key_of("alice"),
        ADMIN_KEY=key_of("root"),
        PYTHON=sys.executable,
        JQ="jq" if json_tool == "jq" else "none",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for step in ("health", "ask", "follow-up", "streamed", "refine", "feedback", "export"):
        assert f"== {step}" in out
    assert '"status": "ok"' in out
    assert "| industry | conversion_rate |" in out  # the follow-up's table
    assert "event: progress" in out and "event: answer" in out
    assert 'WHERE "users"."plan_type" = \'enterprise\'' in out  # the refinement's SQL
    assert "industry,conversion_rate" in out  # the CSV export
    assert "refine change_limit" in out  # the session's messages
    assert "cohort_analysis: skipped" in out  # the customized run
    assert re.search(r"^run [0-9a-f]+: (completed|partial)$", out, re.MULTILINE)
    assert '"ok": true' in out  # the audit chain
    assert out.rstrip().endswith("== done")
