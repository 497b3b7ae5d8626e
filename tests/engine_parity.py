"""What the engine parity tests share: the demo's size and seed, the templates, the single
queries and questions asked of every engine, and ``same`` (equal rows, floats to a relative
1e-9: engines add floating-point numbers in other orders)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

USERS, SEED = 4_000, 11
TOLERANCE = 1e-9
TEMPLATES = ("conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization")


def same(a: Any, b: Any, where: str = "") -> None:
    """``a`` equals ``b``, floats to a relative TOLERANCE (None and NaN alike)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), (where, a, b)
        if math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), (where, a, b)
        else:
            assert math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-12), (where, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (where, a, b)
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (where, len(a), b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


QUERIES: list[list[str]] = [
    ["-m", "users", "-d", "plan_type"],
    ["-m", "conversion_rate", "-d", "acquisition_channel", "--order", "-conversion_rate"],
    ["-m", "mrr", "-d", "month", "--time-grain", "quarter"],
    ["-m", "arpu", "-d", "plan_type"],
    ["-m", "events", "-d", "event_type", "-d", "plan_type"],
    ["-m", "users", "-d", "country", "-f", "industry = fintech", "--limit", "3"],
    ["-m", "churn_rate", "-d", "company_size", "-f", "signup_date >= 2024-06-01"],
    ["-m", "revenue", "-m", "avg_mrr", "-d", "industry"],
    ["-m", "events_per_user", "-m", "active_users", "-d", "company_size"],
    ["-m", "users", "-d", "signup_date", "--time-grain", "month", "-f", "country in US,DE"],
    [
        "-m",
        "events",
        "-d",
        "event_ts",
        "--time-grain",
        "week",
        "--order",
        "-events",
        "--limit",
        "5",
    ],
    ["-m", "users", "-f", "industry contains Tech"],
    ["-m", "events", "-d", "event_ts", "--time-grain", "day", "--limit", "10"],
    ["-m", "users", "-d", "signup_date", "--time-grain", "year", "-d", "plan_type"],
]


QUESTIONS = [
    "conversion rate by plan",
    "mrr by month",
    "which channel converts best",
    "how many users signed up in 2024 by country",
]


def same_template_run(
    template: str, databases: dict[str, str], services: Any, other: str
) -> dict[str, Any]:
    """Run ``template`` on DuckDB and on ``other``: the same step rows, findings and insight
    sentences. Returns ``other``'s result, for what only that engine shows."""
    import chatter

    runs = {
        engine: chatter.run_workflow(template, database=db, services=services).model_dump(
            mode="json"
        )
        for engine, db in databases.items()
    }
    duck, theirs = runs["duckdb"], runs[other]
    assert duck["status"] == theirs["status"] == "completed"
    assert [s["id"] for s in duck["steps"]] == [s["id"] for s in theirs["steps"]]
    for a, b in zip(duck["steps"], theirs["steps"], strict=True):
        assert a["error"] is None and b["error"] is None, (a["error"], b["error"])
        same(a["rows"], b["rows"], f"{template}.{a['id']}.rows")
    assert theirs["findings"], "a template with no findings proves nothing"
    same(duck["findings"], theirs["findings"], f"{template}.findings")
    assert [i["text"] for i in duck["insights"]] == [i["text"] for i in theirs["insights"]]
    assert theirs["insights"]
    return theirs


def same_query_rows(query: list[str], databases: dict[str, str], home: Path, other: str) -> None:
    """``chatter query`` on DuckDB and on ``other``: the same rows."""
    from cli_runner import run_cli

    rows = {}
    for engine, db in databases.items():
        ran = run_cli("query", *query, "--database", db, "--json", home=home / engine)
        assert ran.returncode == 0, ran.stderr
        step = json.loads(ran.stdout)["steps"][0]
        assert step["error"] is None
        rows[engine] = step["rows"]
    assert rows["duckdb"], "an empty answer proves nothing"
    same(rows["duckdb"], rows[other], " ".join(query))


def same_answer(
    question: str, databases: dict[str, str], services: Any, other: str
) -> dict[str, Any]:
    """``chatter.ask`` on DuckDB and on ``other``: the same rows and words. Returns ``other``'s
    answer."""
    import chatter

    answers = {
        engine: chatter.ask(question, database=db, services=services).model_dump(mode="json")
        for engine, db in databases.items()
    }
    duck, theirs = answers["duckdb"], answers[other]
    assert theirs["error"] is None and theirs["steps"]
    same([s["rows"] for s in duck["steps"]], [s["rows"] for s in theirs["steps"]], question)
    assert duck["text"] == theirs["text"]
    return theirs


GROUPED_BY = ("plan_type", "industry", "acquisition_channel", "company_size", "country")


def same_grouping_sets(databases: dict[str, str], services: Any, other: str) -> None:
    """Counts by every pair of five dimensions from one statement, grouped over the rows and
    over the combinations (what the segment tests ask), on ``other`` give each pair the rows its
    own query gives there, and the rows DuckDB gives."""
    from chatter.context import Context

    query = {"measures": ["converted_users", "users"], "dimensions": list(GROUPED_BY)}
    pairs = [(a, b) for i, a in enumerate(GROUPED_BY) for b in GROUPED_BY[i + 1 :]]
    found: dict[str, list[list[list[Any]]]] = {}
    for engine, db in databases.items():
        warehouse = services.warehouse(Context(database=db))
        apart = [
            [list(r) for r in warehouse.query({**query, "dimensions": list(p)}).rows] for p in pairs
        ]
        for pre_aggregate in (False, True):
            sets = warehouse.query_sets(query, pairs, pre_aggregate=pre_aggregate)
            assert sets is not None, (engine, pre_aggregate)
            results, sql = sets
            assert ("__combinations" in sql) == pre_aggregate
            assert [[list(r) for r in g.rows] for g in results] == apart, (engine, pre_aggregate)
        found[engine] = apart
    assert sum(len(rows) for rows in found[other]) > 40
    same(found["duckdb"], found[other])
