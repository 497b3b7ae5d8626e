"""The demo dataset on real DuckDB files: schema, determinism, consistency, realism, and the
planted effects (and planted non-effects) recovered with statistics independent of the generator.

One 30k-user dataset is generated per module; the determinism tests make their own small ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

import chatter.demo.writer
from chatter.demo import PLANS, generate_demo
from chatter.errors import InvalidValueError, OutputExistsError

pytestmark = pytest.mark.integration

USERS = 30_000
# Seed 42 is the product default. The null tests below are deterministic for a seed; at this one
# country and company_size give p of about 0.87 and 0.94, nowhere near the 0.01 line.
SEED = 42
SMALL_USERS = 5_000

SCHEMA: dict[str, list[tuple[str, str]]] = {
    "users": [
        ("user_id", "BIGINT"),
        ("signup_date", "DATE"),
        ("plan_type", "VARCHAR"),
        ("industry", "VARCHAR"),
        ("acquisition_channel", "VARCHAR"),
        ("company_size", "VARCHAR"),
        ("country", "VARCHAR"),
        ("converted", "BOOLEAN"),
        ("churned", "BOOLEAN"),
        ("churn_date", "DATE"),
    ],
    "events": [
        ("event_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("event_type", "VARCHAR"),
        ("event_ts", "TIMESTAMP"),
    ],
    "revenue": [
        ("user_id", "BIGINT"),
        ("month", "DATE"),
        ("plan_type", "VARCHAR"),
        ("mrr", "DOUBLE"),
    ],
}
PLAN_ORDER = [plan.name for plan in PLANS]  # cheapest first


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, users=USERS, seed=SEED)
    return path


@pytest.fixture(scope="module")
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(db_path), read_only=True)
    yield connection
    connection.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def fingerprint(path: Path) -> dict[str, tuple[int, int]]:
    """Per table, (row count, XOR of row hashes): equal iff the contents are equal (up to the
    negligible chance of a hash collision), whatever order the rows were written in."""
    with duckdb.connect(str(path), read_only=True) as connection:
        result = {}
        for table, columns in SCHEMA.items():
            names = ", ".join(name for name, _ in columns)
            row = connection.execute(
                f"SELECT count(*), bit_xor(hash({names})) FROM {table}"
            ).fetchone()
            assert row is not None
            result[table] = (row[0], row[1])
        return result


def conversion_table(con: duckdb.DuckDBPyConnection, dimension: str) -> dict[str, tuple[int, int]]:
    """Level -> (converted, users), aggregated in SQL so the tests never see the generator's
    internal draws."""
    rows = con.execute(
        f"SELECT {dimension}, count(*) FILTER (WHERE converted), count(*) "
        f"FROM users GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {level: (converted, total) for level, converted, total in rows}


def omnibus_p(table: dict[str, tuple[int, int]]) -> float:
    counts = np.array([[converted, total - converted] for converted, total in table.values()])
    return float(stats.chi2_contingency(counts).pvalue)


def level_vs_rest_p(table: dict[str, tuple[int, int]], level: str, alternative: str) -> float:
    """One-sided z-test of one level's conversion against all other levels pooled."""
    converted, total = table[level]
    rest_converted = sum(c for name, (c, _) in table.items() if name != level)
    rest_total = sum(n for name, (_, n) in table.items() if name != level)
    _, p = proportions_ztest(
        [converted, rest_converted], [total, rest_total], alternative=alternative
    )
    return float(p)


def per_user_counts(con: duckdb.DuckDBPyConnection, features: list[str]) -> dict[str, np.ndarray]:
    """Per user (every user, zero for non-users of a feature), the event count of each feature."""
    columns = ", ".join(
        f"count(e.event_id) FILTER (WHERE e.event_type = '{name}') AS {name}" for name in features
    )
    return con.execute(
        f"SELECT {columns} FROM users u LEFT JOIN events e USING (user_id) GROUP BY u.user_id"
    ).fetchnumpy()


# --- schema ---------------------------------------------------------------------------------


def test_exactly_the_three_contract_tables(con: duckdb.DuckDBPyConnection) -> None:
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables ORDER BY table_name"
    ).fetchall()
    assert sorted(name for (name,) in tables) == sorted(SCHEMA)


@pytest.mark.parametrize("table", list(SCHEMA))
def test_columns_and_types_in_order(con: duckdb.DuckDBPyConnection, table: str) -> None:
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    assert columns == SCHEMA[table]


# --- determinism ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_fingerprint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, int]]:
    path = tmp_path_factory.mktemp("small") / "a.duckdb"
    generate_demo(path, users=SMALL_USERS, seed=SEED)
    return fingerprint(path)


def test_same_seed_same_data(tmp_path: Path, small_fingerprint: dict[str, tuple[int, int]]) -> None:
    path = tmp_path / "b.duckdb"
    generate_demo(path, users=SMALL_USERS, seed=SEED)
    assert fingerprint(path) == small_fingerprint


def test_different_seed_different_data(
    tmp_path: Path, small_fingerprint: dict[str, tuple[int, int]]
) -> None:
    path = tmp_path / "c.duckdb"
    generate_demo(path, users=SMALL_USERS, seed=SEED + 1)
    other = fingerprint(path)
    assert other["users"][0] == small_fingerprint["users"][0]  # same size, other rows
    for table in SCHEMA:
        assert other[table][1] != small_fingerprint[table][1], table


def test_independent_of_thread_count(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_fingerprint: dict[str, tuple[int, int]],
) -> None:
    # Window sums and parallel inserts are where a thread count could leak into the data.
    real_connect = duckdb.connect
    opened: list[str] = []

    def one_thread(database: str, *args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        opened.append(database)
        return real_connect(database, config={"threads": 1})

    monkeypatch.setattr(chatter.demo.writer.duckdb, "connect", one_thread)
    path = tmp_path / "single.duckdb"
    generate_demo(path, users=SMALL_USERS, seed=SEED)
    monkeypatch.undo()
    assert opened, "the generator no longer opens DuckDB through duckdb.connect"
    assert fingerprint(path) == small_fingerprint


# --- referential integrity and consistency ---------------------------------------------------


def test_user_id_unique(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "SELECT count(*) - count(DISTINCT user_id) FROM users") == 0
    assert scalar(con, "SELECT count(*) FROM users") == USERS


def test_event_id_unique(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "SELECT count(*) - count(DISTINCT event_id) FROM events") == 0


@pytest.mark.parametrize("table", ["events", "revenue"])
def test_every_user_id_exists(con: duckdb.DuckDBPyConnection, table: str) -> None:
    orphans = scalar(
        con, f"SELECT count(*) FROM {table} t ANTI JOIN users u ON t.user_id = u.user_id"
    )
    assert orphans == 0


def test_churn_flags_consistent(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "SELECT count(*) FROM users WHERE churned <> (churn_date IS NOT NULL)") == 0
    assert scalar(con, "SELECT count(*) FROM users WHERE churned AND NOT converted") == 0
    assert scalar(con, "SELECT count(*) FROM users WHERE churn_date < signup_date") == 0


def test_revenue_rows_valid(con: duckdb.DuckDBPyConnection) -> None:
    bad = con.execute(
        """SELECT
            count(*) FILTER (WHERE NOT u.converted),
            count(*) FILTER (WHERE r.month <> date_trunc('month', r.month)),
            count(*) FILTER (WHERE r.month NOT BETWEEN DATE '2024-01-01' AND DATE '2025-12-01'),
            count(*) FILTER (WHERE u.churned AND r.month >= date_trunc('month', u.churn_date)),
            count(*) FILTER (WHERE r.month < date_trunc('month', u.signup_date)),
            count(*) FILTER (WHERE NOT r.mrr > 0 OR r.mrr IS NULL)
        FROM revenue r JOIN users u USING (user_id)"""
    ).fetchone()
    assert bad == (0, 0, 0, 0, 0, 0)


def test_one_revenue_row_per_user_month(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "SELECT count(*) - count(DISTINCT (user_id, month)) FROM revenue") == 0


def test_events_inside_active_window(con: duckdb.DuckDBPyConnection) -> None:
    bad = con.execute(
        """SELECT
            count(*) FILTER (WHERE e.event_ts < u.signup_date),
            count(*) FILTER (WHERE u.churned AND e.event_ts > u.churn_date + INTERVAL 1 DAY)
        FROM events e JOIN users u USING (user_id)"""
    ).fetchone()
    assert bad == (0, 0)


def test_nothing_happens_after_the_books_close(con: duckdb.DuckDBPyConnection) -> None:
    late_events = scalar(con, "SELECT count(*) FROM events WHERE event_ts >= DATE '2026-01-01'")
    unbilled = scalar(
        con,
        "SELECT count(*) FROM users u WHERE converted AND NOT churned "
        "AND NOT EXISTS (SELECT 1 FROM revenue r WHERE r.user_id = u.user_id)",
    )
    assert (late_events, unbilled) == (0, 0)


# --- realism ----------------------------------------------------------------------------------


def test_plans_have_different_prices_starter_cheapest(con: duckdb.DuckDBPyConnection) -> None:
    mean_mrr = dict(con.execute("SELECT plan_type, avg(mrr) FROM revenue GROUP BY 1").fetchall())
    assert sorted(mean_mrr) == sorted(PLAN_ORDER)
    prices = [mean_mrr[name] for name in PLAN_ORDER]
    assert prices == sorted(prices) and len(set(prices)) == len(prices)
    assert min(mean_mrr, key=mean_mrr.__getitem__) == "starter"


def test_weekday_signups_exceed_weekend(con: duckdb.DuckDBPyConnection) -> None:
    per_day = dict(
        con.execute(
            "SELECT dayofweek(signup_date) IN (0, 6), count(*) / count(DISTINCT signup_date) "
            "FROM users GROUP BY 1"
        ).fetchall()
    )
    assert per_day[False] > 1.3 * per_day[True]


def test_feature_usage_is_heavy_tailed(con: duckdb.DuckDBPyConnection) -> None:
    median, maximum = con.execute(
        "SELECT median(n), max(n) FROM "
        "(SELECT user_id, event_type, count(*) AS n FROM events GROUP BY ALL)"
    ).fetchone()  # type: ignore[misc]
    assert maximum > 50 * median


def test_events_per_user(con: duckdb.DuckDBPyConnection) -> None:
    per_user = scalar(con, "SELECT (SELECT count(*) FROM events) / (SELECT count(*) FROM users)")
    assert 8 <= per_user <= 14  # type: ignore[operator]


def test_mrr_grows(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("SELECT month, sum(mrr) FROM revenue GROUP BY 1 ORDER BY 1").fetchall()
    totals = [mrr for _, mrr in rows]
    assert len(totals) >= 12
    assert totals[-1] > totals[0]
    growing = sum(later > earlier for earlier, later in pairwise(totals))
    assert growing >= 0.75 * (len(totals) - 1)


# --- planted effects, found with independent statistics ---------------------------------------


@pytest.mark.parametrize("dimension", ["industry", "acquisition_channel", "plan_type"])
def test_conversion_differs(con: duckdb.DuckDBPyConnection, dimension: str) -> None:
    assert omnibus_p(conversion_table(con, dimension)) < 1e-6


@pytest.mark.parametrize(
    ("dimension", "level", "alternative"),
    [
        ("industry", "fintech", "smaller"),
        ("industry", "education", "larger"),
        ("acquisition_channel", "referral", "larger"),
        ("acquisition_channel", "social", "smaller"),
    ],
)
def test_planted_level_direction(
    con: duckdb.DuckDBPyConnection, dimension: str, level: str, alternative: str
) -> None:
    assert level_vs_rest_p(conversion_table(con, dimension), level, alternative) < 1e-6


def test_plan_conversion_rises_with_plan(con: duckdb.DuckDBPyConnection) -> None:
    table = conversion_table(con, "plan_type")
    rates = [table[name][0] / table[name][1] for name in PLAN_ORDER]
    assert rates == sorted(rates)


@pytest.mark.parametrize("dimension", ["country", "company_size"])
def test_null_dimensions_show_no_effect(con: duckdb.DuckDBPyConnection, dimension: str) -> None:
    # A real null: the generator gives these columns no effect on anything, so a small p here
    # would mean a leak between draws (the bug the keyed-hash design exists to prevent).
    assert omnibus_p(conversion_table(con, dimension)) > 0.01


def test_integration_setup_adopters_churn_less(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        """WITH adopters AS (
            SELECT DISTINCT user_id FROM events WHERE event_type = 'integration_setup'
        )
        SELECT a.user_id IS NOT NULL AS adopted, count(*) FILTER (WHERE churned), count(*)
        FROM users u LEFT JOIN adopters a USING (user_id)
        WHERE converted GROUP BY 1"""
    ).fetchall()
    churn = {adopted: (churned, total) for adopted, churned, total in rows}
    counts = np.array([[c, n - c] for c, n in churn.values()])
    assert stats.chi2_contingency(counts).pvalue < 1e-6
    assert churn[True][0] / churn[True][1] < churn[False][0] / churn[False][1]


def test_planted_feature_pair_correlates(con: duckdb.DuckDBPyConnection) -> None:
    counts = per_user_counts(con, ["dashboard_view", "report_export"])
    rho, p = stats.spearmanr(counts["dashboard_view"], counts["report_export"])
    # Latent rho 0.7 shows as about 0.21 on raw counts with zeros (ties and the adoption step
    # dilute it): 0.15 keeps a wide margin on any seed while still far from noise (~0.006).
    assert rho > 0.15
    assert p < 1e-50


@pytest.mark.parametrize(
    ("first", "second"), [("search", "team_invite"), ("alert_created", "data_import")]
)
def test_other_feature_pairs_independent(
    con: duckdb.DuckDBPyConnection, first: str, second: str
) -> None:
    counts = per_user_counts(con, [first, second])
    rho, _ = stats.spearmanr(counts[first], counts[second])
    assert abs(rho) < 0.02


def test_api_use_rises_with_plan(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        """WITH api AS (
            SELECT user_id, count(*) AS n FROM events WHERE event_type = 'api_call' GROUP BY 1
        )
        SELECT plan_type, count(api.n), count(*), median(api.n)
        FROM users u LEFT JOIN api USING (user_id) GROUP BY 1"""
    ).fetchall()
    by_plan = {plan: (adopters, total, median) for plan, adopters, total, median in rows}
    adoption = [by_plan[name][0] / by_plan[name][1] for name in PLAN_ORDER]
    intensity = [by_plan[name][2] for name in PLAN_ORDER]
    assert adoption == sorted(adoption) and len(set(adoption)) == len(adoption)
    assert intensity[-1] > intensity[0]  # adopters on bigger plans also call more
    counts = np.array([[by_plan[n][0], by_plan[n][1] - by_plan[n][0]] for n in PLAN_ORDER])
    assert stats.chi2_contingency(counts).pvalue < 1e-6


# --- bad input and atomicity ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"users": 0},
        {"users": -1},
        {"users": True},
        {"users": 10.0},
        {"seed": -1},
        {"seed": True},
    ],
    ids=["users=0", "users=-1", "users=True", "users=10.0", "seed=-1", "seed=True"],
)
def test_invalid_arguments_rejected(tmp_path: Path, kwargs: dict[str, object]) -> None:
    path = tmp_path / "x.duckdb"
    arguments: dict[str, object] = {"users": 10, "seed": 1, **kwargs}
    with pytest.raises(InvalidValueError):
        generate_demo(path, **arguments)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_existing_output_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "mine.duckdb"
    original = b"not yours to replace\n"
    path.write_bytes(original)
    with pytest.raises(OutputExistsError):
        generate_demo(path, users=10, seed=1)
    assert path.read_bytes() == original
    assert list(tmp_path.iterdir()) == [path]


def test_no_temporary_files_left(db_path: Path) -> None:
    names = sorted(p.name for p in db_path.parent.iterdir())
    assert names == [db_path.name]
