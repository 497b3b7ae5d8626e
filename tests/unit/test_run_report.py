"""The terminal report of a run: the correction that set its adjusted p-values, effect sizes
by name, evidence as references to what the page shows, rates as percents, and tables that fit
the console's width (the three templates on the demo: tests/integration/test_cli_run.py)."""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_text import table_rows
from rich.cells import cell_len
from rich.console import Console

from chatter import report_references, report_tables
from chatter.number_text import percent
from chatter.report_references import EFFECT_OF_TEST, effect_label
from chatter.report_tables import Cell, Column, print_table
from chatter.result import Insight, StepResult, WorkflowResult
from chatter.terminal import print_run_report
from chatter.tools.analyses.result import to_finding
from chatter.tools.insight.wording import effect_text
from chatter.tools.stats import (
    GroupStats,
    anova_test,
    chi_square_test,
    correct_findings,
    fisher_exact_test,
    kruskal_wallis_test,
    mann_kendall_test,
    mann_whitney_test,
    ols_trend_test,
    pearson_test,
    spearman_test,
    two_proportion_test,
    welch_t_test,
)
from chatter.tools.stats.rates import rate_homogeneity_test, rate_ratio_test


@pytest.mark.parametrize(("method", "name"), [("bh", "Benjamini-Hochberg"), ("holm", "Holm")])
def test_the_findings_header_names_the_correction(method: str, name: str) -> None:
    raw = [
        to_finding(two_proportion_test(hits, 1000, 200, 1000), metric="conversion_rate")
        for hits in (260, 210, 205)
    ]
    findings = correct_findings(raw, method=method)  # type: ignore[arg-type]
    assert {f.correction for f in findings} == {method}
    result = WorkflowResult(workflow="w", run_id="r", status="completed", findings=findings)
    console = Console(record=True, width=120)
    print_run_report(result, console=console)
    out = console.export_text()
    assert f"tests significant after {name})" in out, out
    other = "Holm" if method == "bh" else "Benjamini-Hochberg"
    assert other not in out


def render(result: WorkflowResult, width: int, **kwargs: Any) -> str:
    console = Console(record=True, width=width)
    print_run_report(result, console=console, **kwargs)
    return console.export_text()


def test_report_modules_doctests() -> None:
    assert doctest.testmod(report_tables).failed == 0
    assert doctest.testmod(report_references).failed == 0


def test_the_effect_name_of_each_test_is_the_one_the_test_reports() -> None:
    """The fallback mapping (for findings without an effect-size name) agrees with what each
    test in chatter.tools.stats actually reports, and covers every test."""
    rng = np.random.default_rng(3)
    a, b, c = (rng.normal(m, 1, 40) for m in (0.0, 0.4, 0.8))
    group = {
        k: GroupStats(n=len(v), mean=float(v.mean()), variance=float(v.var(ddof=1)))
        for k, v in {"a": a, "b": b, "c": c}.items()
    }
    results = [
        chi_square_test([[30, 70], [45, 55]], ["x", "y"]),
        two_proportion_test(30, 100, 45, 100),
        fisher_exact_test(3, 10, 8, 10),
        welch_t_test(group["a"], group["b"]),
        mann_whitney_test(a, b),
        anova_test(group),
        kruskal_wallis_test({"a": a, "b": b, "c": c}),
        spearman_test(a, a + b),
        pearson_test(a, a + b),
        ols_trend_test(list(np.arange(12) + rng.normal(0, 1, 12))),
        mann_kendall_test(list(np.arange(12) + rng.normal(0, 1, 12))),
        rate_ratio_test(30, 1000.0, 50, 1000.0),
        rate_homogeneity_test([30, 50, 40], [1000.0, 1000.0, 900.0], ["x", "y", "z"]),
    ]
    assert all(r.testable for r in results), [r.reason for r in results if not r.testable]
    assert {r.test for r in results} == set(EFFECT_OF_TEST)
    for r in results:
        assert EFFECT_OF_TEST[r.test] == r.effect_size_name, r.test
        unnamed = to_finding(r, metric="m").model_copy(update={"effect_size_name": None})
        assert effect_label(unnamed) == effect_text(r.effect_size_name, r.effect_size)


def _industry_result() -> WorkflowResult:
    """A level test and an omnibus test over two industries, cited by one insight."""
    levels = {"education": (320, 1000), "fintech": (130, 1000), "media": (240, 1000)}
    rows = [
        {"industry": k, "conversion_rate": s / n, "users": n, "converted_users": s}
        for k, (s, n) in levels.items()
    ]
    omnibus = to_finding(
        chi_square_test([[s, n - s] for s, n in levels.values()], list(levels)),
        metric="conversion_rate",
        dimension="industry",
    )
    fintech = to_finding(
        two_proportion_test(130, 1000, 560, 2000, label="fintech"),
        metric="conversion_rate",
        dimension="industry",
        segment="fintech",
    )
    findings = correct_findings([omnibus, fintech])
    step = StepResult(
        id="industry_breakdown",
        type="query",
        status="completed",
        columns=list(rows[0]),
        rows=rows,
    )
    insight = Insight(
        text="Fintech converts worse.", evidence=["findings[1]", "steps.industry_breakdown.rows[1]"]
    )
    return WorkflowResult(
        workflow="w",
        run_id="r",
        status="completed",
        steps=[step],
        findings=findings,
        insights=[insight],
    )


def test_evidence_reads_as_the_numbers_and_rows_the_report_shows() -> None:
    result = _industry_result()
    out = render(result, 80)
    assert "evidence: finding 2; table industry_breakdown, row fintech" in out, out
    assert "findings[" not in out and "steps." not in out
    # Finding 2 is the row numbered 2 in the findings table: the fintech level test.
    rows = table_rows(out, "Findings")
    assert [r[0] for r in rows] == ["1", "2"]
    fintech = result.findings[1]
    rates = f"{percent(fintech.estimates['rate'])} vs {percent(fintech.estimates['rate_rest'])}"
    assert "fintech vs rest" in rows[1][1] and rates == rows[1][2], rows
    assert rows[1][3] == effect_label(fintech)
    assert effect_label(fintech).startswith("Cohen's h ")
    assert effect_label(result.findings[0]).startswith("Cramér's V ")


def test_rates_read_as_percents_and_headers_as_the_models_names() -> None:
    step = StepResult(
        id="by_month",
        type="query",
        status="completed",
        columns=["month__month", "conversion_rate", "conversion_rate_rest", "mrr", "users"],
        rows=[
            {
                "month__month": "2024-01-01",
                "conversion_rate": 0.2637,
                "conversion_rate_rest": 0.2,
                "mrr": 1234.5,
                "users": 1200,
            },
        ],
    )
    result = WorkflowResult(workflow="w", run_id="r", status="completed", steps=[step])
    formats = {"conversion_rate": "percent", "mrr": "currency", "users": "number"}
    out = render(result, 120, formats=formats, database="/data/x.duckdb")
    assert "26.37%" in out and "20.00%" in out and "0.2637" not in out
    assert "__" not in out and " month " in out and "MRR" in out
    assert "Database: /data/x.duckdb" in out.splitlines()[1]


words = st.text(alphabet="abcdefghij_", min_size=1, max_size=10)


@settings(max_examples=60, deadline=None)
@given(
    width=st.sampled_from([40, 80, 120]),
    headers=st.lists(
        st.lists(words, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=14, unique=True
    ),
    data=st.data(),
)
def test_a_wide_table_is_wrapped_never_cut(width: int, headers: list[str], data: Any) -> None:
    n_rows = data.draw(st.integers(1, 4))
    values = st.one_of(
        st.integers(-(10**9), 10**9).map(lambda v: Cell(f"{v:,}", numeric=True)),
        st.lists(words, min_size=1, max_size=6).map(lambda w: Cell(" ".join(w))),
    )
    columns = [Column(h, [data.draw(values) for _ in range(n_rows)]) for h in headers]
    console = Console(record=True, width=width)
    dropped = print_table(console, columns, key=1)
    out = console.export_text()
    lines = out.splitlines()
    assert dropped == []
    assert all(cell_len(line) <= width for line in lines), out
    assert "…" not in out
    for column in columns:  # every number whole on one line, every word somewhere
        for cell in column.cells:
            if cell.numeric:
                assert any(cell.text in line for line in lines), (cell.text, out)
            else:
                assert all(w in out for w in cell.text.split())
