"""The same demo data in DuckDB and in PostgreSQL (each loaded by ``chatter demo --out``) gives
the same answers: the three templates' rows, findings (p-values within 1e-9) and insight
sentences, and the rows of single queries asked through the CLI, ``chatter.ask`` and the Python
API. Floating-point sums may differ in the last bits (the engines add in other orders), so
numbers compare to a relative 1e-9; everything else compares exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from engine_parity import (
    QUERIES,
    QUESTIONS,
    SEED,
    TEMPLATES,
    USERS,
    same,
    same_answer,
    same_grouping_sets,
    same_query_rows,
    same_template_run,
)
from postgres_fixture import as_url

from chatter.services import Services

pytestmark = pytest.mark.integration


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


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_give_the_same_rows_findings_and_insights(
    template: str, databases: dict[str, str], services: Services
) -> None:
    pg = same_template_run(template, databases, services, "postgres")
    # The PostgreSQL run really ran PostgreSQL SQL (a DuckDB spelling would not have parsed).
    statements = [s["sql"] for s in pg["steps"] if s["sql"]]
    assert any("DOUBLE PRECISION" in json.dumps(sql) for sql in statements)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "_".join(q).replace(" ", ""))
def test_single_queries_on_the_cli_give_the_same_rows(
    query: list[str], databases: dict[str, str], tmp_path: Path
) -> None:
    same_query_rows(query, databases, tmp_path, "postgres")


@pytest.mark.parametrize("question", QUESTIONS)
def test_questions_through_ask_give_the_same_answer(
    question: str, databases: dict[str, str], services: Services
) -> None:
    pg = same_answer(question, databases, services, "postgres")
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


def test_grouping_sets_give_each_pair_its_own_rows(
    databases: dict[str, str], services: Services
) -> None:
    same_grouping_sets(databases, services, "postgres")
