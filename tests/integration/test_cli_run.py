"""`chatter run` and the Python API as users call them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from report_text import table_rows
from rich.cells import cell_len
from synthetic import make_dataset

import chatter
from chatter.number_text import percent
from chatter.result import WorkflowResult
from chatter.tools.insight.wording import effect_text

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


TEMPLATES = ["conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization"]


@pytest.mark.slow
@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("template", TEMPLATES)
def test_the_report_reads_at_the_terminals_width(
    template: str, width: int, demo_db: Path, chatter_home: Path
) -> None:
    """The report of each template on the demo, at 80 and 120 columns, checked against the
    run's own JSON document: nothing past the width, nothing cut, effect sizes by name,
    evidence a reader can find, rates as percents, the database named."""
    env = {"COLUMNS": str(width)}
    shown = run_cli("run", template, "--database", str(demo_db), home=chatter_home, env=env)
    doc = run_cli("run", template, "--database", str(demo_db), "--json", home=chatter_home)
    assert shown.returncode == 0 and doc.returncode == 0, shown.stderr + doc.stderr
    out, result = shown.stdout, WorkflowResult.model_validate_json(doc.stdout)
    lines = out.splitlines()
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, too_wide
    assert "…" not in out  # wrapped or left out, never cut
    assert f"Database: {demo_db}" in out
    assert "findings[" not in out and "steps." not in out
    headers = [line for line in lines if "┃" in line]
    assert headers and not any("__" in line for line in headers)

    tested = [f for f in result.findings if f.testable and f.effect_size is not None]
    assert tested
    for f in tested:  # each effect size whole, with its name
        assert effect_text(f.effect_size_name, f.effect_size) in out, f

    # Every finding an insight cites is the table row of that number, about that level.
    numbered = {r[0]: r[1] for r in table_rows(out, "Findings")}
    if any(f.descriptive for f in result.findings):
        numbered |= {r[0]: r[1] for r in table_rows(out, "Descriptive comparisons")}
    for insight in result.insights:
        for cited in insight.evidence:
            if cited.startswith("findings["):
                index = int(cited[len("findings[") : -1])
                finding = result.findings[index]
                label = numbered[str(index + 1)]
                for name in (finding.segment, finding.subject):
                    assert name is None or name in label, (label, finding)

    for f in result.findings:  # two rates compared read as percents
        if (
            "rate" in f.estimates
            and "rate_rest" in f.estimates
            and str(f.test) == "two_proportion_z"
        ):
            assert f"{percent(f.estimates['rate'])} vs {percent(f.estimates['rate_rest'])}" in out
    for step in result.steps:  # the model's percent measure, in every table that shows it
        if "conversion_rate" in step.columns:
            for row in step.rows[:12]:
                assert f"{row['conversion_rate']:.2%}" in out
                assert f"{row['conversion_rate']:.4g} " not in out


@pytest.mark.slow
def test_the_reports_comparisons_name_what_they_compared(demo_db: Path, chatter_home: Path) -> None:
    """Power users against the rest, per feature: one row each, naming the feature, no two
    alike; and the cohort table says what its retention is a share of."""
    env = {"COLUMNS": "80"}
    features = run_cli(
        "run", "feature_usage_deep_dive", "--database", str(demo_db), home=chatter_home, env=env
    )
    doc = run_cli(
        "run", "feature_usage_deep_dive", "--database", str(demo_db), "--json", home=chatter_home
    )
    result = WorkflowResult.model_validate_json(doc.stdout)
    power = {
        str(n): f for n, f in enumerate(result.findings, start=1) if f.segment == "power users"
    }
    assert len(power) >= 2 * 8  # adoption and uses, per feature
    rows = table_rows(features.stdout, "Descriptive comparisons")
    by_number = {r[0]: r for r in rows}
    assert set(power) <= set(by_number)
    labels = [by_number[n][1] for n in power]
    assert len(set(labels)) == len(labels), labels
    for n, finding in power.items():
        assert finding.subject and finding.subject in by_number[n][1]
        assert "power users" in by_number[n][1]

    cohorts = run_cli(
        "run", "conversion_deep_dive", "--database", str(demo_db), home=chatter_home, env=env
    ).stdout
    section = cohorts[
        cohorts.index("cohort_analysis (") : cohorts.index("statistical_validation (")
    ]
    assert "retention_rate = retained_users / " in section
    assert "converted_users" in section.split("retention_rate = ")[1]
