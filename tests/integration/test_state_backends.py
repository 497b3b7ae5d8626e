"""The shared state on both backends: every store (runs, sessions, audit, grants, rate limits,
metrics, checkpoints) passes the same assertions on SQLite files and on a real PostgreSQL,
and on PostgreSQL the things several workers rely on hold across processes: one audit
chain, one rate-limit count, one set of metrics.

The PostgreSQL half needs CHATTER_TEST_POSTGRES_URL (``.ci/run`` starts a server); without
it those tests skip locally and fail under CI.
"""

from __future__ import annotations

import inspect
import itertools
import multiprocessing
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from state_backends import (
    State,
    append_audit,
    record_metrics,
    reset_postgres,
    take_rate_slots,
)

from chatter.errors import InvalidValueError
from chatter.governance.audit import AuditLog, _row_hash
from chatter.governance.grants import PermissionStore
from chatter.governance.metrics import Metrics
from chatter.governance.permissions import Grant, Level
from chatter.governance.postgres import (
    PostgresAuditLog,
    PostgresLimiter,
    PostgresMetrics,
    PostgresPermissionStore,
)
from chatter.governance.ratelimit import RateLimit, SlidingWindowLimiter
from chatter.semantic.query import Filter
from chatter.settings import Settings
from chatter.stores.postgres import PostgresRunStore, PostgresSessionStore
from chatter.stores.runs import RunStore
from chatter.stores.sessions import SessionStore, UnknownMessageError, UnknownSessionError
from chatter.stores.state import state_backend, state_backend_of

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgres"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[State]:
    """The stores of one backend, on fresh state; closed after the test."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
    made = State(request.param, tmp_path / "state", url)
    (tmp_path / "state").mkdir()
    yield made
    made.close()


@pytest.fixture
def postgres(postgres_url: str, tmp_path: Path) -> Iterator[State]:
    """The PostgreSQL backend alone (what only shared state can do)."""
    reset_postgres(postgres_url)
    made = State("postgres", tmp_path, postgres_url)
    yield made
    made.close()


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


# ---- the factory and the interfaces ---------------------------------------------------------


def test_state_url_chooses_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert state_backend_of(None).kind == "sqlite"
    assert state_backend_of("  ").kind == "sqlite"
    assert state_backend_of("sqlite").kind == "sqlite"
    for url in ("postgresql://u:pw@h:5/db", "postgres://u:pw@h:5/db", "postgresql+psycopg://u:pw@h:5/db"):  # fmt: skip
        chosen = state_backend_of(url)
        assert (chosen.kind, chosen.url) == ("postgres", "postgresql://u:pw@h:5/db")
        assert "pw" not in repr(chosen)
    with pytest.raises(InvalidValueError, match="CHATTER_STATE_URL") as refused:
        state_backend_of("mysql://root:hunter2@db/x")
    assert "hunter2" not in str(refused.value) and "***" in str(refused.value)
    monkeypatch.setenv("CHATTER_STATE_URL", "postgresql://me:secret@db/chatter?sslmode=require")
    settings = Settings()
    assert "secret" not in repr(settings)
    assert state_backend(settings).url == "postgresql://me:secret@db/chatter?sslmode=require"
    monkeypatch.delenv("CHATTER_STATE_URL")
    assert state_backend(Settings()).kind == "sqlite"


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        (RunStore, PostgresRunStore),
        (SessionStore, PostgresSessionStore),
        (AuditLog, PostgresAuditLog),
        (PermissionStore, PostgresPermissionStore),
        (SlidingWindowLimiter, PostgresLimiter),
        (Metrics, PostgresMetrics),
    ],
)
def test_postgres_classes_have_the_same_public_methods(sqlite: type, postgres: type) -> None:
    """Every public method of the SQLite (or in-memory) class exists on the PostgreSQL one,
    taking the same parameters (drain/absorb are how the PostgreSQL metrics move numbers)."""
    for name, method in inspect.getmembers(sqlite, inspect.isfunction):
        if name.startswith("_") or (sqlite is Metrics and name in ("drain", "absorb")):
            continue
        theirs = getattr(postgres, name, None)
        assert theirs is not None, f"{postgres.__name__} lacks {name}"
        ours = list(inspect.signature(method).parameters.values())
        others = list(inspect.signature(theirs).parameters.values())
        assert [(p.name, p.kind, p.default) for p in ours] == [
            (p.name, p.kind, p.default) for p in others
        ], name


# ---- runs -----------------------------------------------------------------------------------


def test_runs_are_created_read_and_replaced(state: State) -> None:
    runs = state.runs()
    assert runs.get("nope") is None
    runs.create("r1", "funnel", {"steps": [1]}, {"user": "ann", "role": "analyst"})
    got = runs.get("r1")
    assert got["workflow"] == "funnel" and got["status"] == "created"
    assert got["template"] == {"steps": [1]} and got["context"]["user"] == "ann"
    assert (got["owner"], got["attempts"], got["background"], got["cancel_requested"]) == (
        None, 0, False, False,
    )  # fmt: skip
    assert got["result"] is None and got["reason"] is None
    assert runs.claim("r1", "w1", background=True)
    runs.create("r1", "churn", {}, {"user": "bob"})  # replaced whole, as new
    again = runs.get("r1")
    assert (again["workflow"], again["status"], again["owner"], again["background"]) == (
        "churn", "created", None, False,
    )  # fmt: skip
    assert state.runs().get("r1")["workflow"] == "churn"  # another handle sees it


def test_a_runs_progress_is_seen_by_every_worker(state: State) -> None:
    runs = state.runs()
    runs.create("r", "funnel", {}, {"user": "ann"})
    assert runs.get("r")["progress"] is None
    runs.set_progress("r", {"event": "step_finished", "step": "a", "percent": 50.0})
    elsewhere = state.runs()  # another worker's handle
    assert elsewhere.get("r")["progress"] == {
        "event": "step_finished",
        "step": "a",
        "percent": 50.0,
    }


def test_run_life_claim_start_end(state: State) -> None:
    runs = state.runs()
    runs.create("r", "funnel", {}, {"user": "ann"})
    assert runs.claim("r", "w1", background=True)
    assert not runs.claim("r", "w2")  # exactly one caller starts a run
    queued = runs.get("r")
    assert (queued["status"], queued["owner"], queued["background"]) == ("queued", "w1", True)
    assert queued["heartbeat_at"] is not None
    assert not runs.start("r", "w2")  # not its owner
    assert runs.start("r", "w1")
    assert runs.get("r")["status"] == "running"
    runs.set_status("r", "completed", {"answer": 42})
    done = runs.get("r")
    assert (done["status"], done["owner"], done["result"]) == ("completed", None, {"answer": 42})
    runs.set_status("r", "completed", reason="kept")  # no result: the old one stays
    assert runs.get("r")["result"] == {"answer": 42} and runs.get("r")["reason"] == "kept"
    runs.set_status("r", "failed", reason="later")
    assert runs.get("r")["reason"] == "later"
    runs.set_status("r", "failed")
    assert runs.get("r")["reason"] == "later"  # no reason given: the last one stays

    runs.create("anon", "funnel", {}, {})
    assert runs.claim("anon")  # no owner
    assert runs.start("anon", None)  # "owner IS NULL" matches no owner
    runs.set_status("anon", "running")
    assert runs.get("anon")["owner"] is None


def test_claim_race_has_one_winner(state: State) -> None:
    runs = state.runs()
    runs.create("r", "funnel", {}, {})
    start = threading.Barrier(16)
    wins: list[bool] = []

    def claim(k: int) -> None:
        start.wait()
        wins.append(runs.claim("r", f"w{k}"))

    threads = [threading.Thread(target=claim, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 15 + [True]


def test_cancel_heartbeat_take_over_release(state: State) -> None:
    runs = state.runs()
    for run_id in ("new", "queued", "running", "done"):
        runs.create(run_id, "funnel", {}, {"user": "ann"})
        time.sleep(0.002)  # distinct creation times: unfinished() is oldest first
    assert runs.cancel_if_created("new")
    assert not runs.cancel_if_created("new")
    assert runs.get("new")["status"] == "cancelled"
    runs.claim("queued", "w1", background=True)
    runs.claim("running", "w1")
    runs.claim("done", "w1")
    runs.set_status("done", "completed", {"ok": True})

    assert runs.request_cancel("done") is None and runs.request_cancel("missing") is None
    assert runs.request_cancel("running") == "running"
    flagged = runs.get("running")
    assert (flagged["status"], flagged["cancel_requested"]) == ("running", True)
    before = runs.get("queued")["heartbeat_at"]
    time.sleep(0.01)
    assert runs.heartbeat("w1") == ["running"]
    assert runs.get("queued")["heartbeat_at"] > before
    assert runs.heartbeat("nobody") == []

    assert [r["run_id"] for r in runs.unfinished()] == ["queued", "running"]
    assert not runs.take_over("queued", "w9", "w2")  # not its owner any more
    assert runs.take_over("queued", "w1", "w2")
    assert not runs.take_over("queued", "w1", "w3")  # two recoverers take it once
    taken = runs.get("queued")
    assert (taken["owner"], taken["attempts"]) == ("w2", 1)
    assert not runs.release("queued", "w1")
    assert runs.release("queued", "w2")
    released = runs.get("queued")
    assert (released["status"], released["owner"]) == ("interrupted", None)
    assert runs.take_over("queued", None, "w3")  # an interrupted run has no owner
    assert runs.start("queued", "w3")

    runs.create("later", "funnel", {}, {})
    runs.claim("later", "w1", background=True)
    assert runs.request_cancel("later") == "queued"
    cancelled = runs.get("later")
    assert (cancelled["status"], cancelled["owner"]) == ("cancelled", None)
    assert cancelled["reason"] == "cancelled before it started"
    assert not runs.start("later", "w1")


def test_runs_list_newest_first_by_user(state: State) -> None:
    runs = state.runs()
    for i in range(5):
        runs.create(f"r{i}", "funnel", {}, {"user": "ann" if i % 2 == 0 else "bob"})
        time.sleep(0.002)
    runs.set_status("r4", "failed", reason="boom")
    listed = runs.list()
    assert [r["run_id"] for r in listed] == ["r4", "r3", "r2", "r1", "r0"]
    assert set(listed[0]) == {
        "run_id", "workflow", "status", "created_at", "updated_at", "user", "reason",
    }  # fmt: skip
    assert (listed[0]["user"], listed[0]["reason"], listed[0]["status"]) == (
        "ann",
        "boom",
        "failed",
    )
    assert [r["run_id"] for r in runs.list(user="bob")] == ["r3", "r1"]
    assert [r["run_id"] for r in runs.list(limit=2, offset=1)] == ["r3", "r2"]
    assert [r["run_id"] for r in runs.list(limit=0, offset=-4)] == ["r4"]  # clamped


# ---- sessions -------------------------------------------------------------------------------


def test_sessions_belong_to_their_user(state: State) -> None:
    sessions = state.sessions()
    made = sessions.create("ann", "x" * 200)
    assert len(made["title"]) == 120 and made["messages"] == 0
    assert sessions.get(made["session_id"], "ann") == made
    assert sessions.get(made["session_id"], None) == made  # an admin sees any
    with pytest.raises(UnknownSessionError):
        sessions.get(made["session_id"], "bob")
    with pytest.raises(UnknownSessionError):
        sessions.get("missing", None)
    second = sessions.create("ann", "second")
    sessions.create("bob", "bob's")
    sessions.add_message(made["session_id"], "q", {"answer": 1})  # now the newest used
    assert [s["session_id"] for s in sessions.for_user("ann")] == [
        made["session_id"], second["session_id"],
    ]  # fmt: skip
    assert [s["session_id"] for s in sessions.for_user("ann", limit=1, offset=1)] == [
        second["session_id"]
    ]
    assert state.sessions().get(second["session_id"], "ann")["title"] == "second"


def test_messages_feedback_and_deletion(state: State) -> None:
    sessions = state.sessions()
    sid = sessions.create("ann", "t")["session_id"]
    first = sessions.add_message(sid, "how many?", {"query": {"measures": ["users"]}, "n": 1})
    time.sleep(0.002)
    sessions.add_message(sid, "thanks", {"query": None, "text": "you are welcome"})
    time.sleep(0.002)
    third = sessions.add_message(sid, "by plan", {"query": {"dimensions": ["plan"]}, "d": datetime(2024, 1, 2)})  # fmt: skip
    time.sleep(0.002)
    sessions.add_message(sid, "chat", {"text": "no query at all"})
    got = sessions.get(sid, "ann")
    assert got["messages"] == 4 and got["updated_at"] > got["created_at"]
    listed = sessions.messages(sid)
    assert [m["question"] for m in listed] == ["how many?", "thanks", "by plan", "chat"]
    assert listed[2]["answer"]["d"] == "2024-01-02 00:00:00"  # stored with default=str
    assert sessions.message(sid, first) == {
        "message_id": first, "question": "how many?",
        "answer": {"query": {"measures": ["users"]}, "n": 1},
    }  # fmt: skip
    with pytest.raises(UnknownMessageError):
        sessions.message(sid, "missing")
    latest = sessions.latest_with_query(sid)
    assert latest is not None and latest["message_id"] == third  # a null query is none
    assert sessions.latest_with_query("other") is None

    one = sessions.add_feedback(sid, first, "ann", "positive", None)
    two = sessions.add_feedback(sid, first, "ann", "negative", "wrong plan")
    assert one >= 1 and two > one

    forgotten: list[str] = []
    sessions.delete(sid, forgotten.append)
    assert forgotten == [sid] and sessions.messages(sid) == []
    with pytest.raises(UnknownSessionError):
        sessions.get(sid, None)


def test_idle_sessions_expire(state: State) -> None:
    sessions = state.sessions()
    old = sessions.create("ann", "old")["session_id"]
    time.sleep(0.05)
    fresh = sessions.create("ann", "fresh")["session_id"]
    forgotten: list[str] = []
    assert sessions.expire(0.03, forgotten.append) == [old]
    assert forgotten == [old]
    assert [s["session_id"] for s in sessions.for_user("ann")] == [fresh]


# ---- the audit chain ------------------------------------------------------------------------


def fill(log: Any, n: int, **fields: str) -> list[Any]:
    base = {"actor": "alice", "role": "analyst", "action": "tool.call", "decision": "allowed"}
    return [log.append(**{**base, **fields}, reason=f"row {i}") for i in range(n)]


def test_audit_appends_a_chain_and_queries_it(state: State) -> None:
    log = state.audit()
    first, second = fill(log, 2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == "0" * 64 and second.prev_hash == first.row_hash
    assert first.row_hash == _row_hash(first.to_dict())
    with pytest.raises(ValueError, match="decision"):
        log.append(actor="a", role="r", action="x", decision="maybe")
    long = log.append(actor="a", role="r", action="x", decision="info", reason="y" * 5000)
    assert len(long.reason) == 2000
    hashed = log.append(actor="bob", role="viewer", action="run.create", decision="denied",
                        tool="query", params={"b": 1, "a": [2]}, run_id="r1")  # fmt: skip
    assert (
        hashed.params_hash
        == log.append(
            actor="bob",
            role="viewer",
            action="run.Create",
            decision="info",
            params={"a": [2], "b": 1},
        ).params_hash
    )
    log.append(actor="eve", role="r", action="run%", decision="error")
    assert log.count() == 6
    assert log.count(actor="bob") == 2 and log.count(decision="denied", tool="query") == 1
    assert log.count(action="run.*") == 2 and log.count(action="Run.*") == 0  # a prefix
    assert log.count(action="run%") == 1 and log.count(action="run_create") == 0  # no wildcards
    assert log.count(action="tool.*") == 2
    newest = log.query(limit=2)
    assert [r.seq for r in newest] == [6, 5]
    assert [r.seq for r in log.query(limit=2, offset=1, newest_first=False)] == [2, 3]
    assert log.query(actor="bob", newest_first=False)[0] == hashed
    with pytest.raises(ValueError):
        log.query(limit=-1)
    moment = datetime.strptime(newest[0].ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert log.count(since=moment) >= 1
    assert log.count(until=moment - timedelta(days=1)) == 0
    assert log.count(since="2000-01-01", until="2100-01-01") == 6
    assert state.audit().count() == 6  # another handle, the same log


def test_audit_verify_catches_tampering(state: State) -> None:
    log = state.audit()
    empty = log.verify()
    assert (empty.ok, empty.rows, empty.problems, empty.head_hash) == (True, 0, [], "0" * 64)
    records = fill(log, 6)
    report = log.verify()
    assert report.ok and report.rows == 6 and report.head_hash == records[-1].row_hash

    state.tamper("UPDATE audit SET reason = 'harmless' WHERE seq = 2")
    edited = log.verify()
    assert not edited.ok and len(edited.problems) == 1
    assert f"seq=2 id={records[1].id}" in edited.problems[0] and "edited" in edited.problems[0]

    state.tamper("DELETE FROM audit WHERE seq = 4")
    removed = log.verify()
    assert removed.rows == 5
    assert any("gap" in p for p in removed.problems)
    assert any(f"seq=5 id={records[4].id}" in p and "prev_hash" in p for p in removed.problems)
    assert any("audit_head" in p for p in removed.problems)

    state.tamper("DELETE FROM audit WHERE seq = 6")
    assert any("audit_head" in p for p in log.verify().problems)


def test_audit_triggers_refuse_edits_and_come_back(state: State) -> None:
    log = state.audit()
    fill(log, 3)
    errors: tuple[type[BaseException], ...] = (Exception,)
    with pytest.raises(errors, match="append-only"):
        state.raw("UPDATE audit SET reason = 'nothing to see' WHERE seq = 2")
    with pytest.raises(errors, match="append-only"):
        state.raw("DELETE FROM audit WHERE seq = 3")
    if state.kind == "postgres":
        with pytest.raises(errors, match="append-only"):
            state.raw("TRUNCATE audit")
    assert log.count() == 3 and log.verify().ok
    state.tamper("SELECT 1")  # drops the triggers
    state.audit()  # opening the log makes them again
    with pytest.raises(errors, match="append-only"):
        state.raw("DELETE FROM audit")


def test_audit_many_threads_one_chain(state: State) -> None:
    log = state.audit()
    start = threading.Barrier(12)
    failures: list[BaseException] = []

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(25):
                log.append(actor=f"t{k}", role="r", action="x", decision="info", params={"i": i})
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    report = log.verify()
    assert report.ok and report.rows == 300, report.problems[:5]
    assert len({r.id for r in log.query(limit=1000)}) == 300


@pytest.mark.slow
def test_audit_chain_intact_after_two_processes_append(state: State) -> None:
    """Two workers (processes, three threads each) append at once; one unbroken chain."""
    state.audit()  # tables exist before the race
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [
        ctx.Process(
            target=append_audit, args=(state.kind, str(state.home), state.url, k, 150, start)
        )
        for k in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    log = state.audit()
    report = log.verify()
    assert report.ok and report.rows == 300, report.problems[:5]
    assert [log.count(actor=f"p{k}") for k in range(2)] == [150, 150]
    seqs = [r.seq for r in log.query(limit=1000, newest_first=False)]
    assert seqs == list(range(1, 301))
    # The workers' rows interleave: they really wrote at the same time.
    actors = [r.actor for r in log.query(limit=1000, newest_first=False)]
    assert sum(a != b for a, b in itertools.pairwise(actors)) > 1


# ---- grants and scopes ----------------------------------------------------------------------


def test_grants_round_trip_replace_and_delete(state: State) -> None:
    store = state.grants()
    at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    full = Grant(
        subject="user:ann", resource="tool:query", level=Level.EXECUTE,
        methods=frozenset({"run", "read"}), rate_limit=RateLimit(calls=5, window_s=60.5),
        expires_at=at + timedelta(days=30), granted_by="root", granted_at=at,
    )  # fmt: skip
    bare = Grant(subject="role:viewer", resource="*", level=Level.READ, granted_at=at)
    store.put(full)
    store.put(bare)
    assert store.grants() == {("user:ann", "tool:query"): full, ("role:viewer", "*"): bare}
    assert store.list_grants() == [bare, full]
    assert store.list_grants("user:ann") == [full]
    lowered = full.model_copy(update={"level": Level.READ, "rate_limit": None, "methods": None})
    store.put(lowered)  # the same subject and resource: replaced
    assert state.grants().list_grants("user:ann") == [lowered]
    assert store.delete("user:ann", "tool:query")
    assert not store.delete("user:ann", "tool:query")
    assert store.list_grants() == [bare]


def test_scopes_set_read_and_clear(state: State) -> None:
    store = state.grants()
    de = (Filter(field="country", op="=", value="DE"),)
    paid = (Filter(field="plan_type", op="in", value=["pro", "ultra"]),)
    assert store.scope("user:ann") == () and store.scope_for("ann", "analyst") == ()
    store.set_scope("user:ann", de, "root")
    store.set_scope("role:analyst", paid, "root")
    assert store.scope("user:ann") == de
    assert store.scope_for("ann", "analyst") == (*paid, *de)  # the role's, then the user's
    assert store.scope_for("bob", "analyst") == paid
    assert store.scopes() == {"user:ann": de, "role:analyst": paid}
    store.set_scope("user:ann", paid, "root")
    assert state.grants().scope("user:ann") == paid
    store.set_scope("user:ann", (), "root")
    assert store.scopes() == {"role:analyst": paid}


# ---- rate limits ----------------------------------------------------------------------------


def test_window_slides_and_says_when_to_retry(state: State) -> None:
    clock = Clock()
    limiter = state.limiter(clock)
    limit = RateLimit(calls=2, window_s=10)
    key = ("ann", "user:ann", "tool:query")
    assert limiter.acquire([(key, limit)]).allowed
    clock.advance(4)
    assert limiter.acquire([(key, limit)]).allowed
    clock.advance(1)
    refused = limiter.acquire([(key, limit)])
    assert not refused.allowed and refused.limit == limit and refused.key == key
    assert refused.retry_after_s == pytest.approx(5.0)
    assert limiter.used(key, limit) == 2
    clock.advance(5)  # the first call is exactly window_s old: out
    assert limiter.used(key, limit) == 1
    assert limiter.acquire([(key, limit)]).allowed
    assert limiter.acquire([]).allowed
    limiter.reset()
    assert limiter.used(key, limit) == 0


def test_a_refused_call_consumes_no_limit(state: State) -> None:
    clock = Clock()
    limiter = state.limiter(clock)
    wide, tight = RateLimit(calls=10, window_s=60), RateLimit(calls=1, window_s=60)
    assert limiter.acquire([("a", wide), ("b", tight)]).allowed
    refused = limiter.acquire([("a", wide), ("b", tight)])
    assert not refused.allowed and refused.key == "b" and refused.limit == tight
    assert limiter.used("a", wide) == 1  # the refused call did not count against "a"
    assert limiter.acquire([("c", tight)]).allowed  # keys are independent
    assert not limiter.acquire([("c", tight)]).allowed


def test_threads_racing_admit_exactly_the_limit(state: State) -> None:
    limiter = state.limiter()
    limit = RateLimit(calls=7, window_s=3600)
    start = threading.Barrier(20)
    admitted: list[bool] = []

    def race() -> None:
        start.wait()
        for _ in range(3):
            admitted.append(limiter.acquire([("k", limit)]).allowed)

    threads = [threading.Thread(target=race) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(admitted) == 7 and len(admitted) == 60


@pytest.mark.slow
def test_rate_limit_is_one_count_across_processes(postgres: State) -> None:
    """Two workers race 40 calls each for a limit of 25: exactly 25 are admitted in all."""
    postgres.limiter()  # the table exists before the race
    ctx = multiprocessing.get_context("spawn")
    start, admitted = ctx.Barrier(2), ctx.Value("i", 0)
    procs = [
        ctx.Process(target=take_rate_slots, args=(postgres.url, 40, start, admitted))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert admitted.value == 25
    limit = RateLimit(calls=25, window_s=3600)
    assert postgres.limiter().used(("u", "role:r", "tool:query"), limit) == 25


# ---- metrics --------------------------------------------------------------------------------


def record_scenario(m: Any) -> None:
    """A bit of everything a Metrics counts (the unit tests' scenario)."""
    for tool, kw in (
        ("query", {"cached": True}), ("query", {"cached": False}), ("query", {"cached": True}),
        ("chart", {}), ("stats", {"ok": False, "error_code": "query_timeout"}),
        ("stats", {"ok": False}),
    ):  # fmt: skip
        m.record_tool_call(
            tool=tool, step_type="query", duration_ms=5.0, **{"ok": True, **kw},
            run_id="r1", step_id=tool,
        )  # fmt: skip
    m.record_denied(tool="query", reason_code="permission_denied")
    m.record_denied(tool="query", reason_code="rate_limited")
    m.record_run(template="funnel", run_id="r1", duration_ms=1200, status="succeeded")
    m.record_run(template="funnel", run_id="r2", duration_ms=800, status="failed")
    m.record_tokens(prompt=100, completion=20, model="gpt-x")
    m.record_tokens(prompt=50, completion=5)
    for hit in (False, True, True):
        m.record_graph_cache(hit=hit)
    for positive in (True, True, True, False):
        m.record_feedback(positive=positive)


def test_metrics_read_the_same_as_in_memory(state: State) -> None:
    clock = Clock()
    m, reference = state.metrics(clock=clock), Metrics(clock=clock)
    for target in (m, reference):
        record_scenario(target)
    snap, expected = m.snapshot(), reference.snapshot()
    assert snap == expected
    c = snap["counters"]
    assert c["tool_calls"]["by_tool"] == {"query": 3, "chart": 1, "stats": 2}
    assert c["tokens"]["by_model"] == {"gpt-x": {"prompt": 100, "completion": 20}}
    assert c["feedback"]["satisfaction"] == 0.75
    assert snap["run_steps"] == {"r1": {"query": 15.0, "chart": 5.0, "stats": 10.0}}
    assert m.prometheus_text() == reference.prometheus_text()
    assert m.health(window_s=60) == reference.health(window_s=60)
    assert m.window_stats("run_ms:funnel", 300)["mean"] == 1000.0
    m.reset()
    assert m.snapshot() == Metrics(clock=clock).snapshot()


def test_metrics_windows_and_bounds(state: State) -> None:
    clock = Clock()
    m = state.metrics(clock=clock, max_samples=5)
    for v in range(1, 9):
        m.record_tool_call(tool="query", step_type="query", duration_ms=float(v), ok=True)
    stats = m.window_stats("step_ms", 300)
    assert (stats["count"], stats["mean"], stats["max"]) == (5, 6.0, 8.0)  # the newest five
    assert m.snapshot()["counters"]["tool_calls"]["total"] == 8  # counters are not bounded
    clock.advance(400)
    m.record_tool_call(tool="query", step_type="query", duration_ms=1.0, ok=True)
    assert m.window_stats("step_ms", 300)["count"] == 1
    assert m.window_stats("step_ms", 3600)["count"] == 5
    clock.advance(86_401)
    assert m.window_stats("step_ms", 10**9)["count"] == 0  # past the 24 h retention
    with pytest.raises(ValueError):
        state.metrics(max_samples=0)


def test_metrics_keep_the_latest_runs(state: State) -> None:
    m = state.metrics(clock=Clock())
    for i in range(30):
        m.record_tool_call(tool="query", step_type="q", duration_ms=1.0, ok=True,
                           run_id=f"run{i}", step_id="s")  # fmt: skip
    m.record_tool_call(
        tool="query", step_type="q", duration_ms=2.0, ok=True, run_id="run3", step_id="s"
    )  # fmt: skip  (touched again: newest)
    runs = m.snapshot()["run_steps"]
    assert list(runs) == [f"run{i}" for i in range(11, 30)] + ["run3"]
    assert runs["run3"] == {"s": 3.0}


@pytest.mark.slow
def test_metrics_add_up_across_processes(postgres: State) -> None:
    """Two workers record at once and flush in the background; a third process's reader
    sees the sum of both, exactly."""
    reader = postgres.metrics()
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [
        ctx.Process(target=record_metrics, args=(postgres.url, k, 200, start)) for k in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    snap = reader.snapshot()
    c = snap["counters"]
    assert c["tool_calls"] == {"total": 400, "by_tool": {"query": 200, "stats": 200},
                               "by_step_type": {"query": 400}}  # fmt: skip
    assert c["errors"] == {"total": 80, "by_category": {"internal": 80}}
    assert c["result_cache"] == {"hits": 200, "misses": 200, "hit_rate": 0.5}
    assert c["runs"] == {"total": 2, "by_status": {"succeeded": 2}}
    assert reader.window_stats("step_ms", 3600)["count"] == 400
    assert reader.health()["components"]["error_rate"] == pytest.approx(0.2)
    steps = sum(range(200))
    assert sum(sum(s.values()) for s in snap["run_steps"].values()) == pytest.approx(2 * steps)


def test_metrics_flush_in_the_background(postgres: State) -> None:
    writer = postgres.metrics(flush_interval_s=0.05)
    reader = postgres.metrics()
    writer.record_feedback(positive=True)
    deadline = time.monotonic() + 5
    while reader.snapshot()["counters"]["feedback"]["positive"] == 0:
        assert time.monotonic() < deadline, "never flushed"
        time.sleep(0.05)
    assert reader.snapshot()["counters"]["feedback"]["positive"] == 1


# ---- checkpoints ----------------------------------------------------------------------------


class Count(TypedDict):
    n: int
    trail: list[str]


def small_graph(checkpointer: Any) -> Any:
    """add -> (interrupt) -> double: enough to stop, persist and resume elsewhere."""

    def add(state: Count) -> dict[str, Any]:
        return {"n": state["n"] + 1, "trail": [*state["trail"], "add"]}

    def double(state: Count) -> dict[str, Any]:
        return {"n": state["n"] * 2, "trail": [*state["trail"], "double"]}

    builder = StateGraph(Count)
    builder.add_node("add", add)
    builder.add_node("double", double)
    builder.add_edge(START, "add")
    builder.add_edge("add", "double")
    builder.add_edge("double", END)
    return builder.compile(checkpointer=checkpointer, interrupt_before=["double"])


def test_checkpoints_round_trip_through_a_graph(state: State) -> None:
    config = {"configurable": {"thread_id": "run-1"}}
    first = small_graph(state.checkpointer())
    paused = first.invoke({"n": 20, "trail": []}, config)
    assert paused["n"] == 21 and first.get_state(config).next == ("double",)

    # Another worker (another saver, other connections) resumes the thread where it stopped.
    saver = state.checkpointer()
    second = small_graph(saver)
    assert second.get_state(config).values == {"n": 21, "trail": ["add"]}
    done = second.invoke(None, config)
    assert done == {"n": 42, "trail": ["add", "double"]}
    assert second.get_state(config).next == ()
    assert len(list(saver.list(config))) >= 3  # input, after add, after double

    other = {"configurable": {"thread_id": "run-2"}}
    second.invoke({"n": 1, "trail": []}, other)
    saver.delete_thread("run-1")
    assert saver.get_tuple(config) is None
    assert small_graph(state.checkpointer()).get_state(other).values["n"] == 2


def test_one_turn_at_a_time_per_session_across_workers(postgres_url: str) -> None:
    """Two workers' session stores: a turn of one session waits for the other's to end; a
    lease left by a worker that died is taken once it runs out; another session never waits."""
    first, second = PostgresSessionStore(postgres_url), PostgresSessionStore(postgres_url)
    try:
        inside: list[str] = []
        overlaps: list[int] = []

        def turn(store: PostgresSessionStore, name: str) -> None:
            for _ in range(5):
                with store.turn_lock("s1"):
                    inside.append(name)
                    overlaps.append(len(inside))
                    time.sleep(0.02)
                    inside.remove(name)

        workers = [
            threading.Thread(target=turn, args=(store, name))
            for store, name in ((first, "a"), (second, "b"), (first, "c"))
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        assert len(overlaps) == 15 and max(overlaps) == 1
        # A holder that never gave its lease back (its worker died): taken after the lease.
        held = first.turn_lock("s2", lease_s=0.3)
        held.__enter__()
        started = time.monotonic()
        with second.turn_lock("s2", lease_s=0.3):
            assert time.monotonic() - started >= 0.25
            with first.turn_lock("s3"):  # another session: no wait
                pass
        held.__exit__(None, None, None)  # its late release lets go of nothing: not its lease
        with first.turn_lock("s2", lease_s=0.3):
            pass
    finally:
        first.close()
        second.close()
