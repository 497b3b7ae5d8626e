"""`chatter serve --workers N` on shared PostgreSQL state, and the limits every worker puts on
slow clients, against real servers on loopback.

Which worker answered a request is read from the kernel: the server side of the request's
connection is a socket held by exactly one worker process (/proc/net/tcp names its inode,
/proc/PID/fd the process holding it). The PostgreSQL tests need CHATTER_TEST_POSTGRES_URL
(``.ci/run`` starts a server); without it they skip locally and fail under CI.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import Server, key_of, running_server
from postgres_fixture import as_url

pytestmark = pytest.mark.integration

CHAT = "/api/v1/chat/query"
# Questions that each answer with one query (one counted call of tool:query).
QUESTIONS = [
    "users by plan",
    "users by industry",
    "users by country",
    "conversion rate by plan",
    "churn rate by industry",
    "users by acquisition channel",
]


@pytest.fixture(scope="module")
def state_url(postgres_url: str) -> str:
    """The module's test database as a CHATTER_STATE_URL."""
    return as_url(postgres_url)


# ---- which worker served a connection ---------------------------------------------------------


def worker_pids(supervisor: int) -> set[int]:
    """The worker processes uvicorn's supervisor ``supervisor`` spawned."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == supervisor and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


def serving_pid(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """The process among ``pids`` holding the server side of the loopback connection from
    ``client_port`` to ``server_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and (
            int(remote.split(":")[1], 16) == client_port
        ):
            inode = fields[9]
            break
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            links = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in links:
            try:
                if os.readlink(fd) == target:
                    return pid
            except OSError:
                continue
    return None


def ask_new_connection(
    server: Server, pids: set[int], user: str, message: str
) -> tuple[int, dict[str, Any], int | None]:
    """One chat turn on a connection of its own: (status, body, pid of the worker that served
    it). The connection stays open while its server side is looked up."""
    port = int(server.url.rsplit(":", 1)[1])
    with server.client(key_of(user)) as http:
        response = http.post(CHAT, json={"message": message})
        client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        return response.status_code, response.json(), serving_pid(port, client_port, pids)


# ---- Services picks the backend ---------------------------------------------------------------


@pytest.fixture
def own_database(postgres_url: str) -> Iterator[str]:
    """A database of the test's own on the test server (so counting its sessions counts
    only what the test opened), dropped after it."""
    import psycopg
    from postgres_fixture import with_database

    name = f"chatter_services_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield as_url(with_database(postgres_url, name))
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_services_build_postgres_stores_from_the_state_url(
    own_database: str, tmp_path: Path
) -> None:
    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.checkpoint.sqlite import SqliteSaver
    from pydantic import SecretStr

    from chatter.governance.audit import AuditLog
    from chatter.governance.grants import PermissionStore
    from chatter.governance.metrics import Metrics
    from chatter.governance.postgres import (
        PostgresAuditLog,
        PostgresLimiter,
        PostgresMetrics,
        PostgresPermissionStore,
    )
    from chatter.governance.ratelimit import SlidingWindowLimiter
    from chatter.services import Services
    from chatter.settings import Settings
    from chatter.stores.postgres import PostgresRunStore, PostgresSessionStore
    from chatter.stores.runs import RunStore
    from chatter.stores.sessions import SessionStore

    shared = Settings(home=tmp_path / "a", state_url=SecretStr(own_database))
    first, second = Services(shared), Services(shared.model_copy(update={"home": tmp_path / "b"}))
    try:
        assert first.state.kind == "postgres"
        assert isinstance(first.runs, PostgresRunStore)
        assert isinstance(first.sessions, PostgresSessionStore)
        assert isinstance(first.guard.permissions, PostgresPermissionStore)
        assert isinstance(first.guard.audit, PostgresAuditLog)
        assert isinstance(first.limiter, PostgresLimiter) and first.guard.limiter is first.limiter
        assert isinstance(first.metrics, PostgresMetrics) and first.guard.metrics is first.metrics
        assert isinstance(first.run_checkpoints, PostgresSaver)
        assert isinstance(first.chat_checkpoints, PostgresSaver)
        # Two services (two workers, even two homes) on one URL see one state.
        made = first.sessions.create("alice", "hello")
        assert second.sessions.get(made["session_id"], "alice")["title"] == "hello"
        first.guard.audit.append(actor="alice", role="analyst", action="x", decision="info")
        assert second.guard.audit.count(actor="alice") == 1
        # Nothing of the state went to SQLite files under the homes.
        assert not list(tmp_path.rglob("*.sqlite"))
    finally:
        first.close()
        second.close()
    # Closed: every connection the two opened is back (none left on the server).
    assert _connections_to(own_database) == 0

    local = Services(Settings(home=tmp_path / "c"))
    try:
        assert local.state.kind == "sqlite"
        assert isinstance(local.runs, RunStore) and isinstance(local.sessions, SessionStore)
        assert isinstance(local.guard.permissions, PermissionStore)
        assert isinstance(local.guard.audit, AuditLog)
        assert isinstance(local.limiter, SlidingWindowLimiter)
        assert isinstance(local.metrics, Metrics)
        assert isinstance(local.run_checkpoints, SqliteSaver)
        assert (tmp_path / "c" / "runs.sqlite").exists()
    finally:
        local.close()


def test_the_stores_survive_their_connections_being_cut(own_database: str, tmp_path: Path) -> None:
    """What a restart of the PostgreSQL server does to the pools: every connection is cut.
    A connection idle for a while is pinged before use, so the next calls just reconnect."""
    import psycopg
    from pydantic import SecretStr

    from chatter.services import Services
    from chatter.settings import Settings
    from chatter.stores.postgres.pool import IDLE_CHECK_S

    services = Services(Settings(home=tmp_path, state_url=SecretStr(own_database)))
    try:
        made = services.sessions.create("alice", "before")
        services.guard.audit.append(actor="alice", role="analyst", action="x", decision="info")
        with psycopg.connect(own_database, autocommit=True) as admin:
            cut = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert cut and cut[0] >= 2
        time.sleep(IDLE_CHECK_S + 0.5)
        assert services.sessions.get(made["session_id"], "alice")["title"] == "before"
        services.guard.audit.append(actor="alice", role="analyst", action="y", decision="info")
        assert services.guard.audit.verify().ok and services.guard.audit.count() == 2
    finally:
        services.close()


def test_checkpointers_set_up_at_once_do_not_deadlock(own_database: str) -> None:
    """Regression: workers starting together each set up the checkpoint tables; the
    migrations build an index CONCURRENTLY, which waited for a second saver blocked on the
    setup lock while it held that lock: DeadlockDetected, a 503 on a first request."""
    import threading

    from chatter.stores.postgres import postgres_checkpointer

    start, errors, savers = threading.Barrier(4), [], []

    def set_up() -> None:
        start.wait()
        try:
            savers.append(postgres_checkpointer(own_database, max_connections=2))
        except Exception as err:  # any failure is the finding
            errors.append(f"{type(err).__name__}: {err}")

    threads = [threading.Thread(target=set_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for saver in savers:
        saver.conn.close()
    assert errors == [] and len(savers) == 4


def _connections_to(url: str) -> int:
    """Other sessions on ``url``'s database, once the pools' closing has reached the server."""
    import psycopg

    deadline = time.monotonic() + 10
    while True:
        with psycopg.connect(url) as con:
            row = con.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
        count = int(row[0]) if row else 0
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def test_an_unreachable_state_server_is_a_clear_error(tmp_path: Path) -> None:
    """No PostgreSQL needed: nothing listens on port 1. The message names the variable and
    hides the password, in Python and on the command line (exit 2, no traceback)."""
    from pydantic import SecretStr

    from chatter.services import Services
    from chatter.settings import Settings
    from chatter.stores.state import StateUnavailableError

    url = "postgresql://chatter:s3cret-pw@127.0.0.1:1/chatter"
    services = Services(Settings(home=tmp_path, state_url=SecretStr(url)))
    with pytest.raises(StateUnavailableError) as caught:
        services.runs  # noqa: B018  (opening the store is what fails)
    services.close()
    message = caught.value.message
    assert "CHATTER_STATE_URL=postgresql://chatter:***@127.0.0.1:1/chatter" in message
    assert "s3cret-pw" not in message and caught.value.exit_code == 2

    for command in (["ask", "users by plan"], ["serve", "--port", "0"]):
        done = _chatter(tmp_path, *command, env={"CHATTER_STATE_URL": url})
        assert done.returncode == 2, done.stderr
        # (the CLI's own secret screening may mask the masked login further)
        assert "CHATTER_STATE_URL=postgresql://chatter:" in done.stderr
        assert "@127.0.0.1:1/chatter" in done.stderr
        assert "s3cret-pw" not in done.stderr + done.stdout
        assert "Traceback" not in done.stderr

    malformed = _chatter(tmp_path, "serve", env={"CHATTER_STATE_URL": "mysql://u:pw1234@h/db"})
    assert malformed.returncode == 2 and "CHATTER_STATE_URL" in malformed.stderr
    assert "pw1234" not in malformed.stderr and "Traceback" not in malformed.stderr


def test_several_workers_on_sqlite_state_are_refused_saying_why(tmp_path: Path) -> None:
    done = _chatter(tmp_path, "serve", "--port", "0", "--workers", "2")
    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert "--workers 2 needs shared state" in said
    assert "rate limits" in said and "metrics" in said
    assert "CHATTER_STATE_URL=postgresql://" in said and "--workers 1" in said
    assert "Traceback" not in done.stderr
    # The same through the setting, and nothing was made meanwhile (no key, no files).
    again = _chatter(tmp_path, "serve", "--port", "0", env={"CHATTER_SERVE_WORKERS": "3"})
    assert again.returncode == 2 and "--workers 3 needs shared state" in again.stderr
    assert not (tmp_path / "home").exists()


def _chatter(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CHATTER_HOME": str(tmp / "home"), **(env or {})}
    for name in ("CHATTER_STATE_URL", "CHATTER_SERVE_WORKERS", "CHATTER_API_KEYS"):
        if name not in (env or {}):
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "chatter.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


# ---- two workers on PostgreSQL ----------------------------------------------------------------


@pytest.fixture(scope="module")
def workers(
    tmp_path_factory: pytest.TempPathFactory, demo_db: Path, state_url: str
) -> Iterator[tuple[Server, set[int]]]:
    """A real `chatter serve --workers 2` on one PostgreSQL state, and its worker pids."""
    home = tmp_path_factory.mktemp("workers") / "home"
    env = {"CHATTER_STATE_URL": state_url, "CHATTER_SERVE_WORKERS": "2"}
    with running_server(home, demo_db, extra_env=env) as server:
        deadline = time.monotonic() + 60
        while len(pids := worker_pids(server.process.pid)) < 2:
            assert time.monotonic() < deadline, "the two workers did not start"
            time.sleep(0.2)
        yield server, pids


def test_both_workers_answer_chat_queries(workers: tuple[Server, set[int]]) -> None:
    server, pids = workers
    served: Counter[int | None] = Counter()
    for i in range(60):
        status, body, pid = ask_new_connection(server, pids, "alice", QUESTIONS[i % 6])
        assert status == 200 and body["message_type"] == "answer", body
        served[pid] += 1
        if len(served) == 2 and None not in served:
            break
    assert set(served) == pids, served
    # One session whose turns reach both workers goes on from either: its state is shared.
    session: str | None = None
    turns: Counter[int | None] = Counter()
    for i in range(60):
        body = {"message": QUESTIONS[i % 6], **({"session_id": session} if session else {})}
        with server.client(key_of("bob")) as http:
            response = http.post(CHAT, json=body)
            client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
            turns[serving_pid(int(server.url.rsplit(":", 1)[1]), client_port, pids)] += 1
        assert response.status_code == 200, response.text
        assert session in (None, response.json()["session_id"])
        session = response.json()["session_id"]
        if set(turns) == pids:
            break
    assert set(turns) == pids, turns
    with server.client(key_of("bob")) as http:
        stored = http.get(f"/api/v1/chat/sessions/{session}").json()
    assert len(stored["messages"]) == sum(turns.values())


def test_a_rate_limit_holds_across_workers(workers: tuple[Server, set[int]]) -> None:
    """A limit of N calls admits exactly N whichever worker each call reaches: each worker
    refuses calls while it has itself admitted fewer than N (per-process counts would not)."""
    server, pids = workers
    limit = 4
    _grant(server, "user:bob", limit)
    outcomes: list[tuple[int, int | None]] = []
    for i in range(80):
        status, body, pid = ask_new_connection(server, pids, "bob", QUESTIONS[i % 6])
        assert status in (200, 429), body
        outcomes.append((status, pid))
        refused_by = {p for s, p in outcomes if s == 429}
        if refused_by == pids:
            break
    admitted = Counter(pid for status, pid in outcomes if status == 200)
    assert sum(admitted.values()) == limit, outcomes
    assert {p for s, p in outcomes if s == 429} == pids, outcomes
    assert any(admitted[pid] < limit for pid in pids)

    # A burst of concurrent calls from several connections at once: exactly N again.
    _grant(server, "user:alice", limit + 1)
    with ThreadPoolExecutor(16) as pool:
        burst = list(
            pool.map(
                lambda i: ask_new_connection(server, pids, "alice", QUESTIONS[i % 6]), range(24)
            )
        )
    assert Counter(status for status, _, _ in burst) == {200: limit + 1, 429: 24 - limit - 1}
    refused = sum(1 for s, _ in outcomes if s == 429) + 24 - limit - 1

    # The metrics add up every worker's numbers (each flushes within a second or so).
    with server.client(key_of("root")) as admin:
        deadline = time.monotonic() + 15
        while True:
            counters = admin.get("/api/v1/metrics").json()["counters"]
            seen = counters["calls_denied"]["by_code"].get("rate_limited", 0)
            if seen >= refused or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert seen == refused


def _grant(server: Server, subject: str, calls: int) -> None:
    with server.client(key_of("root")) as admin:
        made = admin.post(
            "/api/v1/admin/permissions",
            json={
                "subject": subject,
                "resource": "tool:query",
                "level": "execute",
                "rate_limit": {"calls": calls, "window_s": 3600},
            },
        )
    assert made.status_code == 201, made.text


def test_the_audit_chain_is_intact_after_concurrent_writes_from_both_workers(
    workers: tuple[Server, set[int]],
) -> None:
    server, pids = workers
    users = ["root", "vera"]  # alice and bob are over their rate limits by now
    writers: Counter[int | None] = Counter()
    for _ in range(5):  # until both workers have written a good share
        with ThreadPoolExecutor(12) as pool:
            for status, _, pid in pool.map(
                lambda i: ask_new_connection(server, pids, users[i % 2], QUESTIONS[i % 6]),
                range(36),
            ):
                assert status == 200
                writers[pid] += 1
        if all(writers[pid] >= 5 for pid in pids):
            break
    assert all(writers[pid] >= 5 for pid in pids), writers
    with server.client(key_of("root")) as admin:
        verified = admin.get("/api/v1/audit/verify").json()
        newest = admin.get("/api/v1/audit", params={"limit": 1}).json()["records"][0]
    assert verified["ok"], verified["problems"][:5]
    # Every row is in the chain: the newest is the audit read that followed the verify.
    assert newest["action"] == "audit.read" and newest["seq"] == verified["rows"] + 1
    assert verified["rows"] >= sum(writers.values())


def test_workers_stop_when_their_supervisor_is_killed(
    tmp_path: Path, demo_db: Path, state_url: str
) -> None:
    """``kill -9`` of `chatter serve` leaves no worker serving on alone."""
    env = {"CHATTER_STATE_URL": state_url, "CHATTER_SERVE_WORKERS": "2"}
    with running_server(tmp_path / "home", demo_db, extra_env=env) as server:
        deadline = time.monotonic() + 60
        while len(pids := worker_pids(server.process.pid)) < 2:
            assert time.monotonic() < deadline, "the two workers did not start"
            time.sleep(0.2)
        server.process.kill()
        server.process.wait()
        deadline = time.monotonic() + 30
        while alive := {pid for pid in pids if _running(pid)}:
            assert time.monotonic() < deadline, f"workers {alive} outlived their supervisor"
            time.sleep(0.2)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has stopped, whoever reaps it


def test_the_generated_admin_key_is_printed_once_and_works_in_every_worker(
    tmp_path: Path, demo_db: Path, state_url: str
) -> None:
    env = {
        **os.environ,
        "CHATTER_HOME": str(tmp_path / "home"),
        "CHATTER_DATABASE": str(demo_db),
        "CHATTER_STATE_URL": state_url,
    }
    env.pop("CHATTER_API_KEYS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "chatter.cli", "serve", "--port", "0", "--workers", "2"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stderr is not None
        lines: list[str] = []
        while not any("Admin API key" in line for line in lines):
            lines.append(process.stderr.readline())
            assert lines[-1] or process.poll() is None, "".join(lines)
        url = next(ln for ln in lines if "chatter API on " in ln).split("API on ")[1].split()[0]
        key = lines[-1].rsplit(": ", 1)[1].strip()
        pids: set[int] = set()
        deadline = time.monotonic() + 120
        while len(pids := worker_pids(process.pid)) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        stored = json.loads((tmp_path / "home" / "api_key.json").read_text())
        assert list(stored) == [key]
        port = int(url.rsplit(":", 1)[1])

        def served_by(_: int) -> int | None:
            with httpx.Client(base_url=url, timeout=60) as http:
                response = http.get(
                    "/api/v1/chat/sessions", headers={"Authorization": f"Bearer {key}"}
                )
                client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
                assert response.status_code == 200
                return serving_pid(port, client_port, pids)

        # Serial requests can all wake the same idle worker (the kernel favours one waiter),
        # and a worker may still be starting: ask in concurrent rounds until both have answered.
        answered: set[int | None] = set()
        while answered != pids and time.monotonic() < deadline:
            with ThreadPoolExecutor(8) as pool:
                answered.update(pool.map(served_by, range(16)))
        assert answered == pids
    finally:
        process.terminate()
        _, rest = process.communicate(timeout=30)
    assert process.returncode == 0
    everything = "".join(lines) + rest
    assert everything.count("Admin API key") == 1 and everything.count(key) == 1


# ---- limits on slow clients (any backend) -----------------------------------------------------


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    """One worker with tight limits: 2 s for a request head, 1 s of idle keep-alive, at most
    4 connections, 4 KiB of request head."""
    env = {
        "CHATTER_HTTP_HEADER_TIMEOUT_S": "2",
        "CHATTER_HTTP_KEEP_ALIVE_S": "1",
        "CHATTER_HTTP_MAX_CONNECTIONS": "4",
        "CHATTER_HTTP_MAX_HEADER_BYTES": "4096",
    }
    home = tmp_path_factory.mktemp("strict") / "home"
    with running_server(home, demo_db, extra_env=env) as server:
        yield server


def _connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=15)


def _closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes ``sock`` (reading whatever it sent first)."""
    began = time.monotonic()
    while sock.recv(65536):
        pass
    return time.monotonic() - began


def test_a_client_too_slow_with_its_headers_is_disconnected(strict: Server) -> None:
    with _connect(strict) as silent, _connect(strict) as trickling:
        trickling.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never ends its head
        assert 1.0 < _closed_after(silent) < 5.0
        assert _closed_after(trickling) < 5.0
    # A head sent in pieces, but in time, is answered.
    with _connect(strict) as slow:
        for piece in (b"GET /health HTTP/1.1\r\n", b"Host: x\r\n", b"Connection: close\r\n\r\n"):
            slow.sendall(piece)
            time.sleep(0.4)
        assert b"200 OK" in slow.recv(65536)


def test_an_idle_keep_alive_connection_is_closed(strict: Server) -> None:
    with _connect(strict) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in sock.recv(65536)
        assert _closed_after(sock) < 2.0  # keep-alive 1 s, well before the 2 s head timeout


def test_connections_over_the_limit_get_503_and_an_oversized_head_400(strict: Server) -> None:
    idle = [_connect(strict) for _ in range(4)]
    try:
        time.sleep(0.2)  # accepted by now
        with httpx.Client(base_url=strict.url, timeout=10) as http:
            busy = http.get("/health")
            assert busy.status_code == 503
            assert busy.json()["error"]["code"] == "too_many_connections"
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.3)
    with httpx.Client(base_url=strict.url, timeout=10) as http:
        assert http.get("/health").status_code == 200
        assert http.get("/health", headers={"X-Pad": "a" * 2000}).status_code == 200
    # A head that grows past the cap before it ends is refused (no more of it is buffered).
    with _connect(strict) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8000)
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")


def test_a_client_still_sending_a_huge_head_reads_its_400_not_a_reset(strict: Server) -> None:
    # Megabytes past the cap: the server answers before reading them. Closing at once with
    # them unread resets the connection, and the client loses the 400 (uvicorn's own close
    # did so every time here); the lingering close drains them and the client reads it.
    head = b"GET /" + b"A" * 3_000_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    for _ in range(5):
        with _connect(strict) as sock:
            sock.sendall(head)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 400"), reply[:80]
    with httpx.Client(base_url=strict.url, timeout=10) as http:
        assert http.get("/health").status_code == 200  # and the server serves on


def test_a_state_server_gone_mid_serve_is_a_503_then_recovers(
    own_database: str, tmp_path: Path, demo_db: Path, postgres_url: str
) -> None:
    """The shared state's database refusing connections while the API serves: requests get a
    503 with the error body (never a 500), and the API serves again once it is back."""
    import psycopg

    name = psycopg.conninfo.conninfo_to_dict(own_database)["dbname"]
    env = {"CHATTER_STATE_URL": own_database}
    with (
        running_server(tmp_path / "home", demo_db, extra_env=env) as server,
        server.client(key_of("alice")) as http,
    ):
        assert http.get("/api/v1/chat/sessions").status_code == 200
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        try:
            down = http.get("/api/v1/chat/sessions")
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "state_unavailable"
            assert "Retry-After" in down.headers
        finally:
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        deadline = time.monotonic() + 30
        while http.get("/api/v1/chat/sessions").status_code != 200:
            assert time.monotonic() < deadline, "the API did not recover"
            time.sleep(0.2)
