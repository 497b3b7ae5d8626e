"""Who holds a run, and what a sweep does with runs whose process is gone: on a real run store
(SQLite under the test's home), with owners of dead and live processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest

from chatter.api.background import role_of
from chatter.api.keys import KeyRing, Principal
from chatter.context import Context, context_to_dict
from chatter.services import Services
from chatter.workflow.recovery import MAX_ATTEMPTS, recover_runs
from chatter.workflow.run_owner import _HOST, is_orphan, process_owner
from chatter.workflow.runs import cancel_run
from chatter.workflow.template import get_template


def dead_owner() -> str:
    """The owner name of a process of this host that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return f"{_HOST}:{child.stdout.strip()}:0000"


def record(services: Services, run_id: str, *, user: str = "alice", **fields: Any) -> None:
    """A run as a process left it: created, then moved to ``fields`` by hand."""
    template = get_template("revenue_optimization")
    ctx = Context(user=user, role="analyst")
    services.runs.create(
        run_id, template.name, template.model_dump(mode="json"), context_to_dict(ctx)
    )
    if fields:
        sets = ", ".join(f"{k} = ?" for k in fields)
        con = services.runs._con  # a state no public method makes in one go
        with con:
            con.execute(f"UPDATE runs SET {sets} WHERE run_id = ?", (*fields.values(), run_id))


def analysts(user: str) -> str | None:
    return "analyst" if user == "alice" else None


def test_orphans_are_runs_nobody_live_holds() -> None:
    now = time.time()
    me = process_owner()
    assert not is_orphan({"owner": me, "heartbeat_at": 0.0}, now=now)  # ours, however old
    assert is_orphan({"owner": None, "heartbeat_at": now}, now=now)
    assert is_orphan({"owner": dead_owner(), "heartbeat_at": now}, now=now)
    parent = f"{_HOST}:{os.getppid()}:abcd"  # alive, stamped lately
    assert not is_orphan({"owner": parent, "heartbeat_at": now - 5}, now=now)
    assert is_orphan({"owner": parent, "heartbeat_at": now - 31}, now=now)  # stopped stamping
    elsewhere = "another-host:1:abcd"
    assert not is_orphan({"owner": elsewhere, "heartbeat_at": now - 1}, now=now)
    assert is_orphan({"owner": elsewhere, "heartbeat_at": now - 60}, now=now)


def test_a_forked_child_is_another_owner() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child says who it is
        os.write(write, process_owner().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 200).decode()
    os.close(read)
    assert child != process_owner() and f":{pid}:" in child


def test_a_sweep_settles_each_orphan_once(services: Services) -> None:
    gone, now = dead_owner(), time.time()
    record(services, "bg", status="running", owner=gone, background=1, heartbeat_at=now)
    record(services, "queued", status="queued", owner=gone, background=1, heartbeat_at=now)
    record(services, "released", status="interrupted", background=1)
    record(services, "chat", status="running", owner=gone, background=0, heartbeat_at=now)
    record(services, "asked", status="running", owner=gone, background=1, cancel_requested=1)
    record(services, "tired", status="running", owner=gone, background=1, attempts=MAX_ATTEMPTS)
    record(services, "keyless", user="mallory", status="running", owner=gone, background=1)
    live = f"{_HOST}:{os.getppid()}:abcd"
    record(services, "alive", status="running", owner=live, background=1, heartbeat_at=now)
    record(services, "new", status="created")

    found = recover_runs(services, analysts)
    assert sorted(run_id for run_id, _ in found.resume) == ["bg", "queued", "released"]
    assert all(ctx.role == "analyst" for _, ctx in found.resume)
    assert sorted(found.failed) == ["chat", "keyless", "tired"]
    assert found.cancelled == ["asked"]
    runs = {r: services.runs.get(r) for r in ("chat", "keyless", "tired", "asked", "bg")}
    assert "interrupted by a server stop" in runs["chat"]["reason"]
    assert "'mallory' has no API key any more" in runs["keyless"]["reason"]
    assert f"{MAX_ATTEMPTS + 1} times" in runs["tired"]["reason"]
    assert runs["asked"]["status"] == "cancelled"
    assert runs["bg"]["owner"] == process_owner() and runs["bg"]["attempts"] == 1
    assert services.runs.get("alive")["owner"] == live  # untouched
    assert services.runs.get("new")["status"] == "created"
    # A second sweep (another worker) finds nothing left: each orphan was taken once.
    again = recover_runs(services, analysts)
    assert (again.resume, again.failed, again.cancelled) == ([], [], [])


def test_a_sweep_resumes_as_the_role_of_now(services: Services) -> None:
    """A user demoted to viewer since: the resume is refused by the guard and the run fails,
    saying so; nothing runs as the role it was created with."""
    record(services, "demoted", status="interrupted", background=1)
    found = recover_runs(services, lambda user: "viewer")
    assert found.failed == ["demoted"]
    assert "cannot resume" in services.runs.get("demoted")["reason"]


def test_cancel_of_a_run_whose_server_is_gone_ends_it_now(services: Services) -> None:
    record(services, "orphan", status="running", owner=dead_owner(), background=1)
    assert cancel_run(services, "orphan")
    run = services.runs.get("orphan")
    assert (run["status"], run["owner"]) == ("cancelled", None)
    assert not cancel_run(services, "orphan")  # already ended


@pytest.mark.parametrize(
    ("keys", "user", "role"),
    [
        ({"k1": Principal("ann", "analyst")}, "ann", "analyst"),
        ({"k1": Principal("ann", "analyst"), "k2": Principal("ann", "viewer")}, "ann", "viewer"),
        ({"k1": Principal("ann", "admin"), "k2": Principal("ann", "auditor")}, "ann", "auditor"),
        ({"k1": Principal("ann", "analyst")}, "bob", None),
    ],
)
def test_role_of_a_user_is_the_least_of_their_keys(
    keys: dict[str, Principal], user: str, role: str | None
) -> None:
    assert role_of(KeyRing(keys), user) == role


def test_a_turn_that_never_ends_leaves_no_session(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatter.analyst.session import ChatSession
    from chatter.api.conversation import Conversations
    from chatter.api.schemas import ChatQuery

    def crash(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # the process going down mid-turn

    monkeypatch.setattr(ChatSession, "say", crash)
    with pytest.raises(KeyboardInterrupt):
        Conversations().turn(services, Principal("ann", "analyst"), ChatQuery(message="mrr"))
    assert services.sessions.for_user("ann") == []
