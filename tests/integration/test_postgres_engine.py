"""The PostgreSQL engine on a real server: read-only sessions, a statement timeout the server
enforces, the row cap, interrupts, a data version that follows writes (and the result cache with
it), credentials kept out of every output and file, and bad URLs, logins, databases and tables
refused with a clear error naming the part at fault (exit code 2, HTTP 4xx)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from api_server import key_of, running_server
from cli_runner import run_cli
from postgres_fixture import as_url, server_url, with_database

from chatter.errors import (
    DatabaseError,
    DatabaseNotFoundError,
    MissingSchemaError,
    QueryExecutionError,
    QueryTimeoutError,
)
from chatter.semantic.cache import ResultCache
from chatter.semantic.engines import open_engine, parse_database
from chatter.semantic.engines.postgres import DatabaseLoginError, PostgresEngine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

pytestmark = pytest.mark.integration

PASSWORD = "Zq7-not-a-real-secret-93x"


@pytest.fixture(scope="module")
def loaded(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A URL of the module's database holding a small demo (loaded by ``chatter demo``)."""
    url = as_url(postgres_url)
    home = tmp_path_factory.mktemp("pg-home")
    ran = run_cli("demo", "--users", "500", "--seed", "3", "--out", url, home=home)
    assert ran.returncode == 0, ran.stderr
    return url


def with_password(url: str, password: str = PASSWORD) -> str:
    scheme, rest = url.split("://", 1)
    login, where = rest.split("@", 1)
    return f"{scheme}://{login}:{password}@{where}"


def admin(url: str) -> psycopg.Connection[object]:
    return psycopg.connect(url, autocommit=True)


def test_the_demo_loads_100k_users_and_refuses_to_replace_them(tmp_path: Path) -> None:
    server = server_url()
    name = f"chatter_demo_{time.time_ns()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = as_url(with_database(server, name))
        started = time.perf_counter()
        ran = run_cli("demo", "--users", "100000", "--out", url, home=tmp_path / "home")
        assert ran.returncode == 0, ran.stderr
        assert time.perf_counter() - started < 60  # COPY, not row by row
        assert f"Wrote {url}: 100,000 users" in ran.stdout
        with admin(url) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (100_000,)
            types = dict(
                conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'events'"
                ).fetchall()
            )
        assert types == {
            "event_id": "bigint",
            "user_id": "bigint",
            "event_type": "text",
            "event_ts": "timestamp without time zone",
        }
        again = run_cli("demo", "--users", "10", "--out", url, home=tmp_path / "home")
        assert again.returncode == 2 and "pass --force" in again.stderr
        assert "events, revenue, users" in again.stderr
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- the engine ------------------------------------------------------------------------------


def test_a_long_query_is_cancelled_by_the_statement_timeout(loaded: str) -> None:
    with PostgresEngine(parse_database(loaded), timeout_s=0.5) as engine:  # type: ignore[arg-type]
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match=r"0\.5 s"):
            engine.execute("SELECT pg_sleep(10)")
        assert time.perf_counter() - started < 2.5  # the server stopped it, not the client
        assert engine.execute("SELECT 1").rows == [(1,)]  # and the engine still works


def test_every_statement_is_read_only(loaded: str) -> None:
    with open_engine(loaded) as engine:
        assert engine.dialect == "chatterpostgres"  # postgres, ANY_VALUE as MIN
        for statement in (
            "CREATE TABLE intruder (a int)",
            "DELETE FROM users",
            "INSERT INTO users (user_id) VALUES (-1)",
        ):
            with pytest.raises(QueryExecutionError, match="read-only"):
                engine.execute(statement)
        with pytest.raises(QueryExecutionError):  # one statement at a time, no smuggling
            engine.execute("SET transaction_read_only = off; DELETE FROM users")
        # A setting changed in a statement's transaction dies with its rollback.
        engine.execute("SET default_transaction_read_only = off")
        with pytest.raises(QueryExecutionError, match="read-only"):
            engine.execute("CREATE TABLE intruder (a int)")
        shown = engine.execute("SHOW default_transaction_read_only").rows
        assert shown == [("on",)]
    with admin(loaded) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (500,)
        assert conn.execute("SELECT to_regclass('intruder')").fetchone() == (None,)


def test_the_row_cap_reads_no_more_than_it_keeps(loaded: str) -> None:
    with open_engine(loaded) as engine:
        capped = engine.execute("SELECT generate_series(1, 50) AS n", row_cap=10)
        assert capped.columns == ("n",) and len(capped.rows) == 10 and capped.truncated
        exact = engine.execute("SELECT generate_series(1, 10) AS n", row_cap=10)
        assert len(exact.rows) == 10 and not exact.truncated


def test_values_are_bound_as_parameters(loaded: str) -> None:
    with Warehouse(open_engine(loaded), default_model()) as wh:
        hostile = "x' OR '1'='1"
        result = wh.query(
            {"measures": ["users"], "filters": [{"field": "industry", "op": "=", "value": hostile}]}
        )
        assert result.rows == [(0,)]
        percent = wh.query(
            {
                "measures": ["users"],
                "filters": [{"field": "industry", "op": "contains", "value": "%"}],
            }
        )
        assert percent.rows == [(0,)]


def test_interrupt_stops_a_running_query(loaded: str) -> None:
    with open_engine(loaded, timeout_s=30) as engine:
        failure: list[BaseException] = []

        def run() -> None:
            try:
                engine.execute("SELECT pg_sleep(20)")
            except BaseException as err:
                failure.append(err)

        worker = threading.Thread(target=run)
        started = time.perf_counter()
        worker.start()
        while not engine.busy():
            time.sleep(0.01)
        time.sleep(0.2)
        assert engine.interrupt({worker.ident or 0}) == 1
        worker.join(10)
        assert time.perf_counter() - started < 10
        assert failure and isinstance(failure[0], QueryTimeoutError)
        assert not engine.busy()


def test_the_data_version_and_the_cache_follow_writes(loaded: str, tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    query = {"measures": ["events"]}
    with Warehouse(open_engine(loaded), default_model(), cache=cache) as wh:
        before = wh.engine.version
        first = wh.query(query)
        again = wh.query(query)
        assert not first.cached and again.cached and again.rows == first.rows
        with admin(loaded) as conn:  # a write, from a session that then ends (stats flushed)
            conn.execute("INSERT INTO events SELECT * FROM events LIMIT 7")
        deadline = time.monotonic() + 15
        while wh.engine.version == before and time.monotonic() < deadline:
            time.sleep(0.25)
        assert wh.engine.version != before
        after = wh.query(query)
        assert not after.cached and after.rows == [(first.rows[0][0] + 7,)]


# ---- credentials -----------------------------------------------------------------------------


def test_a_password_is_never_shown_logged_cached_or_stored(loaded: str, tmp_path: Path) -> None:
    secret_url = with_password(loaded)
    home = tmp_path / "home"
    ran = run_cli(
        "--log-level",
        "debug",
        "ask",
        "conversion rate by plan",
        "--database",
        secret_url,
        "--json",
        home=home,
    )
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert answer["database"] == loaded  # the URL, without its password
    assert answer["steps"][0]["rows"]
    assert PASSWORD not in ran.stdout and PASSWORD not in ran.stderr
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files, "the run store and cache wrote nothing to look in"
    for path in files:
        assert PASSWORD.encode() not in path.read_bytes(), path
    assert repr(parse_database(secret_url)) == f"DatabaseUrl({loaded!r})"


# ---- bad input -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_database() -> Iterator[str]:
    """A database with no tables at all."""
    server = server_url()
    name = f"chatter_empty_{time.time_ns()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield as_url(with_database(server, name))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _swap(url: str, *, user: str | None = None, dbname: str | None = None, port: str = "") -> str:
    scheme, rest = url.split("://", 1)
    login, where = rest.split("@", 1)
    host_port, _, name = where.partition("/")
    host = host_port.rsplit(":", 1)[0]
    port = port or host_port.rsplit(":", 1)[1]
    return f"{scheme}://{user or login}:{PASSWORD}@{host}:{port}/{dbname or name.split('?')[0]}"


def bad_cases(loaded: str, empty: str) -> dict[str, tuple[str, str, type[Exception]]]:
    """Case -> (URL, words the message must hold, the error)."""
    return {
        "wrong scheme": (
            f"mysql://chatter:{PASSWORD}@127.0.0.1/x",
            "scheme 'mysql' is not supported",
            DatabaseError,
        ),
        "bad port": (
            f"postgresql://chatter:{PASSWORD}@127.0.0.1:port/x",
            "malformed",
            DatabaseError,
        ),
        "refused login": (
            _swap(loaded, user="nobody_here"),
            "refused the login of user 'nobody_here'",
            DatabaseLoginError,
        ),
        "missing database": (
            _swap(loaded, dbname="no_such_db_here"),
            "Database 'no_such_db_here' does not exist",
            DatabaseNotFoundError,
        ),
        "no server": (_swap(loaded, port="1"), "Cannot connect", DatabaseError),
        "missing table": (
            with_password(empty),
            "table 'users' is missing",
            MissingSchemaError,
        ),
    }


CASES = ["wrong scheme", "bad port", "refused login", "missing database", "no server"]


@pytest.mark.parametrize("case", [*CASES, "missing table"])
def test_bad_input_on_the_cli_exits_2_naming_the_part(
    case: str, loaded: str, empty_database: str, tmp_path: Path
) -> None:
    url, words, _ = bad_cases(loaded, empty_database)[case]
    ran = run_cli(
        "query", "-m", "users", "-d", "plan_type", "--database", url, home=tmp_path / "home"
    )
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    assert words in ran.stderr
    assert "Traceback" not in ran.stderr
    assert PASSWORD not in ran.stdout + ran.stderr


@pytest.mark.parametrize("case", CASES)
def test_bad_input_to_the_engine_is_a_named_error(
    case: str, loaded: str, empty_database: str
) -> None:
    url, words, error = bad_cases(loaded, empty_database)[case]
    with pytest.raises(error, match=words) as caught:
        open_engine(url).close()
    assert PASSWORD not in str(caught.value)
    assert caught.value.exit_code == 2  # type: ignore[attr-defined]


def test_bad_database_over_http_is_a_4xx(loaded: str, tmp_path: Path) -> None:
    url = _swap(loaded, dbname="no_such_db_here")
    with running_server(tmp_path / "home", url) as server:  # type: ignore[arg-type]
        with server.client(key_of("alice")) as http:
            reply = http.post("/api/v1/chat/query", json={"message": "conversion rate by plan"})
        logs = "".join(server.stderr)
    body = reply.json()
    assert 400 <= reply.status_code < 500, body
    message = json.dumps(body)
    assert "no_such_db_here" in message and PASSWORD not in message
    assert PASSWORD not in logs


def test_the_sql_an_answer_shows_is_the_sql_that_ran(loaded: str, tmp_path: Path) -> None:
    """Every step's SQL, as the answer shows it, runs on the server as it is: no function the
    server lacks (ANY_VALUE is PostgreSQL 16+), the same rows as the step."""
    ran = run_cli("run", "feature_usage_deep_dive", "--json", "--database", loaded, home=tmp_path)
    assert ran.returncode == 0, ran.stderr
    steps = [s for s in json.loads(ran.stdout)["steps"] if s["sql"]]
    assert any("MIN(" in s["sql"] and "ANY_VALUE" not in s["sql"] for s in steps)
    with admin(loaded) as con:
        for step in steps:
            for statement in step["sql"].split(";\n"):  # a step may show several statements
                con.execute(statement)  # type: ignore[arg-type]
