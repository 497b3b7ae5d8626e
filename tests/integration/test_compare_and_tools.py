"""Comparison, roll-up with one correction, and the LangChain tool wrappers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest
from synthetic import make_dataset

from chatter.context import Context
from chatter.errors import BadInputError, UnknownDimensionError
from chatter.result import Finding
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.agent_tools import langchain_tools
from chatter.tools.analyses.comparison import compare_filters, roll_up
from chatter.tools.stats import correct_findings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path = make_dataset(tmp_path_factory.mktemp("cmp") / "d.duckdb", seed=4, effects=True)
    with Warehouse(Engine(path), default_model()) as warehouse:
        yield warehouse


def finding(p: float | None, testable: bool = True) -> Finding:
    return Finding(metric="m", test="t", p_value=p, testable=testable)


@pytest.mark.parametrize("method", ["bh", "holm"])
def test_correction_equals_statsmodels_and_skips_untestable(method: str) -> None:
    ps = [0.001, 0.04, 0.03, 0.2, 0.0004, 0.049, 0.9]
    findings = [finding(p) for p in ps] + [finding(None, testable=False)]
    corrected = correct_findings(findings, alpha=0.05, method=method)  # type: ignore[arg-type]
    reject, expected, *_ = multipletests(
        ps, alpha=0.05, method="fdr_bh" if method == "bh" else "holm"
    )
    for f, q, r in zip(corrected, expected, reject, strict=False):
        assert f.p_adjusted == pytest.approx(q, rel=1e-12)
        assert f.significant == bool(r) == (q < 0.05)
    assert corrected[-1].p_adjusted is None and not corrected[-1].significant


def test_alpha_is_customizable() -> None:
    loose = correct_findings([finding(0.03), finding(0.2)], alpha=0.1)
    strict = correct_findings([finding(0.03), finding(0.2)], alpha=0.01)
    assert [f.significant for f in loose] == [True, False]
    assert [f.significant for f in strict] == [False, False]
    with pytest.raises(ValueError, match="alpha"):
        correct_findings([finding(0.03)], alpha=1.5)


def test_roll_up_corrects_across_steps(wh: Warehouse) -> None:
    results = {
        "churn": analyses.churn_relationship(wh),
        "conversion": analyses.segment_rate_tests(wh, dimensions=["industry"]),
    }
    findings, summary = roll_up(results)
    assert {f.source_step for f in findings} == {"churn", "conversion"}
    all_p = [f.p_value for r in results.values() for f in r.findings]
    _, expected, *_ = multipletests(all_p, method="fdr_bh")
    assert [f.p_adjusted for f in findings] == pytest.approx(list(expected), rel=1e-12)
    assert summary["tests"] == len(all_p) and summary["significant"] >= 2


def test_compare_filters_tests_each_row(wh: Warehouse) -> None:
    result = compare_filters(
        wh,
        {"measures": ["conversion_rate"], "dimensions": ["industry"]},
        filters_a=[{"field": "acquisition_channel", "op": "=", "value": "radio"}],
        filters_b=[{"field": "acquisition_channel", "op": "!=", "value": "radio"}],
        labels=("radio", "other"),
    )
    assert {r["industry"] for r in result.rows} == {"aerospace", "agritech", "civic", "dental"}
    row = next(r for r in result.rows if r["industry"] == "dental")
    assert row["conversion_rate_difference"] == pytest.approx(
        row["conversion_rate_radio"] - row["conversion_rate_other"]
    )
    test = next(f for f in result.findings if f.segment == "dental")
    a = wh.query(
        {
            "measures": ["converted_users", "users"],
            "filters": [
                {"field": "industry", "op": "=", "value": "dental"},
                {"field": "acquisition_channel", "op": "=", "value": "radio"},
            ],
        }
    ).rows[0]
    b = wh.query(
        {
            "measures": ["converted_users", "users"],
            "filters": [
                {"field": "industry", "op": "=", "value": "dental"},
                {"field": "acquisition_channel", "op": "!=", "value": "radio"},
            ],
        }
    ).rows[0]
    _, p = proportions_ztest([a[0], b[0]], [a[1], b[1]])
    assert test.p_value == pytest.approx(p, rel=1e-9)
    assert len(result.sql) == 2


def test_unknown_names_in_analysis_parameters_are_bad_input(wh: Warehouse) -> None:
    with pytest.raises(UnknownDimensionError, match="Did you mean 'industry'"):
        analyses.segment_rate_tests(wh, dimensions=["industy"])
    with pytest.raises(BadInputError):
        analyses.adoption_by_segment(wh, segment_dimension="'; DROP TABLE users; --")
    with pytest.raises(BadInputError):
        analyses.power_users(wh, feature_dimension="nope")


def test_langchain_tools_have_typed_schemas_and_run(wh: Warehouse) -> None:
    tools = {t.name: t for t in langchain_tools(Context(), wh)}
    assert {
        "semantic_query",
        "cohort_analysis",
        "adoption_by_segment",
        "power_users",
        "usage_correlation",
        "churn_relationship",
        "revenue_growth",
        "ltv_by_segment",
        "expansion_opportunities",
        "compare_filters",
        "level_vs_rest_test",
        "chi_square_test",
    } <= set(tools)
    for tool in tools.values():
        assert tool.description and tool.args_schema is not None
    out = tools["semantic_query"].invoke({"measures": ["users"], "dimensions": ["plan_type"]})
    assert out["rows"] and out["sql"].startswith("SELECT")
    churn = tools["churn_relationship"].invoke({})
    assert churn["analysis"] == "churn_relationship" and churn["findings"]
    test = tools["level_vs_rest_test"].invoke(
        {"successes": 30, "n": 100, "successes_rest": 60, "n_rest": 400}
    )
    assert test["test"] == "two_proportion_z" and 0 < test["p_value"] < 1
    with pytest.raises(Exception, match="top_share"):
        tools["power_users"].invoke({"top_share": 3})
