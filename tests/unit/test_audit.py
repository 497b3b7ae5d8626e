"""The audit log: ULIDs, append/query, append-only triggers, tamper detection, concurrency."""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from chatter.governance import audit
from chatter.governance.audit import AuditLog, new_ulid, params_hash
from chatter.services import shared_services
from chatter.settings import get_settings

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def log(tmp_path: Path):
    log = AuditLog(tmp_path / "audit.sqlite")
    yield log
    log.close()


def fill(log: AuditLog, n: int, **fields: str) -> list[audit.AuditRecord]:
    base = {"actor": "alice", "role": "analyst", "action": "tool.call", "decision": "allowed"}
    return [log.append(**{**base, **fields}, reason=f"row {i}") for i in range(n)]


def tamper(path: Path, sql: str, *args: object) -> None:
    """What an attacker with write access to the file can do: drop the guards and edit."""
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER IF EXISTS audit_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    con.execute(sql, args)
    con.commit()
    con.close()


# --- ULIDs -----------------------------------------------------------------------------------


def test_ulids_are_unique_sorted_and_crockford() -> None:
    ids = [new_ulid() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(len(i) == 26 and set(i) <= CROCKFORD for i in ids)
    # The first 10 characters are the millisecond timestamp.
    ms = int("".join(f"{'0123456789ABCDEFGHJKMNPQRSTVWXYZ'.index(c):05b}" for c in ids[-1][:10]), 2)
    assert abs(ms / 1000 - time.time()) < 60


def test_ulids_from_many_threads_are_unique() -> None:
    out: list[list[str]] = [[] for _ in range(8)]

    def make(k: int) -> None:
        out[k].extend(new_ulid() for _ in range(2000))

    threads = [threading.Thread(target=make, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for ids in out for i in ids]
    assert len(set(every)) == len(every)
    assert all(ids == sorted(ids) for ids in out)


# --- append and query ------------------------------------------------------------------------


def test_params_hash_is_canonical_and_params_are_not_stored(log: AuditLog) -> None:
    assert params_hash({"b": 1, "a": [1, 2]}) == params_hash({"a": [1, 2], "b": 1})
    expected = hashlib.sha256(b'{"a":[1,2],"b":1}').hexdigest()
    assert params_hash({"b": 1, "a": [1, 2]}) == expected
    assert params_hash({"when": datetime(2026, 1, 1)}) == params_hash(
        {"when": "2026-01-01 00:00:00"}
    )
    rec = log.append(
        actor="a", role="r", action="x", decision="info", params={"password": "hunter2-secret"}
    )
    assert rec.params_hash == params_hash({"password": "hunter2-secret"})
    given = log.append(actor="a", role="r", action="x", decision="info", params_hash="f" * 64)
    assert given.params_hash == "f" * 64
    log.close()
    raw = b"".join(p.read_bytes() for p in log.path.parent.glob("audit.sqlite*"))
    assert b"hunter2-secret" not in raw


def test_append_returns_a_chained_record(log: AuditLog) -> None:
    first, second = fill(log, 2, tool="funnel")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.row_hash
    assert TS.match(first.ts) and first.ts <= second.ts
    assert first.id < second.id
    assert first.to_dict()["tool"] == "funnel"
    assert set(first.to_dict()) == {f.name for f in audit.AuditRecord.__dataclass_fields__.values()}
    assert log.query(newest_first=False) == [first, second]


def test_append_validates_decision_and_truncates_reason(log: AuditLog) -> None:
    with pytest.raises(ValueError, match="decision"):
        log.append(actor="a", role="r", action="x", decision="maybe")
    rec = log.append(actor="a", role="r", action="x", decision="denied", reason="x" * 5000)
    assert len(rec.reason or "") == 2000
    assert log.query()[0].reason == rec.reason
    assert log.verify().ok


def test_query_filters(log: AuditLog) -> None:
    log.append(actor="alice", role="analyst", action="permissions.check", decision="allowed")
    log.append(actor="alice", role="analyst", action="permissions.grant", decision="denied")
    log.append(actor="bob", role="admin", action="permissionsX", decision="allowed")
    log.append(actor="bob", role="admin", action="Permissions.check", decision="error")
    log.append(actor="bob", role="admin", action="tool.call", decision="info", tool="funnel")
    log.append(actor="carol", role="viewer", action="a_b.c", decision="allowed")
    log.append(actor="carol", role="viewer", action="aXb.c", decision="allowed")

    def actions(**filters: object) -> list[str]:
        return [r.action for r in log.query(newest_first=False, **filters)]  # type: ignore[arg-type]

    assert actions(actor="alice") == ["permissions.check", "permissions.grant"]
    assert actions(action="permissions.check") == ["permissions.check"]
    assert actions(action="permissions.*") == ["permissions.check", "permissions.grant"]
    assert actions(action="permissions*") == [
        "permissions.check",
        "permissions.grant",
        "permissionsX",
    ]
    assert actions(action="a_b.*") == ["a_b.c"]  # '_' is not a wildcard, case matters
    assert len(actions(action="*")) == 7
    assert actions(decision="denied") == ["permissions.grant"]
    assert actions(tool="funnel") == ["tool.call"]
    assert actions(actor="bob", decision="allowed") == ["permissionsX"]
    assert actions(actor="x' OR '1'='1") == []  # bound, never spliced into the SQL
    assert log.count() == 7
    assert log.count(actor="bob") == 3
    assert log.count(action="permissions.*", decision="allowed") == 1


def test_query_paging_and_order(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    records = fill(log, 10)
    assert log.query() == records[::-1]
    assert log.query(newest_first=False) == records
    assert log.query(limit=3) == records[:-4:-1]
    assert log.query(limit=3, offset=3, newest_first=False) == records[3:6]
    assert log.query(offset=9) == [records[0]]
    assert log.query(limit=0) == []
    with pytest.raises(ValueError):
        log.query(limit=-1)
    monkeypatch.setattr(audit, "MAX_LIMIT", 4)
    assert len(log.query(limit=1_000_000)) == 4


def test_query_time_window(log: AuditLog) -> None:
    before = fill(log, 3, actor="early")
    time.sleep(0.01)
    boundary = datetime.now(UTC)
    time.sleep(0.01)
    after = fill(log, 2, actor="late")
    assert log.query(since=boundary, newest_first=False) == after
    assert log.query(until=boundary, newest_first=False) == before
    # The same instant as a string, a naive datetime (UTC) and another time zone.
    iso = boundary.isoformat().replace("+00:00", "Z")
    paris = boundary.astimezone(timezone(timedelta(hours=2)))
    for same in (iso, boundary.replace(tzinfo=None), paris, paris.isoformat()):
        assert log.query(since=same, newest_first=False) == after
        assert log.count(until=same) == 3
    # since is inclusive and until exclusive: a record's own ts selects it only as since.
    assert log.query(since=after[0].ts, newest_first=False)[0] == after[0]
    assert after[0] not in log.query(until=after[0].ts)
    assert log.count(since=boundary + timedelta(days=1)) == 0
    assert log.count(since="2000-01-01", until="2100-01-01") == 5


# --- append-only and tamper evidence ---------------------------------------------------------


def test_triggers_refuse_update_and_delete(log: AuditLog) -> None:
    fill(log, 3)
    con = sqlite3.connect(log.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit SET reason = 'nothing to see' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit WHERE seq = 3")
    con.close()
    assert log.count() == 3
    assert log.verify().ok


def test_untouched_log_verifies(log: AuditLog) -> None:
    empty = log.verify()
    assert (empty.ok, empty.rows, empty.problems, empty.head_hash) == (True, 0, [], "0" * 64)
    records = fill(log, 25)
    report = log.verify()
    assert report.ok and report.rows == 25 and report.problems == []
    assert report.head_hash == records[-1].row_hash


def test_edited_middle_row_is_detected(log: AuditLog) -> None:
    records = fill(log, 5)
    tamper(log.path, "UPDATE audit SET reason = 'harmless' WHERE seq = 3")
    report = log.verify()
    assert not report.ok and report.rows == 5
    assert len(report.problems) == 1
    assert f"seq=3 id={records[2].id}" in report.problems[0]
    assert "edited" in report.problems[0]


def test_edited_row_with_recomputed_hash_breaks_the_next_link(log: AuditLog) -> None:
    records = fill(log, 5)
    forged = {**records[2].to_dict(), "reason": "harmless"}
    tamper(
        log.path, "UPDATE audit SET reason = ?, row_hash = ? WHERE seq = 3",
        forged["reason"], audit._row_hash(forged),
    )  # fmt: skip
    report = log.verify()
    assert not report.ok
    assert any("seq=4" in p and "prev_hash" in p for p in report.problems)


def test_deleted_middle_row_is_detected(log: AuditLog) -> None:
    records = fill(log, 5)
    tamper(log.path, "DELETE FROM audit WHERE seq = 3")
    report = log.verify()
    assert not report.ok and report.rows == 4
    assert all(f"seq=4 id={records[3].id}" in p for p in report.problems[:2])
    assert any("gap" in p for p in report.problems)
    assert any("prev_hash" in p for p in report.problems)
    assert any("audit_head" in p for p in report.problems)  # the count is off too


def test_deleted_newest_row_is_detected_by_the_head(log: AuditLog) -> None:
    fill(log, 5)
    tamper(log.path, "DELETE FROM audit WHERE seq = 5")
    report = log.verify()
    assert not report.ok and report.rows == 4
    assert len(report.problems) == 1 and "audit_head" in report.problems[0]


def test_reopening_restores_dropped_triggers(log: AuditLog) -> None:
    fill(log, 2)
    tamper(log.path, "SELECT 1")
    AuditLog(log.path).close()
    con = sqlite3.connect(log.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit")
    con.close()


# --- sharing, threads and processes ----------------------------------------------------------


def test_each_data_directory_has_its_own_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = shared_services().guard.audit
    assert shared is shared_services().guard.audit
    assert shared.path == (get_settings().home / "audit.sqlite").resolve()
    monkeypatch.setenv("CHATTER_HOME", str(tmp_path / "home2"))
    get_settings.cache_clear()
    other = shared_services().guard.audit
    assert other is not shared and other.path == (tmp_path / "home2" / "audit.sqlite").resolve()
    shared.append(actor="a", role="r", action="x", decision="info")
    shared.close()  # reopens on next use
    assert shared.count() == 1 and other.count() == 0


def test_many_threads_append_one_chain(log: AuditLog) -> None:
    start = threading.Barrier(50)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(20):
                log.append(actor=f"t{k}", role="r", action="x", decision="info", params={"i": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = log.verify()
    assert report.ok and report.rows == 1000, report.problems[:5]
    assert log.count(actor="t7") == 20
    assert len({r.id for r in log.query(limit=1000)}) == 1000


def _append_in_process(path: str, worker: int, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    log = AuditLog(Path(path))
    for i in range(100):
        log.append(actor=f"p{worker}", role="r", action="x", decision="info", reason=str(i))
    log.close()


@pytest.mark.slow
def test_many_processes_append_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "audit.sqlite"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(4)
    procs = [ctx.Process(target=_append_in_process, args=(str(path), k, start)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    log = AuditLog(path)
    report = log.verify()
    assert report.ok and report.rows == 400, report.problems[:5]
    assert [log.count(actor=f"p{k}") for k in range(4)] == [100] * 4
    log.close()


def _append_after_fork(log: AuditLog) -> None:
    log.append(actor="child", role="r", action="x", decision="info")


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"
)  # fmt: skip
def test_a_forked_child_opens_its_own_connection(log: AuditLog) -> None:
    fill(log, 2)
    child = multiprocessing.get_context("fork").Process(target=_append_after_fork, args=(log,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    fill(log, 2)
    report = log.verify()
    assert report.ok and report.rows == 5
    assert log.count(actor="child") == 1
