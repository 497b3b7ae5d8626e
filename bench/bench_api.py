"""The chat API under load: 50 concurrent clients x 20 questions on the 1M-user demo, through a
real ``chatter serve`` on loopback (fresh CHATTER_HOME, so the result cache starts cold).

Each client is a thread with its own ``httpx.Client`` and its own chat session; the 50 clients
share 4 API keys (alice, bob and carol, analysts, and root, an admin: a viewer may not run
workflows; carol's key is added to tests/api_server.py's KEYS in this process only). Every client asks the same 20 questions, started at a different conversation of the
rotation so the server sees a mix at any moment. Routes, as `chatter ask` / the analyst give them:

    conversion rate by plan                     query
      now by industry / top 5                   query (follow-ups: edit the last query)
    churn rate by plan                          query
      now by country                            query (follow-up)
    how many users by country                   query
      now by month                              query (follow-up)
    mrr by month / mrr by plan                  query
    why are fintech trials converting worse?    workflow conversion_deep_dive   (streamed SSE)
    conversion rate by acquisition channel      query
      just enterprise / sort ascending          query (follow-ups: filter, sort)
    signups by month                            query
    average mrr by industry                     query
      top 3                                     query (follow-up)
    how many enterprise users churned?          query
    how can we grow revenue?                    workflow revenue_optimization   (streamed SSE)
    churn rate by industry                      query
      now by plan                               query (follow-up)

An answer routed other than this is counted under "replies". So 2 of 20 (1 in 10) run a
5-step workflow; the workflows ask with ``Accept:
text/event-stream`` and read progress events to the final ``answer`` (an ``error`` event counts
as an error). Prints requests, errors by kind (goal: 0), latency p50/p95/p99/max, throughput
and wall time; then checks nothing was lost: each client's session holds exactly its 20
messages (same ids), the audit log has a ``tool.run`` row (or a refusal) for every answer, and
``GET /api/v1/audit/verify`` is ok. Deadlock guard: every request has a 300 s limit (a stream
too, keep-alives or not); timeouts are reported. Asserts nothing.

Run as ``python bench/bench_api.py [USERS] [--workers N] [--state-url URL] [--clients C]``.
``--workers N`` serves with N worker processes (``chatter serve --workers N``); they need
``--state-url postgresql://...``, the shared state. With a PostgreSQL URL the bench makes a
fresh database on that server for the run and drops it after (or, without the right to create
one, uses the URL's database as it is); without one the state is SQLite under the fresh
CHATTER_HOME. The last line sums it up: requests/s, p50, p95 and errors, to compare runs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from _data import bench_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import api_server  # tests/api_server.py: a real `chatter serve` on loopback

CLIENTS = 50
TIMEOUT_S = 300.0
# A fourth key, an analyst, next to the test keys (written to the server's key file).
api_server.KEYS.setdefault(
    "chk_IX64YNVcHHpCCBbCh7CUO6g2EDo5DU-Qkf_JJYVQMSQ", {"user": "carol", "role": "analyst"}
)
USERS = ["alice", "bob", "carol", "root"]
# Conversations: a question, then its follow-ups; (text, streamed?).
CONVERSATIONS: list[list[tuple[str, bool]]] = [
    [("conversion rate by plan", False), ("now by industry", False), ("top 5", False)],
    [("churn rate by plan", False), ("now by country", False)],
    [("how many users by country", False), ("now by month", False)],
    [("mrr by month", False)],
    [("mrr by plan", False)],
    [("why are fintech trials converting worse?", True)],
    [
        ("conversion rate by acquisition channel", False),
        ("just enterprise", False),
        ("sort ascending", False),
    ],
    [("signups by month", False)],
    [("average mrr by industry", False), ("top 3", False)],
    [("how many enterprise users churned?", False)],
    [("how can we grow revenue?", True)],
    [("churn rate by industry", False), ("now by plan", False)],
]
QUESTIONS = sum(len(c) for c in CONVERSATIONS)  # 20


def rotation(client: int) -> list[tuple[str, bool]]:
    """The 20 questions, starting at conversation ``client`` (follow-ups stay in order)."""
    start = client % len(CONVERSATIONS)
    return [q for c in CONVERSATIONS[start:] + CONVERSATIONS[:start] for q in c]


@dataclass
class ClientReport:
    user: str
    session_id: str | None = None
    message_ids: list[str] = field(default_factory=list)
    latencies: list[tuple[str, float]] = field(default_factory=list)  # (kind, seconds)
    errors: list[str] = field(default_factory=list)
    timeouts: int = 0
    types: Counter[str] = field(default_factory=Counter)  # answer / clarification / refusal


class StreamTimeout(Exception):
    pass


def sse_events(response: httpx.Response, deadline: float) -> Iterator[tuple[str, Any]]:
    event = None
    for line in response.iter_lines():
        if time.monotonic() > deadline:  # keep-alives arrive forever if a turn hangs
            raise StreamTimeout
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event:
            yield event, json.loads(line[6:])
            event = None


def ask(http: httpx.Client, body: dict[str, Any], streamed: bool) -> tuple[int, dict[str, Any]]:
    """One question: (status, the answer or an error body)."""
    if not streamed:
        response = http.post("/api/v1/chat/query", json=body)
        return response.status_code, response.json()
    deadline = time.monotonic() + TIMEOUT_S
    headers = {"Accept": "text/event-stream"}
    with http.stream("POST", "/api/v1/chat/query", json=body, headers=headers) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, response.json()
        for event, data in sse_events(response, deadline):
            if event == "answer":
                return 200, data
            if event == "error":
                return 599, {"error": data.get("error", data)}
    return 599, {"error": {"code": "no_answer", "message": "the stream ended without an answer"}}


def run_client(url: str, client: int, start: threading.Barrier) -> ClientReport:
    report = ClientReport(user=USERS[client % len(USERS)])
    key = api_server.key_of(report.user)
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT_S
    ) as http:
        start.wait()
        for text, streamed in rotation(client):
            body: dict[str, Any] = {"message": text}
            if report.session_id:
                body["session_id"] = report.session_id
            kind = "workflow" if streamed else "query"
            began = time.perf_counter()
            try:
                status, reply = ask(http, body, streamed)
            except (httpx.TimeoutException, StreamTimeout):
                report.timeouts += 1
                report.errors.append("timeout")
                continue
            except Exception as err:
                report.errors.append(f"exception {type(err).__name__}")
                continue
            finally:
                report.latencies.append((kind, time.perf_counter() - began))
            if reply.get("message_id"):  # a refusal is stored too (and is 4xx)
                report.session_id = report.session_id or reply["session_id"]
                report.message_ids.append(reply["message_id"])
            report.types[reply.get("message_type", "none")] += 1
            routed = (reply.get("route") or {}).get("workflow")
            if reply.get("message_type") == "answer" and (routed == "query") == streamed:
                report.types[f"unexpected route ({text!r} -> {routed})"] += 1
            if status >= 300 or reply.get("error"):
                code = (reply.get("error") or {}).get("code", "?")
                report.errors.append(f"HTTP {status} {code}")
    return report


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # nearest rank
    return ordered[int(rank) - 1]


def audit_rows(admin: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = admin.get(
            "/api/v1/audit", params={**filters, "limit": 10_000, "offset": len(rows)}
        ).json()["records"]
        rows += page
        if len(page) < 10_000:
            return rows


def verify(server: api_server.Server, reports: list[ClientReport]) -> None:
    intact, problems = 0, []
    answers: list[tuple[str, dict[str, Any]]] = []  # (user, stored answer)
    for i, report in enumerate(reports):
        if report.session_id is None:
            problems.append(f"client {i}: no session")
            continue
        with server.client(api_server.key_of(report.user)) as http:
            got = http.get(f"/api/v1/chat/sessions/{report.session_id}")
        if got.status_code != 200:
            problems.append(f"client {i}: session {got.status_code}")
            continue
        messages = got.json()["messages"]
        stored = [m["message_id"] for m in messages]
        answers += [(report.user, m["answer"]) for m in messages]
        if len(stored) == QUESTIONS and stored == report.message_ids:
            intact += 1
        else:
            problems.append(
                f"client {i}: {len(stored)} stored, {len(report.message_ids)} answered, "
                f"ids {'match' if stored == report.message_ids else 'differ'}"
            )
    print(f"  sessions intact (exactly {QUESTIONS} messages, same ids): {intact}/{len(reports)}")
    for problem in problems[:10]:
        print(f"    {problem}")

    with server.client(api_server.key_of("root")) as admin:
        runs = {r["run_id"] for r in audit_rows(admin, action="tool.run") if r["run_id"]}
        denied = Counter(r["actor"] for r in audit_rows(admin, decision="denied"))
        verified = admin.get("/api/v1/audit/verify").json()
        snapshot = admin.get("/api/v1/metrics").json()
    covered = refused = missing = asked_back = 0
    for user, given in answers:
        if given.get("clarification"):  # asked back: no tool ran, nothing to audit
            asked_back += 1
        elif given.get("error"):
            refused += 1
            missing += denied[user] == 0
        # An answer is its run's document (run_id at the top; older answers nested it).
        elif (given.get("run_id") or (given.get("result") or {}).get("run_id")) in runs:
            covered += 1
        else:
            missing += 1
    print(
        f"  audit: {len(answers)} stored answers, {covered} with a tool.run row, "
        f"{refused} refusals, {asked_back} questions back, {missing} without an audit row "
        f"({len(runs):,} run ids audited)"
    )
    cache, steps = snapshot["counters"]["result_cache"], snapshot["latency"]["step_ms"]["1h"]
    print(
        f"  server side: {snapshot['counters']['tool_calls']['total']:,} tool calls, result cache "
        f"{cache['hits']:,} hits / {cache['misses']:,} misses; tool call ms (last hour) "
        f"p50 {steps['p50']:,.1f} p95 {steps['p95']:,.1f} max {steps['max']:,.1f}"
    )
    print(
        f"  audit chain: ok={verified['ok']} rows={verified['rows']:,}"
        + (f" problems={verified['problems'][:3]}" if verified["problems"] else "")
    )


@contextmanager
def state_database(url: str | None) -> Iterator[str | None]:
    """A fresh database for the run on the server of a PostgreSQL ``url``, dropped after
    (``url``'s own database when creating one is not allowed); None: SQLite."""
    if not url:
        yield None
        return
    import psycopg

    name = f"chatter_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.errors.InsufficientPrivilege:
        print("(no right to create a database: the state goes to the URL's own database)")
        yield url
        return
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def state_size(url: str | None, home: Path) -> str:
    """How much the state takes: the data directory, and the database on PostgreSQL."""
    files = {f.name: f.stat().st_size for f in home.rglob("*") if f.is_file()}
    chat = sum(n for name, n in files.items() if name.startswith("chat.sqlite"))
    text = (
        f"  server data dir: {sum(files.values()) / 1e6:,.1f} MB, of which the chat "
        f"checkpoints (chat.sqlite*) {chat / 1e6:,.1f} MB"
    )
    if url:
        import psycopg

        with psycopg.connect(url) as con:
            row = con.execute("SELECT pg_database_size(current_database())").fetchone()
        text += f"; state database {(row[0] if row else 0) / 1e6:,.1f} MB"
    return text


def cpu_seconds(root: int) -> float:
    """User plus system CPU time of process ``root`` and its descendants (the workers), from
    /proc (0 where there is none)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


def postmaster(url: str | None) -> int | None:
    """The pid of the PostgreSQL server at ``url`` when it runs on this machine (its backends'
    parent), to count its CPU too; None for SQLite or a server elsewhere."""
    if not url:
        return None
    import psycopg

    with psycopg.connect(url) as con:  # read while the backend lives
        row = con.execute("SELECT pg_backend_pid()").fetchone()
        try:
            stat = Path(f"/proc/{row[0] if row else 0}/stat").read_text()
        except OSError:
            return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def main(
    users: int, workers: int = 1, state_url: str | None = None, clients: int = CLIENTS
) -> None:
    db = bench_database(users)
    backend = "PostgreSQL" if state_url else "SQLite"
    with (
        tempfile.TemporaryDirectory() as tmp,
        state_database(state_url) as url,
        api_server.running_server(
            Path(tmp) / "home",
            db,
            extra_env={"CHATTER_SERVE_WORKERS": str(workers), "CHATTER_STATE_URL": url or ""},
        ) as server,
    ):
        start = threading.Barrier(clients + 1)
        with ThreadPoolExecutor(clients) as pool:
            futures = [pool.submit(run_client, server.url, i, start) for i in range(clients)]
            start.wait()
            began, cpu_before = time.perf_counter(), cpu_seconds(server.process.pid)
            database = postmaster(url)
            db_before = cpu_seconds(database) if database else 0.0
            load_before, client_before = os.getloadavg()[0], time.process_time()
            reports = [f.result() for f in futures]
            wall = time.perf_counter() - began
            server_cpu = cpu_seconds(server.process.pid) - cpu_before
            db_cpu = cpu_seconds(database) - db_before if database else 0.0
            load_after, client_cpu = os.getloadavg()[0], time.process_time() - client_before

        latencies = [s for r in reports for _, s in r.latencies]
        errors = Counter(e for r in reports for e in r.errors)
        timeouts = sum(r.timeouts for r in reports)
        print(
            f"chat API on {users:,} users: {clients} clients x {QUESTIONS} questions, "
            f"{len(USERS)} API keys; {workers} worker process{'es' if workers > 1 else ''}, "
            f"state in {backend}"
        )
        print(f"  requests: {len(latencies):,}   errors: {sum(errors.values())} (goal 0)")
        for what, count in errors.most_common():
            print(f"    {count:5d}  {what}")
        print(f"  timeouts (> {TIMEOUT_S:.0f} s, deadlock guard): {timeouts}")
        types = sum((r.types for r in reports), Counter())
        print("  replies: " + ", ".join(f"{n} {t}" for t, n in types.most_common()))
        ms = [s * 1000 for s in latencies]
        print(
            f"  latency ms: p50 {percentile(ms, 50):,.0f}  p95 {percentile(ms, 95):,.0f}  "
            f"p99 {percentile(ms, 99):,.0f}  max {max(ms):,.0f}"
        )
        for kind in ("query", "workflow"):  # kinds by the expected route
            some = [s * 1000 for r in reports for k, s in r.latencies if k == kind]
            print(
                f"    {kind:<9} ({len(some):4d}): p50 {percentile(some, 50):,.0f}  "
                f"p95 {percentile(some, 95):,.0f}  max {max(some):,.0f}"
            )
        print(f"  throughput: {len(latencies) / wall:,.1f} req/s   wall time: {wall:,.1f} s")
        print(
            f"  server CPU: {server_cpu:,.1f} s ({server_cpu / wall:,.2f} of {os.cpu_count()} "
            f"cores, {server_cpu / max(len(latencies), 1) * 1000:,.1f} ms per request); "
            f"machine load average {load_before:.1f} -> {load_after:.1f}"
        )
        print(
            f"  other CPU on this machine: the clients {client_cpu:,.1f} s"
            + (f", the PostgreSQL server {db_cpu:,.1f} s" if database else "")
        )
        print("no lost rows:")
        verify(server, reports)
        print(state_size(url, server.home))
        logged = [line for line in server.stderr if '"level": "error"' in line]
        print(f"  server error log lines: {len(logged)}")
        for line in logged[:3]:
            print(f"    {line.strip()[:300]}")
        print(
            f"summary: workers={workers} state={backend} "
            f"requests/s={len(latencies) / wall:.1f} p50_ms={percentile(ms, 50):.0f} "
            f"p95_ms={percentile(ms, 95):.0f} errors={sum(errors.values())} "
            f"server_cpu_ms_per_request={server_cpu / max(len(latencies), 1) * 1000:.1f}"
        )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("users", nargs="?", type=int, default=1_000_000, help="demo size")
    parser.add_argument("--workers", type=int, default=1, help="chatter serve --workers N")
    parser.add_argument(
        "--state-url", default=None, help="postgresql://... for shared state (default: SQLite)"
    )
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent clients")
    return parser.parse_args()


if __name__ == "__main__":
    options = arguments()
    main(options.users, options.workers, options.state_url, options.clients)
