"""The on-disk result cache: keys, invalidation, TTL, size cap, counters, bypass."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import pytest

from chatter.semantic.cache import ResultCache, result_key
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.query import Filter
from chatter.semantic.warehouse import Warehouse

pytestmark = pytest.mark.integration


def warehouse(db: Path, cache_dir: Path, **kwargs: object) -> Warehouse:
    scope = kwargs.pop("scope", ())
    return Warehouse(
        Engine(db),
        default_model(),
        cache=ResultCache(cache_dir, **kwargs),  # type: ignore[arg-type]
        scope=scope,
    )  # type: ignore[arg-type]


def by_industry(value: str) -> dict[str, object]:
    return {"measures": ["users"], "filters": [{"field": "industry", "op": "=", "value": value}]}


def test_repeat_hits_and_different_literals_never_share(tiny_db: Path, tmp_path: Path) -> None:
    with warehouse(tiny_db, tmp_path / "c") as wh:
        first = wh.query(by_industry("alpha"))
        again = wh.query(by_industry("alpha"))
        other = wh.query(by_industry("beta"))
        assert (first.cached, again.cached, other.cached) == (False, True, False)
        assert first.rows == again.rows == [(2,)] and other.rows == [(1,)]
        assert wh.cache is not None
        assert wh.cache.stats.hits == 1 and wh.cache.stats.misses == 2


def test_literals_that_print_alike_get_different_keys() -> None:
    common = {"database": "db", "version": "1", "scope": [], "limit": None}
    keys = {
        result_key(sql="SELECT 1 WHERE x = $p1", params={"p1": 1}, **common),
        result_key(sql="SELECT 1 WHERE x = $p1", params={"p1": "1"}, **common),
        result_key(sql="SELECT 1 WHERE x = $p1", params={"p1": 1.0}, **common),
        result_key(sql="SELECT 1 WHERE x = $p1", params={"p1": True}, **common),
        result_key(sql="SELECT 1 WHERE x = 1", params={}, **common),
        result_key(sql="SELECT 1 WHERE x = 1", params={}, **{**common, "limit": 5}),
        result_key(sql="SELECT 1 WHERE x = 1", params={}, **{**common, "scope": [{"c": "DE"}]}),
        result_key(sql="SELECT 1 WHERE x = 1", params={}, **{**common, "version": "2"}),
        result_key(sql="SELECT 1 WHERE x = 1", params={}, **{**common, "database": "other"}),
    }
    assert len(keys) == 9


def test_changing_the_data_invalidates(tiny_db: Path, tmp_path: Path) -> None:
    query = {"measures": ["users"]}
    with warehouse(tiny_db, tmp_path / "c") as wh:
        assert wh.query(query).rows == [(4,)]
        assert wh.query(query).cached
    con = duckdb.connect(str(tiny_db))
    con.execute("INSERT INTO users (user_id, converted, churned) VALUES (5, FALSE, FALSE)")
    con.close()
    with warehouse(tiny_db, tmp_path / "c") as wh:
        fresh = wh.query(query)
        assert not fresh.cached and fresh.rows == [(5,)]


def test_a_copy_of_the_database_is_another_identity(tiny_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(tiny_db, copy)
    with warehouse(tiny_db, tmp_path / "c") as wh:
        wh.query({"measures": ["users"]})
    with warehouse(copy, tmp_path / "c") as wh:
        assert not wh.query({"measures": ["users"]}).cached


def test_entries_expire(tiny_db: Path, tmp_path: Path) -> None:
    with warehouse(tiny_db, tmp_path / "c", ttl_s=0.2) as wh:
        wh.query({"measures": ["users"]})
        assert wh.query({"measures": ["users"]}).cached
        time.sleep(0.4)
        assert not wh.query({"measures": ["users"]}).cached


def test_oversized_results_are_not_stored(tiny_db: Path, tmp_path: Path) -> None:
    with warehouse(tiny_db, tmp_path / "c", entry_max_bytes=1024) as wh:
        big = {
            "measures": ["events"],
            "dimensions": ["event_ts__day", "event_type", "plan_type", "industry", "country"],
        }
        wh.query(big)
        assert not wh.query(big).cached
        assert wh.cache is not None and wh.cache.stats.oversize == 2
        wh.query({"measures": ["users"]})
        assert wh.query({"measures": ["users"]}).cached


def test_scopes_never_share_an_entry(tiny_db: Path, tmp_path: Path) -> None:
    query = {"measures": ["users"]}
    with warehouse(tiny_db, tmp_path / "c") as wh:
        assert wh.query(query).rows == [(4,)]
    scope = (Filter(field="country", op="=", value="AA"),)
    with warehouse(tiny_db, tmp_path / "c", scope=scope) as wh:
        scoped = wh.query(query)
        assert not scoped.cached and scoped.rows == [(2,)]


def test_without_a_cache_nothing_is_read_or_written(tiny_db: Path, tmp_path: Path) -> None:
    with Warehouse(Engine(tiny_db), default_model(), cache=None) as wh:
        assert not wh.query({"measures": ["users"]}).cached
        assert not wh.query({"measures": ["users"]}).cached


def test_schema_cache_follows_the_data_version(tiny_db: Path, tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c")
    with Warehouse(Engine(tiny_db), default_model(), cache=cache) as wh:
        wh.query({"measures": ["users"]})
        version = wh.engine.version
    cache = ResultCache(tmp_path / "c")
    assert cache.get_schema(str(tiny_db.resolve()), version) is not None
    con = duckdb.connect(str(tiny_db))
    con.execute("ALTER TABLE users ADD COLUMN plan_note VARCHAR")
    con.close()
    with Warehouse(Engine(tiny_db), default_model(), cache=cache) as wh:
        assert "plan_note" in wh.schema()["users"]
