"""A repeat of a run whose data steps were all cache hits is replayed from what was kept: the
same document as a cached run (apart from ids and timings), every step let through the guard
again as the caller is now (a revoked grant fails its step as it would have), audited under
the new run, and never across data versions, scopes or a cache switched off."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from documents import normalised

import chatter.semantic.warehouse as warehouse_module
from chatter.context import Context
from chatter.services import Services
from chatter.version import fingerprint_of
from chatter.workflow import run_memo
from chatter.workflow.runs import run_workflow
from chatter.workflow.template import get_template

pytestmark = pytest.mark.integration

ROOT = Context(user="root", role="admin")
TEMPLATE = "conversion_deep_dive"


def tool_rows(services: Services, user: str, run_id: str) -> list[Any]:
    return [
        r
        for r in services.guard.audit.query(actor=user, limit=10_000)
        if r.run_id == run_id and r.action == "tool.run"
    ]


def test_a_third_run_is_the_cached_document_and_is_audited_like_one(
    demo_db: Path, services: Services
) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    events: list[dict[str, Any]] = []
    run_workflow(services, TEMPLATE, context=ctx)  # computes
    cached = run_workflow(services, TEMPLATE, context=ctx)  # every data step a hit: kept
    replayed = run_workflow(services, TEMPLATE, context=ctx, progress=events.append)
    assert replayed.run_id != cached.run_id
    assert normalised(replayed.model_dump(mode="json")) == normalised(
        cached.model_dump(mode="json")
    )
    assert replayed.status == "completed" and replayed.metrics.cache_hits >= 1

    # Replayed, not recomputed: the graph was not walked (no checkpoint of its thread), and
    # it took less than the cached run that walked it.
    def checkpoint(run_id: str) -> Any:
        return services.run_checkpoints.get_tuple({"configurable": {"thread_id": run_id}})

    assert checkpoint(cached.run_id) is not None and checkpoint(replayed.run_id) is None
    assert replayed.metrics.duration_ms < cached.metrics.duration_ms
    # The same calls, allowed, audited under the new run.
    first, again = (
        tool_rows(services, "ana", cached.run_id),
        tool_rows(services, "ana", replayed.run_id),
    )
    assert sorted((r.tool, r.decision) for r in again) == sorted(
        (r.tool, r.decision) for r in first
    )
    assert len(again) == len([s for s in replayed.steps if s.status != "skipped"])
    # Streamed like a run: each step starts and finishes, in order, ending at 100%.
    finished = [e for e in events if e["event"] == "step_finished"]
    assert [e["step"] for e in finished] == [s.id for s in replayed.steps]
    assert events[-1]["percent"] == 100.0
    # The run store holds the replayed result under its own id.
    record = services.runs.get(replayed.run_id)
    assert record is not None and record["status"] == "completed"
    assert record["result"]["run_id"] == replayed.run_id


def test_a_grant_revoked_after_it_was_kept_fails_its_step(
    demo_db: Path, services: Services
) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    run_workflow(services, TEMPLATE, context=ctx)
    run_workflow(services, TEMPLATE, context=ctx)  # kept
    services.admin.grant(ROOT, "user:ana", "tool:cohort_analysis", "read")
    result = run_workflow(services, TEMPLATE, context=ctx)
    by_id = {s.id: s for s in result.steps}
    assert by_id["cohort_analysis"].status == "failed"
    assert "run needs execute" in (by_id["cohort_analysis"].error or "")
    assert result.status == "partial"
    denied = [r for r in tool_rows(services, "ana", result.run_id) if r.decision == "denied"]
    assert [r.tool for r in denied] == ["cohort_analysis"]


def test_new_data_is_never_answered_from_what_was_kept(
    demo_db: Path, services: Services, tmp_path: Path
) -> None:
    database = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, database)
    ctx = Context(user="ana", role="analyst", database=database)
    own = Services(services.settings)  # closed below: DuckDB lets no writer beside it
    try:
        run_workflow(own, TEMPLATE, context=ctx)
        kept = run_workflow(own, TEMPLATE, context=ctx)
    finally:
        own.close()
    with duckdb.connect(str(database)) as con:  # every other user converts now
        con.execute("UPDATE users SET converted = (user_id % 2 = 0)")
    again = Services(services.settings)
    try:
        after = run_workflow(again, TEMPLATE, context=ctx)
    finally:
        again.close()
    step = "baseline_conversion"
    assert {s.id: s for s in after.steps}[step].rows != {s.id: s for s in kept.steps}[step].rows
    assert not any(s.cached for s in after.steps)


def test_no_replay_across_scopes_or_with_the_cache_off(demo_db: Path, services: Services) -> None:
    ana = Context(user="ana", role="analyst", database=demo_db)
    run_workflow(services, TEMPLATE, context=ana)
    kept = run_workflow(services, TEMPLATE, context=ana)
    services.admin.set_scope(ROOT, "user:dana", [{"field": "country", "op": "=", "value": "DE"}])
    dana = Context(user="dana", role="analyst", database=demo_db)
    scoped = run_workflow(services, TEMPLATE, context=dana)
    assert not any(s.cached for s in scoped.steps), "a scoped run must not reuse ana's"
    assert normalised(scoped.model_dump(mode="json")["steps"]) != normalised(
        kept.model_dump(mode="json")["steps"]
    )
    off = run_workflow(
        services,
        TEMPLATE,
        context=Context(user="ana", role="analyst", database=demo_db, use_cache=False),
    )
    assert not any(s.cached for s in off.steps)


def test_a_rate_limit_without_room_for_the_replay_runs_the_usual_way(
    demo_db: Path, services: Services
) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    run_workflow(services, TEMPLATE, context=ctx)
    kept = run_workflow(services, TEMPLATE, context=ctx)
    calls = len([s for s in kept.steps if s.status == "completed"])
    limit = {"calls": calls - 1, "window_s": 3600}  # room for all the steps but one
    services.admin.grant(ROOT, "user:ana", "tool:*", "execute", rate_limit=limit)
    result = run_workflow(services, TEMPLATE, context=ctx)
    completed = [s for s in result.steps if s.status == "completed"]
    assert len(completed) == calls - 1 and result.status == "partial"
    rows = tool_rows(services, "ana", result.run_id)
    # Every allowed row stands for a step that ran; the refused one is audited once.
    assert len([r for r in rows if r.decision == "allowed"]) == len(completed)
    assert len([r for r in rows if r.decision == "denied"]) == 1


def test_a_run_whose_audit_cannot_be_written_ends_failed_and_is_not_kept(
    demo_db: Path, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    run_workflow(services, TEMPLATE, context=ctx)  # the cache filled: the next run is kept
    real = services.guard.audit.append_many

    def disk_full(entries: Any) -> Any:
        if any(e.get("action") == "tool.run" for e in entries):
            raise OSError("disk full")
        return real(entries)

    monkeypatch.setattr(services.guard.audit, "append_many", disk_full)
    with pytest.raises(OSError):
        run_workflow(services, TEMPLATE, context=ctx, run_id="audit-lost")
    record = services.runs.get("audit-lost")
    assert record is not None and record["status"] == "failed" and record["result"] is None
    monkeypatch.undo()
    after = run_workflow(services, TEMPLATE, context=ctx)
    assert services.run_checkpoints.get_tuple({"configurable": {"thread_id": after.run_id}})


def test_a_kept_run_that_cannot_be_read_is_walked_instead(
    demo_db: Path, services: Services
) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    run_workflow(services, TEMPLATE, context=ctx)
    run_workflow(services, TEMPLATE, context=ctx)  # kept
    memo = run_memo.memo_for(services, get_template(TEMPLATE), ctx)
    assert memo is not None
    kept = memo.cache.get(memo.key)
    assert isinstance(kept, run_memo._Kept)
    memo.cache.set(memo.key, run_memo._Kept({**kept.result, "status": "done?"}, kept.calls))
    result = run_workflow(services, TEMPLATE, context=ctx)
    assert result.status == "completed"


def test_other_code_never_replays_what_was_kept(
    demo_db: Path, services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    run_workflow(services, TEMPLATE, context=ctx)
    run_workflow(services, TEMPLATE, context=ctx)  # kept
    # An upgrade that keeps __version__: the code's fingerprint differs.
    monkeypatch.setattr(warehouse_module, "code_fingerprint", lambda: "another-build")
    result = run_workflow(services, TEMPLATE, context=ctx)
    assert services.run_checkpoints.get_tuple({"configurable": {"thread_id": result.run_id}})
    # The fingerprint follows the files: an edit changes it.
    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "a.py"
    module.write_text("x = 1\n")
    before = fingerprint_of(tmp_path / "pkg")
    module.write_text("x = 22\n")
    assert fingerprint_of(tmp_path / "pkg") != before


@pytest.mark.slow
def test_a_replay_never_outlives_the_query_results_it_was_built_from(
    demo_db: Path, services: Services
) -> None:
    ttl = 4.0
    own = Services(services.settings.model_copy(update={"cache_ttl_s": ttl}))
    try:
        ctx = Context(user="ana", role="analyst", database=demo_db)
        started = time.monotonic()
        run_workflow(own, TEMPLATE, context=ctx)  # results stored: gone by started + ttl
        time.sleep(max(0.0, started + ttl - 1.5 - time.monotonic()))
        run_workflow(own, TEMPLATE, context=ctx)  # every data step a hit: kept
        time.sleep(max(0.0, started + ttl + 0.5 - time.monotonic()))
        later = run_workflow(own, TEMPLATE, context=ctx)
        walked = own.run_checkpoints.get_tuple({"configurable": {"thread_id": later.run_id}})
        assert walked is not None, "replayed from query results older than the cache TTL"
        assert not any(s.cached for s in later.steps if s.type == "query")
    finally:
        own.close()
