"""The `chatter` command as a user runs it: real files, exit codes, stdout. Cases that check an
exit code and a message run in this process (tests/cli_runner.py); those about the process
itself (stdout purity, heavy imports, the demo made on first use) run it for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli

pytestmark = pytest.mark.integration


def chatter(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "CHATTER_HOME": str(home), "COLUMNS": "120", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "chatter.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def test_help_does_not_import_heavy_modules(chatter_home: Path) -> None:
    code = (
        "import sys; sys.argv = ['chatter', '--help']\n"
        "from chatter.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('duckdb', 'scipy', 'langgraph', 'langchain_openai', 'sqlglot',"
        " 'pydantic_settings') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in out.stderr, out.stderr
    for command in ("demo", "query", "templates"):
        assert command in out.stdout


@pytest.mark.slow
def test_query_prints_a_table_on_the_demo_created_on_first_use(chatter_home: Path) -> None:
    out = chatter(
        "query",
        "--measure",
        "conversion_rate",
        "--dimension",
        "plan_type",
        home=chatter_home,
        env={"CHATTER_DEMO_USERS": "3000"},
    )
    assert out.returncode == 0, out.stderr
    assert (chatter_home / "demo.duckdb").exists()
    assert "conversion_rate" in out.stdout and "plan_type" in out.stdout
    assert "%" in out.stdout and "SELECT" in out.stdout


def test_json_stdout_is_only_the_result_document(demo_db: Path, chatter_home: Path) -> None:
    out = chatter(
        "--log-level",
        "debug",
        "query",
        "-m",
        "conversion_rate",
        "-m",
        "users",
        "-d",
        "industry",
        "-f",
        "signup_date>=2024-06-01",
        "--order",
        "-conversion_rate",
        "--limit",
        "3",
        "--database",
        str(demo_db),
        "--json",
        home=chatter_home,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {
        "workflow",
        "run_id",
        "status",
        "steps",
        "findings",
        "insights",
        "route",
        "metrics",
    }
    assert doc["workflow"] == "query" and doc["status"] == "completed"
    assert doc["route"]["workflow"] == "query"
    (step,) = doc["steps"]
    assert step["id"] == "query" and step["type"] == "query" and step["error"] is None
    assert len(step["rows"]) == 3 and step["truncated"] is False
    rates = [r["conversion_rate"] for r in step["rows"]]
    assert rates == sorted(rates, reverse=True)
    assert "CAST('2024-06-01' AS DATE)" in step["sql"]
    assert set(doc["metrics"]) >= {"duration_ms", "cache_hits", "llm_tokens"}
    # Logs are JSON lines on stderr.
    log_lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert log_lines and all(json.loads(line)["event"] for line in log_lines)


def test_warm_cache_and_no_cache(demo_db: Path, chatter_home: Path) -> None:
    args = ("query", "-m", "users", "-d", "country", "--database", str(demo_db), "--json")
    cold = json.loads(run_cli(*args, home=chatter_home).stdout)
    warm = json.loads(run_cli(*args, home=chatter_home).stdout)
    bypass = json.loads(run_cli(*args, "--no-cache", home=chatter_home).stdout)
    assert (
        cold["metrics"]["cache_hits"],
        warm["metrics"]["cache_hits"],
        bypass["metrics"]["cache_hits"],
    ) == (0, 1, 0)
    assert cold["steps"][0]["rows"] == warm["steps"][0]["rows"] == bypass["steps"][0]["rows"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("query", "-m", "conversion_rte"), "Did you mean 'conversion_rate'"),
        (("query", "-m", "users", "-d", "industy"), "Did you mean 'industry'"),
        (("query", "-m", "users", "-f", "industry ~ x"), "--filter"),
        (("query", "-m", "users", "-f", "indusrty=x"), "Unknown field"),
        (("query", "-m", "users", "-f", "signup_date>=soon"), "YYYY-MM-DD"),
        (("query", "-m", "users", "-f", "industry like x"), "--filter"),
        (("query", "-m", "users", "--time-grain", "fortnight"), "Unknown time grain"),
        (("query", "-m", "users", "--limit", "0"), "limit"),
        (("query", "-m", "users", "--order", "mrr"), "order_by"),
        (("query",), "at least one measure"),
        (("query", "-m", "users", "--semantic-model", "/nonexistent/model.yaml"), "does not exist"),
        (("demo", "--users", "0"), "--users"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    args: tuple[str, ...], message: str, demo_db: Path, chatter_home: Path
) -> None:
    extra = ("--database", str(demo_db)) if args[0] == "query" else ()
    out = run_cli(*args, *extra, home=chatter_home)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert message in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_bad_input_with_json_prints_a_json_error(demo_db: Path, chatter_home: Path) -> None:
    out = run_cli("query", "-m", "nope", "--database", str(demo_db), "--json", home=chatter_home)
    assert out.returncode == 2
    assert json.loads(out.stdout)["error"]["code"] == "unknown_measure"


def test_database_problems_exit_2(tmp_path: Path, chatter_home: Path) -> None:
    missing = run_cli(
        "query", "-m", "users", "--database", str(tmp_path / "no.duckdb"), home=chatter_home
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    fake = tmp_path / "fake.duckdb"
    fake.write_text("definitely not duckdb" * 50)
    bad = run_cli("query", "-m", "users", "--database", str(fake), home=chatter_home)
    assert bad.returncode == 2 and "not a valid DuckDB" in bad.stderr
    assert fake.read_text() == "definitely not duckdb" * 50


def test_database_from_the_environment(demo_db: Path, chatter_home: Path) -> None:
    out = run_cli(
        "query", "-m", "users", "--json", home=chatter_home, env={"CHATTER_DATABASE": str(demo_db)}
    )
    assert json.loads(out.stdout)["steps"][0]["rows"] == [{"users": 20_000}]
    assert not (chatter_home / "demo.duckdb").exists()


def test_user_semantic_model(tmp_path: Path, tiny_db: Path, chatter_home: Path) -> None:
    model = tmp_path / "mine.yaml"
    model.write_text("""
name: mine
tables:
  people:
    table: users
    primary_key: user_id
    dimensions:
      tier: {column: plan_type}
    measures:
      headcount: {agg: count}
""")
    out = run_cli(
        "query",
        "-m",
        "headcount",
        "-d",
        "tier",
        "--semantic-model",
        str(model),
        "--database",
        str(tiny_db),
        "--json",
        home=chatter_home,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["steps"][0]["rows"] == [
        {"tier": "basic", "headcount": 2},
        {"tier": "pro", "headcount": 2},
    ]


def test_demo_writes_and_refuses_to_overwrite(tmp_path: Path, chatter_home: Path) -> None:
    target = tmp_path / "d.duckdb"
    out = run_cli("demo", "--users", "2000", "--seed", "3", "--out", str(target), home=chatter_home)
    assert out.returncode == 0, out.stderr
    assert "2,000 users" in out.stdout
    before = target.read_bytes()
    again = run_cli("demo", "--users", "2000", "--out", str(target), home=chatter_home)
    assert again.returncode == 2 and "--force" in again.stderr
    assert target.read_bytes() == before
    forced = run_cli("demo", "--users", "1000", "--out", str(target), "--force", home=chatter_home)
    assert forced.returncode == 0


def test_templates_lists_the_contract_steps(chatter_home: Path) -> None:
    out = run_cli("templates", "--json", home=chatter_home)
    assert out.returncode == 0
    steps = {t["name"]: [s["id"] for s in t["steps"]] for t in json.loads(out.stdout)}
    assert steps == {
        "conversion_deep_dive": [
            "baseline_conversion",
            "industry_breakdown",
            "cohort_analysis",
            "statistical_validation",
            "insight_synthesis",
        ],
        "feature_usage_deep_dive": [
            "feature_adoption",
            "power_user_analysis",
            "usage_correlation",
            "churn_relationship",
            "feature_insights",
        ],
        "revenue_optimization": [
            "revenue_baseline",
            "growth_trends",
            "ltv_analysis",
            "expansion_opportunities",
            "revenue_insights",
        ],
    }
    human = run_cli("templates", home=chatter_home)
    assert "conversion_deep_dive" in human.stdout and "statistical_validation" in human.stdout
