"""The same demo data in DuckDB and in PostgreSQL (each loaded by ``chatter demo --out``) gives
the same answers: the three templates' rows, findings (p-values within 1e-9) and insight
sentences, and the rows of single queries asked through the CLI, ``chatter.ask`` and the Python
API. Floating-point sums may differ in the last bits (the engines add in other orders), so
numbers compare to a relative 1e-9; everything else compares exactly."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli
from postgres_fixture import as_url

import chatter
from chatter.services import Services

pytestmark = pytest.mark.integration

USERS, SEED = 4_000, 11
TOLERANCE = 1e-9
TEMPLATES = ("conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization")


@pytest.fixture(scope="module")
def databases(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo of one seed as a DuckDB file and as tables in a fresh PostgreSQL database."""
    home = tmp_path_factory.mktemp("parity-home")
    duck = str(tmp_path_factory.mktemp("parity") / "demo.duckdb")
    pg = as_url(postgres_url)
    for out in (duck, pg):
        ran = run_cli("demo", "--users", str(USERS), "--seed", str(SEED), "--out", out, home=home)
        assert ran.returncode == 0, ran.stderr
        assert f"{USERS:,} users" in ran.stdout
    return {"duckdb": duck, "postgres": pg}


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


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_give_the_same_rows_findings_and_insights(
    template: str, databases: dict[str, str], services: Services
) -> None:
    runs = {
        engine: chatter.run_workflow(template, database=db, services=services).model_dump(
            mode="json"
        )
        for engine, db in databases.items()
    }
    duck, pg = runs["duckdb"], runs["postgres"]
    assert duck["status"] == pg["status"] == "completed"
    assert [s["id"] for s in duck["steps"]] == [s["id"] for s in pg["steps"]]
    for a, b in zip(duck["steps"], pg["steps"], strict=True):
        assert a["error"] is None and b["error"] is None, (a["error"], b["error"])
        same(a["rows"], b["rows"], f"{template}.{a['id']}.rows")
    assert pg["findings"], "a template with no findings proves nothing"
    same(duck["findings"], pg["findings"], f"{template}.findings")
    assert [i["text"] for i in duck["insights"]] == [i["text"] for i in pg["insights"]]
    assert pg["insights"]
    # The PostgreSQL run really ran PostgreSQL SQL (a DuckDB spelling would not have parsed).
    statements = [s["sql"] for s in pg["steps"] if s["sql"]]
    assert any("DOUBLE PRECISION" in json.dumps(sql) for sql in statements)


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
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "_".join(q).replace(" ", ""))
def test_single_queries_on_the_cli_give_the_same_rows(
    query: list[str], databases: dict[str, str], tmp_path: Path
) -> None:
    rows = {}
    for engine, db in databases.items():
        ran = run_cli("query", *query, "--database", db, "--json", home=tmp_path / engine)
        assert ran.returncode == 0, ran.stderr
        step = json.loads(ran.stdout)["steps"][0]
        assert step["error"] is None
        rows[engine] = step["rows"]
    assert rows["duckdb"], "an empty answer proves nothing"
    same(rows["duckdb"], rows["postgres"], " ".join(query))


QUESTIONS = [
    "conversion rate by plan",
    "mrr by month",
    "which channel converts best",
    "how many users signed up in 2024 by country",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_questions_through_ask_give_the_same_answer(
    question: str, databases: dict[str, str], services: Services
) -> None:
    answers = {
        engine: chatter.ask(question, database=db, services=services).model_dump(mode="json")
        for engine, db in databases.items()
    }
    duck, pg = answers["duckdb"], answers["postgres"]
    assert pg["error"] is None and pg["steps"]
    same([s["rows"] for s in duck["steps"]], [s["rows"] for s in pg["steps"]], question)
    assert duck["text"] == pg["text"]
    assert pg["database"] == databases["postgres"]


def test_the_python_api_takes_a_url(databases: dict[str, str], services: Services) -> None:
    from chatter.context import Context

    results = {
        engine: services.warehouse(Context(database=db)).query(
            {"measures": ["users", "conversion_rate"], "dimensions": ["industry"]}
        )
        for engine, db in databases.items()
    }
    assert results["postgres"].rows
    same(
        [list(r) for r in results["duckdb"].rows],
        [list(r) for r in results["postgres"].rows],
    )
    assert "DOUBLE PRECISION" in results["postgres"].sql  # the SQL as run, PostgreSQL's spelling
