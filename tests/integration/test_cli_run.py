"""`chatter run` and the Python API as users call them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from synthetic import make_dataset

import chatter

pytestmark = pytest.mark.integration


def chatter_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHATTER_HOME": str(home), "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "chatter.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_run_json_is_the_contract_document(demo_db: Path, chatter_home: Path) -> None:
    out = chatter_cli(
        "run", "conversion_deep_dive", "--database", str(demo_db), "--json", home=chatter_home
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["workflow"] == "conversion_deep_dive" and doc["status"] == "completed"
    assert any("fintech" in i["text"] for i in doc["insights"])


@pytest.mark.slow
def test_run_prints_a_report_and_writes_charts(
    demo_db: Path, chatter_home: Path, tmp_path: Path
) -> None:
    charts = tmp_path / "charts"
    out = chatter_cli(
        "run",
        "revenue_optimization",
        "--database",
        str(demo_db),
        "--charts",
        str(charts),
        home=chatter_home,
    )
    assert out.returncode == 0, out.stderr
    assert "revenue_optimization" in out.stdout and "Insights" in out.stdout
    assert "Findings" in out.stdout
    assert (charts / "revenue_baseline.svg").exists() and (charts / "revenue_baseline.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "conversion_deep_dve"), "Did you mean 'conversion_deep_dive'"),
        (("run", "conversion_deep_dive", "--customizations", "{not json"), "valid JSON"),
        (
            ("run", "conversion_deep_dive", "--customizations", '{"steps": {"nope": {}}}'),
            "Unknown step 'nope'",
        ),
        (
            (
                "run",
                "conversion_deep_dive",
                "--customizations",
                '{"steps": {"statistical_validation": {"parameters": {"dimensions": ["industy"]}}}}',
            ),
            "Did you mean 'industry'",
        ),
        (
            ("run", "conversion_deep_dive", "--customizations", "@/nonexistent.json"),
            "readable file",
        ),
    ],
)
def test_run_bad_input_exits_2(
    args: tuple[str, ...], message: str, demo_db: Path, chatter_home: Path
) -> None:
    out = run_cli(*args, "--database", str(demo_db), home=chatter_home)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert message in out.stderr and "Traceback" not in out.stderr


def test_customizations_from_a_file(demo_db: Path, chatter_home: Path, tmp_path: Path) -> None:
    custom = tmp_path / "c.json"
    custom.write_text(json.dumps({"steps": {"cohort_analysis": {"enabled": False}}}))
    out = run_cli(
        "run",
        "conversion_deep_dive",
        "--customizations",
        f"@{custom}",
        "--database",
        str(demo_db),
        "--json",
        home=chatter_home,
    )
    doc = json.loads(out.stdout)
    cohort = next(s for s in doc["steps"] if s["id"] == "cohort_analysis")
    assert cohort["status"] == "skipped" and cohort["error"] == "disabled by customization"


def test_null_data_reports_no_significant_differences(tmp_path: Path) -> None:
    db = make_dataset(tmp_path / "null.duckdb", seed=2, effects=False)
    result = chatter.run_workflow("conversion_deep_dive", database=db)
    assert result.status == "completed"
    assert not any(f.significant for f in result.findings)
    assert len(result.insights) >= 1
    assert any("no" in i.text.lower() and "significant" in i.text.lower() for i in result.insights)


def test_python_api(demo_db: Path) -> None:
    names = [t["name"] for t in chatter.list_templates()]
    assert names == ["conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization"]
    graph = chatter.build_graph("revenue_optimization")
    state = graph.invoke({}, context=chatter.Context(database=demo_db))
    assert state["result"]["status"] == "completed"
    assert state["result"]["insights"]
    result = chatter.run_workflow("revenue_optimization", database=demo_db, user="alice")
    assert result.model_dump()["workflow"] == "revenue_optimization"
