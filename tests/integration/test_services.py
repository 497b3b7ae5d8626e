"""One services object per data directory: a second data directory in the same process gets
its own stores, checkpoints and caches (the checkpointer regression), the warehouse pool is
bounded, and the API takes its services as a dependency that a test may override."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import chatter
from chatter.api.app import create_app
from chatter.api.deps import get_services
from chatter.api.keys import KeyRing, Principal
from chatter.context import Context
from chatter.semantic.model import default_model
from chatter.semantic.pool import PoolLimits, WarehousePool
from chatter.semantic.query import Filter
from chatter.services import Services, shared_services
from chatter.settings import Settings, get_settings

pytestmark = pytest.mark.integration

ONLY_BASELINE = {
    "steps": {
        step: {"enabled": False}
        for step in ("industry_breakdown", "cohort_analysis", "statistical_validation")
    }
}


def checkpoint_threads(home: Path) -> set[str]:
    path = home / "checkpoints.sqlite"
    if not path.exists():
        return set()
    with sqlite3.connect(path) as con:
        return {row[0] for row in con.execute("SELECT DISTINCT thread_id FROM checkpoints")}


def test_a_second_data_directory_gets_its_own_checkpoints(
    tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: the graph cache once ignored the checkpointer, so after CHATTER_HOME changed
    a durable run went on checkpointing into the first home's database."""
    first_home, second_home = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("CHATTER_HOME", str(first_home))
    get_settings.cache_clear()
    first = chatter.run_workflow("conversion_deep_dive", ONLY_BASELINE, database=demo_db)
    monkeypatch.setenv("CHATTER_HOME", str(second_home))
    get_settings.cache_clear()
    second = chatter.run_workflow("conversion_deep_dive", ONLY_BASELINE, database=demo_db)
    assert first.status == second.status == "completed"
    assert checkpoint_threads(first_home) == {first.run_id}
    assert checkpoint_threads(second_home) == {second.run_id}
    # Everything else of the run is the second home's too: its run record and its audit rows.
    assert shared_services().runs.get(second.run_id) is not None
    assert shared_services().runs.get(first.run_id) is None
    assert {r.run_id for r in shared_services().guard.audit.query(action="tool.run")} == {
        second.run_id
    }


def test_the_warehouse_pool_is_bounded(tiny_db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    other.write_bytes(tiny_db.read_bytes())
    pool = WarehousePool(PoolLimits(cache_dir=None), size=4, max_engines=1)
    model = default_model()
    users = {"measures": ["users"]}
    try:
        scoped = [
            pool.get(tiny_db, model, scope=(Filter(field="country", op="=", value=f"C{i}"),))
            for i in range(20)
        ]
        assert pool.stats() == {"warehouses": 4, "engines": 1}  # one connection, any scope
        assert len({id(w.engine) for w in scoped}) == 1
        assert pool.get(tiny_db, model, scope=scoped[-1].scope) is scoped[-1]
        for scope in ("X", "Y", "Z", "W"):
            pool.get(other, model, scope=(Filter(field="country", op="=", value=scope),))
        # The pooled warehouses all read the other file now, but the first file's warehouses
        # are still held (a step between two queries): their engine stays open and answers.
        assert pool.stats() == {"warehouses": 4, "engines": 2}
        assert scoped[0].query(users).rows == [(0,)]
        del scoped  # released: the next lookup closes the first engine
        pool.get(other, model)
        assert pool.stats() == {"warehouses": 4, "engines": 1}
    finally:
        pool.close()


def test_services_scope_warehouses_by_the_callers_governed_scope(
    demo_db: Path, services: Services
) -> None:
    root = Context(user="root", role="admin")
    for i in range(40):
        services.admin.set_scope(
            root, f"user:u{i}", [{"field": "country", "op": "=", "value": "DE"}]
        )
    warehouses = [services.warehouse(Context(user=f"u{i}", database=demo_db)) for i in range(40)]
    assert all(w.scope for w in warehouses)
    stats = services.warehouses.stats()
    assert stats["engines"] == 1 and stats["warehouses"] <= services.settings.warehouse_pool_size


def test_the_api_takes_its_services_as_a_dependency(
    tmp_path: Path, demo_db: Path, chatter_home: Path
) -> None:
    keys = KeyRing({"k" * 24: Principal("ana", "analyst")})
    app = create_app(Settings(), keys)
    elsewhere = Services(Settings(home=tmp_path / "elsewhere", database=demo_db))
    app.dependency_overrides[get_services] = lambda: elsewhere
    try:
        with TestClient(app) as client:
            created = client.post(
                "/api/v1/workflows",
                json={"template": "conversion_deep_dive", "customizations": ONLY_BASELINE},
                headers={"Authorization": "Bearer " + "k" * 24},
            )
            asked = client.post(
                "/api/v1/chat/query",
                json={"message": "conversion rate by plan"},
                headers={"Authorization": "Bearer " + "k" * 24},
            )
            own_sessions = app.state.services.sessions.for_user("ana")
        assert created.status_code == 201, created.text
        assert elsewhere.runs.get(created.json()["run_id"]) is not None
        assert asked.status_code == 200, asked.text
        assert elsewhere.sessions.for_user("ana")[0]["session_id"] == asked.json()["session_id"]
        # The app's own data directory got nothing (its startup only expired idle sessions
        # and looked for runs left behind).
        assert not (chatter_home / "chat.sqlite").exists()
        assert own_sessions == []
        own = Services(Settings(home=chatter_home))
        try:
            assert own.runs.list() == []
        finally:
            own.close()
    finally:
        elsewhere.close()


def test_stopping_the_api_lets_steps_finish_and_the_next_start_resume_the_runs(
    tmp_path: Path, demo_db: Path
) -> None:
    """Its services close only after the background runs that write to them have stopped:
    the steps going on finish, the rest is left ``interrupted``, and the next start of the app
    finishes every run."""
    settings = Settings(home=tmp_path / "home", database=demo_db, api_workers=1)
    keys = KeyRing({"k" * 24: Principal("ana", "analyst")})
    headers = {"Authorization": "Bearer " + "k" * 24}
    runs = []
    with TestClient(create_app(settings, keys)) as client:
        for _ in range(3):
            # Whole runs (about a second each): the later ones are still queued at shutdown.
            made = client.post(
                "/api/v1/workflows", json={"template": "conversion_deep_dive"}, headers=headers
            ).json()
            client.post(f"/api/v1/workflows/{made['run_id']}/execute", headers=headers)
            runs.append(made["run_id"])
    after = Services(settings)
    try:
        statuses = [after.runs.get(run_id)["status"] for run_id in runs]  # type: ignore[index]
        owners = {after.runs.get(run_id)["owner"] for run_id in runs}  # type: ignore[index]
    finally:
        after.close()
    assert "interrupted" in statuses and set(statuses) <= {"completed", "interrupted"}
    assert owners == {None}  # let go of: any server may resume them
    with TestClient(create_app(settings, keys)) as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = [client.get(f"/api/v1/workflows/{r}", headers=headers).json() for r in runs]
            if all(d["status"] == "completed" for d in now):
                break
            time.sleep(0.2)
    assert [d["status"] for d in now] == ["completed"] * 3
