"""Several groupings from one statement (GROUP BY GROUPING SETS) give, grouping by grouping,
exactly the rows their own queries give, on real DuckDB: NULL and empty levels, filters and a
data scope included; a statement that cannot be regrouped, or rows cut at the cap, fall back to
one query per grouping; and the segment tests find the same either way."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import yaml

from chatter.semantic.engine import Engine
from chatter.semantic.model import SemanticModel, default_model
from chatter.semantic.query import Filter
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses import SegmentTestParams, segment_rate_tests, segments
from chatter.tools.analyses.result import Recorder

pytestmark = pytest.mark.integration

DIMS = ["users.plan_type", "users.industry", "users.company_size", "users.country"]
PAIRS = [(a, b) for i, a in enumerate(DIMS) for b in DIMS[i + 1 :]]


def make_db(path: Path, repeated_users: int = 0) -> Path:
    """Users with NULL and empty levels, a planted conversion gap, events (fan-out), and
    revenue whose accounts leave and change plan over the months; ``repeated_users`` of the
    users appear twice (a primary key the data breaks)."""
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
    con.execute(
        "INSERT INTO revenue SELECT u, DATE '2024-01-01' + INTERVAL (m) MONTH, "
        "CASE WHEN (u + m) % 3 = 0 THEN 'team' ELSE 'corp' END, 10.0 + u % 7 "
        "FROM range(600) t(u), range(6) s(m) WHERE u < 600 - 80 * m"
    )
    con.execute(f"INSERT INTO users SELECT * FROM users WHERE user_id < {repeated_users}")
    con.close()
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_db(tmp_path_factory.mktemp("grouping") / "sets.duckdb")


def model_with(**extra: dict[str, Any]) -> SemanticModel:
    """The packaged model with ``extra`` dimensions and measures: {"table.kind.name": spec}."""
    data = yaml.safe_load(resources.files("chatter.semantic").joinpath("saas.yaml").read_text())
    for where, spec in extra.items():
        table, kind, name = where.split(".")
        data["tables"][table][kind][name] = spec
    return SemanticModel.from_yaml_text(yaml.safe_dump(data), source="test")


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


# An independent review found each of these answered wrongly from one statement; each must
# now either be asked one grouping at a time or come back exactly as its own query.
Q = {"measures": ["converted_users", "users"], "dimensions": ["plan_type", "industry", "country"]}
SINGLES = [("plan_type",), ("industry",), ("country",)]
PLAN_TWICE = {"users.dimensions.plan": {"type": "string", "column": "plan_type"}}


@pytest.mark.parametrize(
    "query, groupings, extra",
    [
        # MRR is the last month's: by month alone it groups plainly, by country it does not.
        (
            {"measures": ["mrr", "subscribers"], "dimensions": ["month", "users.country"]},
            [("month",), ("users.country",)],
            {},
        ),
        # GROUPING() cannot tell two dimensions over one column apart.
        (
            {"measures": ["users"], "dimensions": ["plan", "plan_type", "country"]},
            [("plan",), ("plan_type",), ("country",)],
            PLAN_TWICE,
        ),
        # Together they are users__plan_type and revenue__plan_type; alone, plan_type.
        (
            {
                "measures": ["revenue", "paying_months"],
                "dimensions": ["users.plan_type", "revenue.plan_type"],
            },
            [("users.plan_type",), ("revenue.plan_type",)],
            {},
        ),
        ({**Q, "limit": 4}, SINGLES, {}),
        ({**Q, "order_by": [{"field": "users", "descending": True}]}, SINGLES, {}),
        (Q, [("industry", "plan_type"), ("country",)], {}),  # out of the query's order
    ],
    ids=["semi-additive", "one column twice", "alias clash", "limit", "order", "order of keys"],
)
@pytest.mark.parametrize("pre_aggregate", [False, True])
def test_what_one_statement_cannot_answer_is_asked_apart(
    db: Path, query: dict, groupings: list, extra: dict, pre_aggregate: bool
) -> None:
    with Warehouse(Engine(db), model_with(**extra)) as wh:
        assert wh.query_sets(query, groupings, pre_aggregate=pre_aggregate) is None
        rows = Recorder(wh).query_sets(query, groupings, pre_aggregate=pre_aggregate)
        assert [[tuple(r.values()) for r in g] for g in rows] == [
            rows for _, rows in one_by_one(wh, query, groupings)
        ]
        assert all(rows)


@pytest.mark.parametrize("pre_aggregate", [False, True])
def test_a_grouping_twice_or_a_dimension_in_none_is_still_one_statement(
    db: Path, pre_aggregate: bool
) -> None:
    with Warehouse(Engine(db), default_model()) as wh:
        for groupings in ([*SINGLES, ("plan_type",)], [("plan_type",), ("industry",)]):
            found = wh.query_sets(Q, groupings, pre_aggregate=pre_aggregate)
            assert found is not None
            assert [(r.columns, r.rows) for r in found[0]] == one_by_one(wh, Q, groupings)


def test_a_measure_named_like_the_mask_is_asked_apart(db: Path) -> None:
    model = model_with(**{"users.measures.__grouping_set": {"agg": "count"}})
    query = {"measures": ["__grouping_set", "users"], "dimensions": ["plan_type", "country"]}
    with Warehouse(Engine(db), model) as wh:
        assert wh.query_sets(query, [("plan_type",), ("country",)]) is None


def test_a_join_left_out_of_a_grouping_is_asked_apart(tmp_path: Path) -> None:
    """With a user listed twice, events by event_type alone read no users (667 events) and
    with them 967: a grouping whose own query reads fewer tables is asked on its own."""
    repeated = make_db(tmp_path / "repeated.duckdb", repeated_users=300)
    query = {"measures": ["events"], "dimensions": ["event_type", "users.plan_type"]}
    groupings = [("event_type",), ("users.plan_type",)]
    with Warehouse(Engine(repeated), default_model()) as wh:
        assert wh.query_sets(query, groupings) is None
        alone = one_by_one(wh, query, groupings)
        both = wh.query({**query, "dimensions": ["event_type", "users.plan_type"]})
        assert sum(r[-1] for r in both.rows) > sum(r[-1] for r in alone[0][1])  # not vacuous


@pytest.mark.parametrize(
    "extra, params",
    [
        (PLAN_TWICE, SegmentTestParams()),
        (
            {
                "revenue.measures.team_months": {
                    "agg": "count",
                    "filters": [{"field": "plan_type", "value": "team"}],
                },
                "revenue.measures.team_share": {
                    "agg": "ratio",
                    "numerator": "team_months",
                    "denominator": "paying_months",
                },
            },
            SegmentTestParams(
                metric="team_share",
                entity_table="revenue",
                dimensions=("users.plan_type", "revenue.plan_type", "users.country"),
            ),
        ),
    ],
    ids=["one column twice", "two plan_types"],
)
def test_segment_tests_on_models_it_must_not_regroup(
    db: Path, extra: dict, params: SegmentTestParams
) -> None:
    model = model_with(**extra)
    with Warehouse(Engine(db), model) as wh:
        together = segment_rate_tests(wh, params)
    with OneQueryPerGrouping(Engine(db), model) as wh:
        apart = segment_rate_tests(wh, params)
    assert together.rows and json.dumps(together.rows, default=str) == json.dumps(
        apart.rows, default=str
    )
    assert [f.model_dump() for f in together.findings] == [f.model_dump() for f in apart.findings]
    assert together.notes == apart.notes
