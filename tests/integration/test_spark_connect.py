"""The Spark engine through Spark Connect (``sc://host:port``): a real Spark Connect server
started for the module (pyspark's own, in local mode, on loopback), the demo's Parquet files
registered as views of the engine's session, the same rows as DuckDB, and the same safety: a
time limit that interrupts the statement's operations (by tag), only queries run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import run_cli
from engine_parity import QUERIES, SEED, USERS, same
from spark_fixture import connect_server, require_spark_connect

import chatter
from chatter.errors import QueryExecutionError, QueryTimeoutError
from chatter.semantic.engines import open_engine
from chatter.services import Services

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_spark_connect()
    with connect_server(tmp_path_factory.mktemp("spark-connect") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def databases(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("connect-home")
    duck = str(tmp_path_factory.mktemp("connect-duck") / "demo.duckdb")
    parquet = tmp_path_factory.mktemp("connect-parquet")
    for out in ([duck], [str(parquet), "--format", "parquet"]):
        ran = run_cli("demo", "--users", str(USERS), "--seed", str(SEED), "--out", *out, home=home)
        assert ran.returncode == 0, ran.stderr
    return {"duckdb": duck, "connect": f"{server}/;data={parquet}"}


@pytest.mark.parametrize("query", QUERIES[:6], ids=lambda q: "_".join(q).replace(" ", ""))
def test_single_queries_give_the_duckdb_rows(
    query: list[str], databases: dict[str, str], tmp_path: Path
) -> None:
    rows = {}
    for engine, db in databases.items():
        ran = run_cli("query", *query, "--database", db, "--json", home=tmp_path / engine)
        assert ran.returncode == 0, ran.stderr
        rows[engine] = json.loads(ran.stdout)["steps"][0]["rows"]
    assert rows["duckdb"]
    same(rows["duckdb"], rows["connect"], " ".join(query))


def test_a_template_gives_the_duckdb_findings(
    databases: dict[str, str], services: Services
) -> None:
    runs = {
        engine: chatter.run_workflow("revenue_optimization", database=db, services=services)
        for engine, db in databases.items()
    }
    duck, connect = (runs[k].model_dump(mode="json") for k in ("duckdb", "connect"))
    assert connect["status"] == "completed" and connect["findings"]
    same(duck["findings"], connect["findings"], "findings")
    assert [i["text"] for i in duck["insights"]] == [i["text"] for i in connect["insights"]]


def test_the_time_limit_interrupts_the_operation(databases: dict[str, str]) -> None:
    with open_engine(databases["connect"], timeout_s=2.0) as engine:
        engine.execute("SELECT 1 AS warm")
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match="2 s"):
            engine.execute("SELECT sum(id * id % 7) AS s FROM range(0, 10000000000)")
        assert time.perf_counter() - started < 15
        assert engine.execute("SELECT count(*) AS n FROM users").rows == [(USERS,)]
        with pytest.raises(QueryExecutionError, match="Refused"):
            engine.execute("DROP VIEW users")


def test_the_identity_names_the_server_and_the_data(databases: dict[str, str]) -> None:
    with open_engine(databases["connect"]) as engine:
        assert engine.identity.startswith("sc://127.0.0.1:") and "?data=/" in engine.identity
        assert engine.version.startswith("parquet:")
