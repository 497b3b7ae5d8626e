"""Several groupings from one statement (GROUP BY GROUPING SETS) give, grouping by grouping,
exactly the rows their own queries give, on real DuckDB: NULL and empty levels, filters and a
data scope included; a statement that cannot be regrouped, or rows cut at the cap, fall back to
one query per grouping; and the segment tests find the same either way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.query import Filter
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses import SegmentTestParams, segment_rate_tests, segments
from chatter.tools.analyses.result import Recorder

pytestmark = pytest.mark.integration

DIMS = ["users.plan_type", "users.industry", "users.company_size", "users.country"]
PAIRS = [(a, b) for i, a in enumerate(DIMS) for b in DIMS[i + 1 :]]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Users with NULL and empty levels, a planted conversion gap, and events (fan-out)."""
    path = tmp_path_factory.mktemp("grouping") / "sets.duckdb"
    rng = np.random.default_rng(7)
    n = 3000

    def pick(levels: list[str | None], p: list[float] | None = None) -> list[str | None]:
        return [levels[i] for i in rng.choice(len(levels), n, p=p)]

    plans = pick(["free", "team", "corp", None], [0.5, 0.3, 0.15, 0.05])
    industries = pick(["mining", "", "retail", "media", None])
    sizes = pick(["1-9", "10-99", "100+"])
    countries = pick(["NO", "PE", "VN"])
    converted = rng.random(n) < np.where([p == "corp" for p in plans], 0.45, 0.2)
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE users (user_id BIGINT, signup_date DATE, plan_type VARCHAR, "
        "industry VARCHAR, acquisition_channel VARCHAR, company_size VARCHAR, country VARCHAR, "
        "converted BOOLEAN, churned BOOLEAN, churn_date DATE)"
    )
    con.executemany(
        "INSERT INTO users VALUES (?, DATE '2024-03-01', ?, ?, 'web', ?, ?, ?, FALSE, NULL)",
        [
            (i, plans[i], industries[i], sizes[i], countries[i], bool(converted[i]))
            for i in range(n)
        ],
    )
    con.execute(
        "CREATE TABLE events (event_id BIGINT, user_id BIGINT, event_type VARCHAR, "
        "event_ts TIMESTAMP)"
    )
    con.execute(
        "INSERT INTO events SELECT range, range % 700, CASE WHEN range % 3 = 0 THEN 'a' "
        "ELSE 'b' END, TIMESTAMP '2024-03-02' FROM range(2000)"
    )
    con.execute("CREATE TABLE revenue (user_id BIGINT, month DATE, plan_type VARCHAR, mrr DOUBLE)")
    con.close()
    return path


def one_by_one(wh: Warehouse, query: dict[str, Any], groupings: list[tuple[str, ...]]) -> list:
    return [
        (r.columns, r.rows) for r in (wh.query({**query, "dimensions": list(g)}) for g in groupings)
    ]


@pytest.mark.parametrize(
    "filters, scope",
    [
        ([], ()),
        ([{"field": "company_size", "op": "!=", "value": "100+"}], ()),
        ([], (Filter(field="country", op="in", value=["NO", "PE"]),)),
    ],
    ids=["plain", "filtered", "scoped"],
)
@pytest.mark.parametrize("groupings", [[(d,) for d in DIMS], PAIRS], ids=["single", "pairs"])
@pytest.mark.parametrize("pre_aggregate", [False, True], ids=["over rows", "over combinations"])
def test_each_grouping_has_the_rows_of_its_own_query(
    db: Path,
    filters: list[dict[str, Any]],
    scope: tuple[Filter, ...],
    groupings: list,
    pre_aggregate: bool,
) -> None:
    query = {"measures": ["converted_users", "users"], "dimensions": DIMS, "filters": filters}
    with Warehouse(Engine(db), default_model(), scope=scope) as wh:
        found = wh.query_sets(query, groupings, pre_aggregate=pre_aggregate)
        assert found is not None
        results, sql = found
        assert "GROUPING SETS" in sql and ("__combinations" in sql) == pre_aggregate
        assert all(type(v) is int for r in results for row in r.rows for v in row[-2:])
        together = [(r.columns, r.rows) for r in results]
        assert together == one_by_one(wh, query, groupings)
        # Not vacuous: NULL and empty levels are among the rows, each grouping its own size.
        industry = groupings.index(next(g for g in groupings if "users.industry" in g))
        at = groupings[industry].index("users.industry")
        levels = {row[at] for row in together[industry][1]}
        assert None in levels and "" in levels
        assert len({len(rows) for _, rows in together}) > 1


@pytest.mark.parametrize(
    "query",
    [
        {"measures": ["users", "conversion_rate"], "dimensions": ["event_type", "plan_type"]},
        {"measures": ["revenue", "users"], "dimensions": ["industry", "users.plan_type"]},
    ],
    ids=["fan-out guard", "two measure tables"],
)
def test_a_statement_it_cannot_regroup_runs_once_per_grouping(db: Path, query: dict) -> None:
    groupings = [(d,) for d in query["dimensions"]]
    with Warehouse(Engine(db), default_model()) as wh:
        assert wh.query_sets(query, groupings) is None
        rec = Recorder(wh)
        rows = rec.query_sets(query, groupings)
        assert len(rec.sql) == 2
        assert [[tuple(r.values()) for r in g] for g in rows] == [
            rows for _, rows in one_by_one(wh, query, groupings)
        ]


@pytest.mark.parametrize("measures", [["users", "conversion_rate"], ["events", "active_users"]])
def test_only_counts_are_summed_from_the_combinations(db: Path, measures: list[str]) -> None:
    """A rate (or a distinct count) is not the sum of its combinations' values: asked to
    pre-aggregate, the statement groups the rows directly, with the same rows as apart."""
    query = {"measures": measures, "dimensions": DIMS}
    with Warehouse(Engine(db), default_model()) as wh:
        found = wh.query_sets(query, PAIRS, pre_aggregate=True)
        assert found is not None
        results, sql = found
        assert "GROUPING SETS" in sql and "__combinations" not in sql
        assert [(r.columns, r.rows) for r in results] == one_by_one(wh, query, PAIRS)


def test_rows_past_the_cap_are_asked_one_grouping_at_a_time(db: Path) -> None:
    query = {"measures": ["converted_users", "users"], "dimensions": DIMS}
    groupings = [(d,) for d in DIMS]  # 4 + 5 + 3 + 3 rows: 15 in all, none above 6
    with Warehouse(Engine(db), default_model(), row_cap=6) as wh:
        assert wh.query_sets(query, groupings) is None
        rec = Recorder(wh)
        rows = rec.query_sets(query, groupings)
        assert not rec.truncated and len(rec.sql) == 4
        assert [len(g) for g in rows] == [4, 5, 3, 3]


class OneQueryPerGrouping(Warehouse):
    """The fallback path everywhere: what the segment tests found before grouping sets."""

    def query_sets(self, query: Any, groupings: Any, **how: Any) -> None:
        return None


@pytest.mark.parametrize("scope", [(), (Filter(field="country", op="!=", value="VN"),)])
@pytest.mark.parametrize("rows_per_combination", [2, 10**9], ids=["combinations", "rows"])
def test_segment_tests_find_the_same_from_grouping_sets(
    db: Path, scope: tuple[Filter, ...], rows_per_combination: int, monkeypatch: Any
) -> None:
    # 3,000 users, 180 combinations of the four dimensions: the cross counts come from the
    # combinations unless a combination must stand for more rows than there are.
    monkeypatch.setattr(segments, "_ROWS_PER_COMBINATION", rows_per_combination)
    params = SegmentTestParams(dimensions=("plan_type", "industry", "company_size", "country"))
    with Warehouse(Engine(db), default_model(), scope=scope) as wh:
        together = segment_rate_tests(wh, params)
    with OneQueryPerGrouping(Engine(db), default_model(), scope=scope) as wh:
        apart = segment_rate_tests(wh, params)
    assert len(together.sql) == 2 and len(apart.sql) > 4
    assert ("__combinations" in together.sql[1]) == (rows_per_combination == 2)
    assert any(f.stratified for f in together.findings)  # the pairs were read
    assert json.dumps(together.rows, default=str) == json.dumps(apart.rows, default=str)
    assert [f.model_dump() for f in together.findings] == [f.model_dump() for f in apart.findings]
    assert together.notes == apart.notes
