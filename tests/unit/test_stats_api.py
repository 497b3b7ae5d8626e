"""The public surface of chatter.tools.stats: the names and signatures analyses are written
against, and the docstring examples of its modules (they run)."""

from __future__ import annotations

import doctest
import inspect
from types import ModuleType

import pytest

import chatter.tools.stats.contingency
import chatter.tools.stats.correction
import chatter.tools.stats.correlation
import chatter.tools.stats.means
import chatter.tools.stats.proportions
import chatter.tools.stats.test_result
import chatter.tools.stats.trend
from chatter.tools import stats

SIGNATURES = {
    "chi_square_test": ["counts", "row_labels", "col_labels"],
    "two_proportion_test": ["successes", "n", "successes_rest", "n_rest", "label"],
    "fisher_exact_test": ["successes", "n", "successes_rest", "n_rest", "label"],
    "level_vs_rest_test": ["successes", "n", "successes_rest", "n_rest", "label"],
    "welch_t_test": ["a", "b", "labels"],
    "mann_whitney_test": ["a", "b", "labels"],
    "anova_test": ["groups"],
    "kruskal_wallis_test": ["groups"],
    "pearson_test": ["x", "y"],
    "pearson_from_r": ["r", "n"],
    "spearman_test": ["x", "y"],
    "correlation_pairs": ["matrix", "names", "method"],
    "ols_trend_test": ["y", "x"],
    "mann_kendall_test": ["y", "continuity"],
    "adjust_p_values": ["p_values", "method"],
}


def test_every_exported_name_exists() -> None:
    assert set(SIGNATURES) | {"AssumptionCheck", "GroupStats", "TestResult"} <= set(stats.__all__)
    for name in stats.__all__:
        assert getattr(stats, name) is not None


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signatures_are_the_agreed_ones(name: str) -> None:
    parameters = list(inspect.signature(getattr(stats, name)).parameters)
    assert parameters[: len(SIGNATURES[name])] == SIGNATURES[name]


def test_result_models_keep_their_fields() -> None:
    assert {"n", "mean", "variance"} <= set(stats.GroupStats.model_fields)
    assert {"name", "passed", "detail"} <= set(stats.AssumptionCheck.model_fields)
    assert {
        "test",
        "testable",
        "reason",
        "statistic",
        "p_value",
        "df",
        "effect_size",
        "effect_size_name",
        "ci_low",
        "ci_high",
        "ci_of",
        "confidence",
        "n",
        "n_per_group",
        "estimates",
        "assumptions",
        "warnings",
    } <= set(stats.TestResult.model_fields)


MODULES = [
    chatter.tools.stats.contingency,
    chatter.tools.stats.correction,
    chatter.tools.stats.correlation,
    chatter.tools.stats.means,
    chatter.tools.stats.proportions,
    chatter.tools.stats.test_result,
    chatter.tools.stats.trend,
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples_run(module: ModuleType) -> None:
    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
