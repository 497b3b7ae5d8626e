"""Compiled SQL: golden snapshots, and correct numbers on real DuckDB (fan-out included).

Set UPDATE_GOLDEN=1 to rewrite the snapshots after an intended change, then review the diff.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from chatter.semantic.compiler import compile_query
from chatter.semantic.engine import Engine, connection_config
from chatter.semantic.model import default_model
from chatter.semantic.query import SemanticQuery, resolve
from chatter.semantic.warehouse import Warehouse

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent.parent / "golden"

QUERIES: dict[str, dict[str, Any]] = {
    "conversion_by_plan": {"measures": ["conversion_rate"], "dimensions": ["plan_type"]},
    "conversion_filtered_ordered": {
        "measures": ["conversion_rate", "users"],
        "dimensions": ["industry"],
        "filters": [
            {"field": "signup_date", "op": ">=", "value": "2024-01-01"},
            {"field": "acquisition_channel", "op": "not_in", "value": ["social"]},
        ],
        "order_by": [{"field": "conversion_rate", "descending": True}],
        "limit": 5,
    },
    "events_by_plan_many_to_one": {"measures": ["events"], "dimensions": ["plan_type"]},
    "users_by_event_type_fan_out": {
        "measures": ["users", "conversion_rate"],
        "dimensions": ["event_type"],
    },
    "mrr_arpu_by_quarter": {
        "measures": ["mrr", "arpu"],
        "dimensions": ["month"],
        "time_grain": "quarter",
    },
    "revenue_and_users_by_industry_two_tables": {
        "measures": ["revenue", "users"],
        "dimensions": ["industry"],
    },
    "mrr_by_plan_last_month": {"measures": ["mrr", "subscribers"], "dimensions": ["plan_type"]},
    "revenue_by_quarter_adds_up": {
        "measures": ["revenue"],
        "dimensions": ["month"],
        "time_grain": "quarter",
    },
    "churn_by_signup_week_between": {
        "measures": ["churn_rate"],
        "dimensions": ["signup_date__week"],
        "filters": [
            {"field": "signup_date", "op": "between", "value": ["2024-01-01", "2024-03-31"]}
        ],
    },
    "users_with_an_event_filter": {
        "measures": ["users"],
        "filters": [{"field": "event_type", "op": "=", "value": "search"}],
    },
    "plan_levels_only": {"dimensions": ["plan_type"]},
    "events_per_user_by_day_contains": {
        "measures": ["events_per_user"],
        "dimensions": ["event_ts__day"],
        "filters": [
            {"field": "event_type", "op": "contains", "value": "EXP"},
            {"field": "churn_date", "op": "is_null"},
        ],
    },
}


def compiled(name: str, cap: int | None = 10_000):
    model = default_model()
    return compile_query(resolve(SemanticQuery.parse(QUERIES[name]), model), model, row_cap=cap)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_golden_sql(name: str) -> None:
    sql = compiled(name).literal_sql
    pretty = sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True)[0] + "\n"
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(pretty)
    assert pretty == path.read_text(), f"SQL for {name} changed; UPDATE_GOLDEN=1 if intended"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_parameterized_and_literal_sql_agree(name: str, demo_db: Path) -> None:
    c = compiled(name)
    con = duckdb.connect(str(demo_db), read_only=True, config=connection_config())
    try:
        with_params = con.execute(c.sql, c.params).fetchall()
        with_literals = con.execute(c.literal_sql).fetchall()
    finally:
        con.close()
    assert len(with_params) == len(with_literals) > 0
    for a, b in zip(with_params, with_literals, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x == y or (isinstance(x, float) and math.isclose(x, y, rel_tol=1e-9))


def rows(db: Path, query: dict[str, Any]) -> list[tuple[Any, ...]]:
    with Warehouse(Engine(db), default_model()) as wh:
        return wh.query(query).rows


# ---- numbers known by heart on the tiny database (see conftest.tiny_db) ----------------------


def test_ratio_measures(tiny_db: Path) -> None:
    assert rows(tiny_db, {"measures": ["conversion_rate", "churn_rate", "users"]}) == [
        (0.5, 0.5, 4)
    ]


def test_many_to_one_join_keeps_counts(tiny_db: Path) -> None:
    assert rows(tiny_db, {"measures": ["events"], "dimensions": ["plan_type"]}) == [
        ("basic", 3),
        ("pro", 4),
    ]
    assert rows(tiny_db, {"measures": ["events"], "dimensions": ["industry"]}) == [
        ("alpha", 6),
        (None, 1),
    ]


def test_one_to_many_dimension_counts_each_user_once_per_group(tiny_db: Path) -> None:
    # A naive join would count user 1 twice and user 3 three times under "search".
    assert rows(
        tiny_db, {"measures": ["users", "conversion_rate"], "dimensions": ["event_type"]}
    ) == [("export", 2, 0.5), ("search", 2, 1.0), (None, 1, 0.0)]


def test_one_to_many_filter_counts_each_row_once(tiny_db: Path) -> None:
    assert rows(
        tiny_db,
        {"measures": ["users"], "filters": [{"field": "event_type", "op": "=", "value": "search"}]},
    ) == [(2,)]
    # revenue -> users -> events fans out twice; revenue must still be 10 + 50 + 50 + 50.
    search, export = (
        [{"field": "event_type", "op": "=", "value": feature}] for feature in ("search", "export")
    )
    assert rows(tiny_db, {"measures": ["revenue"], "filters": search}) == [(160.0,)]
    assert rows(tiny_db, {"measures": ["revenue"], "filters": export}) == [(60.0,)]
    # MRR does not add up over months: the last month's (April: user 3's 50), fanned out or not.
    assert rows(tiny_db, {"measures": ["mrr"], "filters": search}) == [(50.0,)]


def test_measures_of_two_tables_are_aggregated_apart(tiny_db: Path) -> None:
    assert rows(tiny_db, {"measures": ["revenue", "users"], "dimensions": ["industry"]}) == [
        ("alpha", 160.0, 2),
        ("beta", None, 1),
        (None, None, 1),
    ]
    assert rows(tiny_db, {"measures": ["events_per_user", "users"]}) == [(7 / 3, 4)]


def test_same_name_dimension_follows_the_measure_table(tiny_db: Path) -> None:
    # revenue.plan_type is the plan billed that month; users.plan_type the plan at signup.
    assert rows(tiny_db, {"measures": ["revenue"], "dimensions": ["plan_type"]}) == [
        ("basic", 10.0),
        ("pro", 150.0),
    ]
    assert rows(tiny_db, {"measures": ["revenue"], "dimensions": ["users.plan_type"]}) == [
        ("basic", 60.0),
        ("pro", 100.0),
    ]


def test_time_grains(tiny_db: Path) -> None:
    import datetime as dt

    assert rows(
        tiny_db, {"measures": ["mrr", "paying_users", "arpu"], "dimensions": ["month"]}
    ) == [
        (dt.date(2024, 2, 1), 10.0, 1, 10.0),
        (dt.date(2024, 3, 1), 100.0, 2, 50.0),
        (dt.date(2024, 4, 1), 50.0, 1, 50.0),
    ]
    assert rows(
        tiny_db, {"measures": ["users"], "dimensions": ["signup_date"], "time_grain": "month"}
    ) == [(dt.date(2024, 1, 1), 2), (dt.date(2024, 2, 1), 2)]
    assert rows(tiny_db, {"measures": ["events"], "dimensions": ["event_ts__year"]}) == [
        (dt.date(2024, 1, 1), 7)
    ]


def test_not_equal_keeps_unknown_values(tiny_db: Path) -> None:
    assert rows(
        tiny_db,
        {"measures": ["users"], "filters": [{"field": "industry", "op": "!=", "value": "alpha"}]},
    ) == [(2,)]
    assert rows(
        tiny_db,
        {
            "measures": ["users"],
            "filters": [{"field": "industry", "op": "not_in", "value": ["beta"]}],
        },
    ) == [(3,)]
    assert rows(
        tiny_db, {"measures": ["users"], "filters": [{"field": "industry", "op": "is_null"}]}
    ) == [(1,)]


# ---- the semantic layer matches SQL written by hand on the demo data -------------------------

HAND_WRITTEN = {
    "conversion_by_plan": "SELECT plan_type, avg(converted::INT) FROM users GROUP BY 1 ORDER BY 1",
    "events_by_plan_many_to_one": "SELECT u.plan_type, count(*) FROM events e JOIN users u "
    "USING (user_id) GROUP BY 1 ORDER BY 1",
    "users_by_event_type_fan_out": "SELECT e.event_type, count(DISTINCT u.user_id), "
    "count(DISTINCT u.user_id) FILTER (WHERE u.converted) / count(DISTINCT u.user_id) "
    "FROM users u LEFT JOIN events e USING (user_id) GROUP BY 1 ORDER BY 1 NULLS LAST",
    "revenue_and_users_by_industry_two_tables": "SELECT u.industry, (SELECT sum(mrr) FROM revenue r JOIN users v USING (user_id) "
    "WHERE v.industry IS NOT DISTINCT FROM u.industry), count(*) FROM users u GROUP BY 1 "
    "ORDER BY 1 NULLS LAST",
    "users_with_an_event_filter": "SELECT count(DISTINCT user_id) FROM events "
    "WHERE event_type = 'search'",
    # MRR and subscribers by the plan billed: the last month's, not the sum over months.
    "mrr_by_plan_last_month": "SELECT plan_type, sum(mrr), count(DISTINCT user_id) FROM revenue "
    "WHERE month = (SELECT max(month) FROM revenue) GROUP BY 1 ORDER BY 1",
    # By quarter: each quarter's last month; ARPU is that month's MRR per subscriber then.
    "mrr_arpu_by_quarter": "WITH m AS (SELECT month, sum(mrr) AS mrr, count(DISTINCT user_id) "
    "AS n FROM revenue GROUP BY 1), q AS (SELECT date_trunc('quarter', month)::DATE AS q, "
    "max(month) AS last FROM m GROUP BY 1) SELECT q.q, m.mrr, m.mrr / m.n FROM q JOIN m "
    "ON m.month = q.last ORDER BY 1",
    "revenue_by_quarter_adds_up": "SELECT date_trunc('quarter', month)::DATE, sum(mrr) "
    "FROM revenue GROUP BY 1 ORDER BY 1",
}


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_semantic_results_equal_hand_written_sql(name: str, demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True, config=connection_config())
    try:
        expected = con.execute(HAND_WRITTEN[name]).fetchall()
    finally:
        con.close()
    got = rows(demo_db, QUERIES[name])
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x == y or math.isclose(x, y, rel_tol=1e-9), (name, a, b)
