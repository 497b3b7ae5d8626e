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
from engine_parity import QUERIES, QUESTIONS, SEED, TEMPLATES, USERS, same
from postgres_fixture import as_url

import chatter
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
