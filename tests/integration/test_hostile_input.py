"""Hostile strings in every field of a query: a clear bad-input error or a correct (usually
empty) answer, never another exception, and the database unchanged. Injection is impossible by
construction: names must match the model, values are parameters."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatter.errors import BadInputError
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

pytestmark = pytest.mark.integration

ATTACKS = [
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "users; DELETE FROM users",
    "1) OR (1=1",
    "$p1",
    "?",
    "%s",
    "{0}",
    "\\x00",
    "\x00",
    "' UNION SELECT * FROM events --",
    "COPY users TO '/tmp/x.csv'",
    "ATTACH '/tmp/evil.duckdb'",
    'plan_type"; --',
    "`plan_type`",
    "users.plan_type; --",
    "conversion_rate)--",
    "read_csv('/etc/passwd')",
    "\u1e9e\u034f\u202e",  # sharp S, combining grapheme joiner, right-to-left override
    "\U0001d566\U0001d564\U0001d556\U0001d563\U0001d564",  # users in double-struck letters
    "a" * 5000,
    "",
    " ",
    "\n",
    "NULL",
    "true",
    "-1",
    "1e309",
    "2024-13-45",
    "../../etc/passwd",
]
hostile = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(max_size=60),
    st.text(alphabet="'\";-\\/*()$?%{}` \x00", max_size=30),
)
values = st.one_of(
    hostile,
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(hostile, max_size=3),
    st.dictionaries(hostile, hostile, max_size=2),
)
real_names = st.sampled_from(
    [
        "users",
        "conversion_rate",
        "plan_type",
        "industry",
        "signup_date",
        "event_type",
        "mrr",
        "month",
        "churn_rate",
        "converted",
    ]
)
name = st.one_of(real_names, hostile)
operator = st.one_of(
    st.sampled_from(["=", "!=", "in", "not_in", "between", "contains", ">=", "is_null"]), hostile
)


def fingerprint(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        parts = [
            str(con.execute(f"SELECT count(*), sum(hash(t::VARCHAR)) FROM {t} AS t").fetchall())
            for t in ("users", "events", "revenue")
        ]
        parts.append(
            str(
                con.execute(
                    "SELECT table_name FROM information_schema.tables ORDER BY 1"
                ).fetchall()
            )
        )
    finally:
        con.close()
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, Path, str]]:
    path = tmp_path_factory.mktemp("hostile") / "db.duckdb"
    make_tiny(path)
    before = fingerprint(path)
    wh = Warehouse(Engine(path, timeout_s=10), default_model())
    yield wh, path, before
    wh.close()
    assert fingerprint(path) == before


def make_tiny(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE users (user_id BIGINT, signup_date DATE, plan_type VARCHAR, "
        "industry VARCHAR, acquisition_channel VARCHAR, company_size VARCHAR, country VARCHAR, "
        "converted BOOLEAN, churned BOOLEAN, churn_date DATE)"
    )
    con.execute(
        "INSERT INTO users VALUES (1, DATE '2024-01-01', 'basic', 'x', 'web', 'S', 'AA', "
        "TRUE, FALSE, NULL), (2, DATE '2024-02-01', 'pro', 'y', 'ads', 'M', 'BB', FALSE, "
        "FALSE, NULL)"
    )
    con.execute(
        "CREATE TABLE events (event_id BIGINT, user_id BIGINT, event_type VARCHAR, "
        "event_ts TIMESTAMP)"
    )
    con.execute("INSERT INTO events VALUES (1, 1, 'search', TIMESTAMP '2024-01-02 00:00:00')")
    con.execute("CREATE TABLE revenue (user_id BIGINT, month DATE, plan_type VARCHAR, mrr DOUBLE)")
    con.execute("INSERT INTO revenue VALUES (1, DATE '2024-02-01', 'basic', 10)")
    con.close()


def attempt(wh: Warehouse, query: Any) -> None:
    try:
        result = wh.query(query)
    except BadInputError as err:
        assert err.message and len(err.message) < 5000
        return
    assert isinstance(result.rows, list)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    measures=st.lists(name, max_size=3),
    dimensions=st.lists(name, max_size=2),
    field=name,
    op=operator,
    value=values,
    order=name,
    grain=st.one_of(st.none(), hostile),
)
def test_hostile_queries_fail_cleanly(
    target: tuple[Warehouse, Path, str],
    measures: list[str],
    dimensions: list[str],
    field: str,
    op: str,
    value: Any,
    order: str,
    grain: str | None,
) -> None:
    wh, _, _ = target
    attempt(
        wh,
        {
            "measures": measures,
            "dimensions": dimensions,
            "filters": [{"field": field, "op": op, "value": value}],
        },
    )
    attempt(
        wh, {"measures": measures or ["users"], "order_by": [{"field": order}], "time_grain": grain}
    )


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=hostile)
def test_hostile_values_are_data_not_sql(target: tuple[Warehouse, Path, str], value: str) -> None:
    wh, _, _ = target
    for op in ("=", "!=", "in", "contains"):
        try:
            result = wh.query(
                {
                    "measures": ["users"],
                    "filters": [{"field": "plan_type", "op": op, "value": value}],
                }
            )
        except BadInputError:
            continue
        count = result.rows[0][0]
        # Only a value that really is a plan matches; "not" filters keep everything else.
        assert count in (0, 1, 2)


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        42,
        "users",
        ["users"],
        {"measures": [None]},
        {"measures": [["x"]]},
        {"filters": "x"},
        {"filters": [1]},
        {"order_by": ["x"]},
        {"limit": 10**12},
        {"measures": ["users"] * 60},
    ],
)
def test_malformed_query_shapes(target: tuple[Warehouse, Path, str], garbage: Any) -> None:
    wh, _, _ = target
    with pytest.raises(BadInputError):
        wh.query(garbage)


def test_the_database_is_unchanged(target: tuple[Warehouse, Path, str]) -> None:
    _, path, before = target
    copy = path.with_name("copy.duckdb")
    shutil.copy(path, copy)
    assert fingerprint(copy) == before
