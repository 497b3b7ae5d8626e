"""Comparison, roll-up with one correction, and the LangChain tool wrappers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest
from synthetic import make_dataset

from chatter.agent_tools import langchain_tools
from chatter.context import Context
from chatter.errors import BadInputError, UnknownDimensionError
from chatter.result import Finding
from chatter.semantic.cache import ResultCache
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.services import Services
from chatter.tools import analyses
from chatter.tools.analyses.comparison import compare_filters
from chatter.tools.registry import TOOLS
from chatter.tools.stats import correct_findings
from chatter.workflow.runs import run_workflow
from chatter.workflow.template import StepSpec, Template

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("cmp") / "d.duckdb", seed=4, effects=True)


@pytest.fixture(scope="module")
def wh(dataset: Path) -> Iterator[Warehouse]:
    with Warehouse(Engine(dataset), default_model()) as warehouse:
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


def test_the_roll_up_step_shows_the_runs_one_correction(dataset: Path, services: Services) -> None:
    """The production roll-up, in a real run: its table holds the same adjusted p-values as the
    run's findings, one Benjamini-Hochberg family over every step's tests."""
    template = Template(
        name="roll_up_check",
        description="Two testing steps and a roll-up of both.",
        steps=(
            StepSpec(id="churn", type="statistical_test", tool="churn_relationship"),
            StepSpec(
                id="conversion",
                type="statistical_test",
                tool="segment_rate_tests",
                parameters={"dimensions": ["industry"]},
            ),
            StepSpec(
                id="roll", type="aggregation", tool="roll_up", depends_on=("churn", "conversion")
            ),
        ),
    )
    result = run_workflow(services, template, context=Context(database=dataset))
    assert result.status == "completed"
    assert {f.source_step for f in result.findings} == {"churn", "conversion"}
    # Descriptive findings (the alike levels' chi-square) are shown outside the family.
    family = [f for f in result.findings if f.testable and not f.descriptive]
    _, expected, *_ = multipletests([f.p_value for f in family], method="fdr_bh")
    assert [f.p_adjusted for f in family] == pytest.approx(list(expected), rel=1e-12)
    roll = next(s for s in result.steps if s.id == "roll")
    rolled = [r["p_adjusted"] for r in roll.rows if r["p_adjusted"] is not None]
    assert rolled == pytest.approx(list(expected), rel=1e-12)
    assert roll.summary["tests"] == len(family) and roll.summary["significant"] >= 2


def test_a_step_cannot_depend_on_one_that_reads_the_run(services: Services) -> None:
    template = Template(
        name="reader_first",
        description="A testing step after the roll-up: it would escape the run's correction.",
        steps=(
            StepSpec(id="roll", type="aggregation", tool="roll_up"),
            StepSpec(
                id="churn", type="statistical_test", tool="churn_relationship", depends_on=("roll",)
            ),
        ),
    )
    with pytest.raises(BadInputError, match="reads the run"):
        run_workflow(services, template, run_id="reader-first")
    assert services.runs.get("reader-first") is None, "refused before anything was recorded"


def test_compare_filters_tests_each_row(wh: Warehouse) -> None:
    result = compare_filters(
        wh,
        analyses.CompareParams(
            query=SemanticQuery.parse(
                {"measures": ["conversion_rate"], "dimensions": ["industry"]}
            ),
            filters_a=({"field": "acquisition_channel", "op": "=", "value": "radio"},),
            filters_b=({"field": "acquisition_channel", "op": "!=", "value": "radio"},),
            labels=("radio", "other"),
        ),
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
        analyses.segment_rate_tests(wh, analyses.SegmentTestParams(dimensions=["industy"]))
    with pytest.raises(BadInputError):
        analyses.adoption_by_segment(
            wh, analyses.AdoptionParams(segment_dimension="'; DROP TABLE users; --")
        )
    with pytest.raises(BadInputError):
        analyses.power_users(wh, analyses.PowerUserParams(feature_dimension="nope"))


def test_agent_tools_are_the_registry_tools_with_their_one_parameter_model(
    dataset: Path, services: Services, tmp_path: Path
) -> None:
    with Warehouse(Engine(dataset), default_model(), cache=ResultCache(tmp_path / "c")) as cached:
        tools = {t.name: t for t in langchain_tools(services, Context(), cached)}
        assert set(tools) == {n for n, spec in TOOLS.items() if spec.reads != "run"}
        for name, tool in tools.items():
            assert tool.description and tool.args_schema is TOOLS[name].params
        out = tools["query"].invoke({"measures": ["users"], "dimensions": ["plan_type"]})
        assert out["rows"] and out["sql"].startswith("SELECT")
        churn = tools["churn_relationship"].invoke({})
        assert churn["tool"] == "churn_relationship" and churn["findings"] and not churn["cached"]
        assert tools["churn_relationship"].invoke({})["cached"], "agent calls read the cache"
        test = tools["level_vs_rest_test"].invoke(
            {"successes": 30, "n": 100, "successes_rest": 60, "n_rest": 400}
        )
        assert test["findings"][0]["test"] == "two_proportion_z"
        assert 0 < test["findings"][0]["p_value"] < 1
        with pytest.raises(Exception, match="top_share"):
            tools["power_users"].invoke({"top_share": 3})
        with pytest.raises(UnknownDimensionError, match="Did you mean 'plan_type'"):
            tools["adoption_by_segment"].invoke({"segment_dimension": "plan_typ"})
