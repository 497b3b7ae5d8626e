"""The server's open files stay flat under load: its SQLite connections (grants, audit, result
cache) are a few the stores own and reuse, not one per short-lived thread (the API's threadpool,
a streamed turn's thread, workflow step threads) closed whenever the garbage collector gets to
it. Counted in /proc/<pid>/fd of a real `chatter serve`, at idle and after concurrent clients;
and a load under `ulimit -n 256` has no error."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import Server, key_of, running_server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)"),
]

CLIENTS = 30
#: Each client's turns: plain and streamed queries and follow-ups, and a streamed workflow.
QUESTIONS = (
    ("conversion rate by plan", False),
    ("now by industry", True),
    ("churn rate by plan", False),
    ("why are fintech trials converting worse?", True),
    ("how many users by country", False),
    ("mrr by month", True),
)
USERS = ("alice", "bob", "root")
#: What a pool may still open under load (grants and audit: up to 4 connections of 2 files
#: each), and a little more for what the runtime opens on its own.
SLACK = 24


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sqlite_files(pid: int) -> Counter[str]:
    """Open files by name, for the failure message."""
    names: Counter[str] = Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile
            names[Path(os.readlink(f"/proc/{pid}/fd/{fd}")).name] += 1
    return names


def ask(http: httpx.Client, body: dict[str, Any], streamed: bool) -> tuple[str | None, str | None]:
    """One turn: (session id, an error or None)."""
    if not streamed:
        response = http.post("/api/v1/chat/query", json=body)
        if response.status_code != 200:
            return None, f"{response.status_code} {response.text[:200]}"
        return response.json()["session_id"], None
    headers = {"Accept": "text/event-stream"}
    with http.stream("POST", "/api/v1/chat/query", json=body, headers=headers) as response:
        if response.status_code != 200:
            return None, f"{response.status_code} {response.read()[:200]!r}"
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            if event in ("answer", "error") and line.startswith("data: "):
                return None, None if event == "answer" else f"error event {line[:200]}"
    return None, "the stream ended without an answer"


def load(server: Server, clients: int = CLIENTS) -> tuple[int, list[str]]:
    """``clients`` at once, each with its own connection and session, asking QUESTIONS;
    (the most files the server had open meanwhile, the errors)."""
    pid = server.process.pid
    peak, errors = [open_files(pid)], []
    done = threading.Event()
    start = threading.Barrier(clients)

    def sample() -> None:
        while not done.wait(0.02):
            peak.append(open_files(pid))

    def client(k: int) -> None:
        key = key_of(USERS[k % len(USERS)])
        with server.client(key) as http:
            start.wait()
            session = None
            for i in range(len(QUESTIONS)):
                text, streamed = QUESTIONS[(k + i) % len(QUESTIONS)]
                body = {"message": text, **({"session_id": session} if session else {})}
                try:
                    sid, error = ask(http, body, streamed)
                except httpx.HTTPError as err:
                    sid, error = None, repr(err)
                session = sid or session
                if error:
                    errors.append(f"client {k}, {text!r}: {error}")

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    done.set()
    sampler.join()
    return max(peak), errors


def settled(pid: int, at_most: int, wait_s: float = 5.0) -> int:
    """The open files once the last responses are sent and their sockets closed."""
    deadline = time.monotonic() + wait_s
    count = open_files(pid)
    while count > at_most and time.monotonic() < deadline:
        time.sleep(0.1)
        count = open_files(pid)
    return count


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("open-files") / "home"
    with running_server(home, demo_db) as running:
        with running.client(key_of("alice")) as http:  # warm: DuckDB, caches, checkpoints open
            for text, streamed in QUESTIONS:
                ask(http, {"message": text}, streamed)
        yield running


def test_open_files_stay_flat_under_concurrent_clients(server: Server) -> None:
    pid = server.process.pid
    time.sleep(0.5)  # the warm-up's sockets closed
    idle = open_files(pid)
    first_peak, errors = load(server)
    after_first = settled(pid, idle + SLACK)
    second_peak, more_errors = load(server)
    after_second = settled(pid, after_first)
    counts = f"idle {idle}, peaks {first_peak}/{second_peak}, after {after_first}/{after_second}"
    assert errors + more_errors == [], counts
    # Under load: one socket per client, and the pools' few connections; nothing per request.
    assert max(first_peak, second_peak) <= idle + CLIENTS + SLACK, counts
    assert after_first <= idle + SLACK, f"{counts}: {sqlite_files(pid).most_common(8)}"
    # Flat: twice the requests, no more files.
    assert after_second <= after_first + 2, f"{counts}: {sqlite_files(pid).most_common(8)}"


def test_a_load_under_ulimit_256_has_no_error(tmp_path: Path, demo_db: Path) -> None:
    with running_server(tmp_path / "home", demo_db, open_files=256) as limited:
        pid = limited.process.pid
        with open(f"/proc/{pid}/limits") as limits:
            assert any(
                line.startswith("Max open files") and line.split()[3:5] == ["256", "256"]
                for line in limits
            )
        peak, errors = load(limited)
        _, again = load(limited)
        assert errors + again == [], errors[:5] + again[:5]
        assert peak < 256
        assert not any("Internal error" in line for line in limited.stderr)
