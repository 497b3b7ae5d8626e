"""Degenerate and hostile inputs: every test returns ``testable=False`` with a reason, never
raises, and no float of any result is NaN or infinite (checked by hand and by hypothesis).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chatter.tools.stats import (
    GroupStats,
    TestResult,
    adjust_p_values,
    adjust_results,
    anova_test,
    chi_square_test,
    correlation_pairs,
    fisher_exact_test,
    kruskal_wallis_test,
    level_vs_rest_test,
    mann_kendall_test,
    mann_whitney_test,
    ols_trend_test,
    pearson_from_r,
    pearson_test,
    spearman_test,
    two_proportion_test,
    welch_t_test,
)

NAN, INF = float("nan"), float("inf")


def floats(value: Any) -> list[float]:
    """Every float inside a dumped result (fields, estimates, nested checks)."""
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in floats(v)]
    return []


def assert_clean(result: TestResult) -> None:
    """The contract every result keeps, testable or not."""
    assert isinstance(result, TestResult)
    dumped = result.model_dump()
    assert all(math.isfinite(f) for f in floats(dumped)), dumped
    if result.testable:
        assert result.reason is None
        assert result.p_value is not None and 0.0 <= result.p_value <= 1.0
    else:
        assert result.reason, "a not-testable result says why"
        assert not result.reason.startswith("internal error"), result.reason
    result.model_dump_json()  # serialisable as a finding


def g(n: int, mean: float = 1.0, variance: float = 1.0) -> GroupStats:
    return GroupStats(n=n, mean=mean, variance=variance)


ONE_TO_NINE = list(range(1, 10))
DEGENERATE: list[tuple[str, Callable[..., TestResult], tuple[Any, ...], str]] = [
    ("one level", chi_square_test, ([[10, 20]], ["north"]), "at least 2"),
    ("every user converted", chi_square_test, ([[10, 0], [20, 0]], ["a", "b"]), "does not vary"),
    ("all rows empty", chi_square_test, ([[0, 0], [0, 0]], ["a", "b"]), "at least 2"),
    ("NaN count", chi_square_test, ([[NAN, 1], [2, 3]], ["a", "b"]), "NaN"),
    ("negative count", chi_square_test, ([[-1, 5], [3, 4]], ["a", "b"]), "negative"),
    ("ragged table", chi_square_test, ([[1, 2], [3]], ["a", "b"]), "rectangular"),
    ("labels mismatch", chi_square_test, ([[1, 2], [3, 4]], ["a"]), "labels"),
    ("empty table", chi_square_test, ([], []), "non-empty"),
    ("duplicate labels", chi_square_test, ([[1, 2], [3, 4]], ["a", "a"]), "distinct"),
    ("overflow", chi_square_test, ([[1e300, 1e300], [1e300, 1]], ["a", "b"]), "not finite"),
    ("underflow", chi_square_test, ([[5e-324, 0], [0, 5e-324]], ["a", "b"]), "too small"),
    ("empty group", two_proportion_test, (0, 0, 5, 10), "no observations"),
    ("more successes than n", two_proportion_test, (11, 10, 5, 10), "exceed"),
    ("negative", two_proportion_test, (-1, 10, 5, 10), "negative"),
    ("NaN", two_proportion_test, (NAN, 10, 5, 10), "finite"),
    ("every user converted", two_proportion_test, (10, 10, 20, 20), "does not vary"),
    ("nobody converted", two_proportion_test, (0, 10, 0, 20), "does not vary"),
    ("fractional count", two_proportion_test, (2.5, 10, 5, 10), "whole"),
    ("huge count", two_proportion_test, (1, 2**60, 5, 10), "too large"),
    ("empty group", fisher_exact_test, (0, 10, 0, 0), "no observations"),
    ("every user converted", fisher_exact_test, (3, 3, 4, 4), "does not vary"),
    ("too large for exact", fisher_exact_test, (3, 2**40, 2, 2**40), "too large"),
    ("every user converted", level_vs_rest_test, (3, 3, 4, 4), "does not vary"),
    ("inf", level_vs_rest_test, (INF, 3, 4, 4), "finite"),
    ("group of one", welch_t_test, (g(1), g(10)), "at least 2"),
    ("zero variance", welch_t_test, (g(5, 1, 0), g(5, 2, 0)), "zero variance"),
    ("NaN mean", welch_t_test, (g(5, NAN), g(5)), "non-finite"),
    ("negative variance", welch_t_test, (g(5, 1, -1), g(5)), "negative"),
    ("same labels", welch_t_test, (g(5), g(5), ("x", "x")), "distinct"),
    ("overflow", welch_t_test, (g(5, 1e308, 1), g(5, -1e308, 1)), "not finite"),
    ("empty group", mann_whitney_test, ([], [1, 2]), "at least 1"),
    ("NaN", mann_whitney_test, ([1, NAN], [1, 2]), "NaN"),
    ("all identical", mann_whitney_test, ([3, 3], [3, 3, 3]), "identical"),
    ("not 1-D", mann_whitney_test, ([[1, 2]], [1, 2]), "one-dimensional"),
    ("not numeric", mann_whitney_test, (["a", "b"], [1, 2]), "numeric"),
    ("one group", anova_test, ({"gold": g(5)},), "at least 2"),
    ("group of one", anova_test, ({"a": g(5), "b": g(1)},), "at least 2"),
    ("no variance", anova_test, ({"a": g(5, 1, 0), "b": g(5, 2, 0)},), "no variation"),
    ("NaN variance", anova_test, ({"a": g(5, 1, NAN), "b": g(5)},), "non-finite"),
    ("one group", kruskal_wallis_test, ({"gold": [1, 2, 3]},), "at least 2"),
    ("empty group", kruskal_wallis_test, ({"a": [1, 2], "b": []},), "at least 1"),
    ("all identical", kruskal_wallis_test, ({"a": [1, 1], "b": [1]},), "identical"),
    ("inf", kruskal_wallis_test, ({"a": [1, INF], "b": [1, 2]},), "NaN or infinite"),
    ("two points", pearson_test, ([1, 2], [3, 4]), "at least 3"),
    ("length mismatch", pearson_test, ([1, 2, 3], [1, 2, 3, 4]), "length"),
    ("constant", pearson_test, ([1, 1, 1, 1], [1, 2, 3, 4]), "constant"),
    ("NaN", pearson_test, ([1, 2, NAN], [1, 2, 3]), "NaN"),
    ("two points", spearman_test, ([1, 2], [3, 4]), "at least 3"),
    ("constant", spearman_test, ([1, 2, 3, 4], [5, 5, 5, 5]), "constant"),
    ("inf", spearman_test, ([1, 2, INF], [1, 2, 3]), "infinite"),
    ("r out of range", pearson_from_r, (1.5, 10), "[-1, 1]"),
    ("r NaN", pearson_from_r, (NAN, 10), "[-1, 1]"),
    ("n too small", pearson_from_r, (0.5, 2), "at least 3"),
    ("n negative", pearson_from_r, (0.5, -4), "negative"),
    ("two points", ols_trend_test, ([1, 2],), "at least 3"),
    ("constant y", ols_trend_test, ([4, 4, 4, 4],), "constant"),
    ("constant x", ols_trend_test, ([1, 2, 3], [5, 5, 5]), "x does not vary"),
    ("length mismatch", ols_trend_test, ([1, 2, 3], [1, 2]), "at least 3"),
    ("NaN", ols_trend_test, ([1, NAN, 3],), "NaN"),
    ("two points", mann_kendall_test, ([1, 2],), "at least 3"),
    ("constant", mann_kendall_test, ([7, 7, 7, 7, 7],), "constant"),
    ("inf", mann_kendall_test, ([1, INF, 3],), "infinite"),
]


@pytest.mark.parametrize(
    ("case", "function", "args", "reason"),
    DEGENERATE,
    ids=[f"{f.__name__}: {case}" for case, f, _, _ in DEGENERATE],
)
def test_degenerate_inputs_are_not_testable(
    case: str, function: Callable[..., TestResult], args: tuple[Any, ...], reason: str
) -> None:
    result = function(*args)
    assert_clean(result)
    assert not result.testable, case
    assert reason in (result.reason or ""), result.reason


def test_not_testable_results_keep_their_counts() -> None:
    result = chi_square_test([[10, 0], [20, 0]], ["north", "south"])
    assert (result.n, result.n_per_group) == (30, {"north": 10, "south": 20})
    assert welch_t_test(g(1), g(10), ("gold", "rest")).n_per_group == {"gold": 1, "rest": 10}


def test_empty_levels_are_dropped_with_a_warning() -> None:
    result = chi_square_test([[10, 30], [0, 0], [25, 20]], ["north", "south", "east"])
    assert result.testable and result.df == 1
    assert any("south" in w for w in result.warnings)
    assert result.n_per_group["south"] == 0


def test_small_expected_counts_are_flagged() -> None:
    result = chi_square_test([[1, 30], [2, 40], [3, 50]], ["north", "south", "east"])
    assert result.testable and not result.assumptions[0].passed and result.warnings
    choice = level_vs_rest_test(1, 31, 5, 90, label="north")
    assert choice.test == "fisher_exact"
    assert "Fisher" in choice.assumptions[0].detail


def test_zero_and_infinite_odds_ratios_are_none_with_a_warning() -> None:
    for args in [(0, 10, 5, 10), (10, 10, 5, 10), (0, 1000, 700, 1200)]:  # last: large, Woolf
        result = fisher_exact_test(*args)
        assert result.testable and result.effect_size is None and result.warnings
        assert_clean(result)
    woolf = fisher_exact_test(0, 1000, 700, 1200)
    assert (woolf.ci_low, woolf.ci_high) == (None, None)  # undefined with a zero cell


def test_huge_two_by_two_tables_get_the_z_test() -> None:
    """Expected counts are computed in floats, not as an int64 product that wraps around to
    negative counts: a table of 3 * 2**40 observations gets the z-test, not the exact test
    (which refuses tables that large)."""
    result = level_vs_rest_test(2**39, 2**40, 2**39, 2**41, label="north")
    assert result.testable and result.test == "two_proportion_z"
    assert result.assumptions[1].passed
    assert_clean(result)


def test_correlation_pairs_isolate_bad_columns() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(50, 4))
    matrix[3, 1] = NAN
    matrix[:, 2] = 1.0
    pairs = {(a, b): r for a, b, r in correlation_pairs(matrix, ["w", "x", "y", "z"])}
    assert pairs[("w", "z")].testable
    assert "NaN" in (pairs[("w", "x")].reason or "")
    assert "constant" in (pairs[("y", "z")].reason or "")
    for result in pairs.values():
        assert_clean(result)


@pytest.mark.parametrize(
    ("matrix", "names", "method", "reason"),
    [
        (np.ones((2, 3)), ["a", "b", "c"], "spearman", "at least 3"),
        (np.ones((5, 3)), ["a", "b"], "spearman", "does not match"),
        (np.ones(5), ["a", "b"], "pearson", "does not match"),
        (np.arange(10.0).reshape(5, 2), ["a", "b"], "kendall", "unknown method"),
    ],
)
def test_correlation_pairs_report_unusable_matrices(
    matrix: np.ndarray, names: list[str], method: str, reason: str
) -> None:
    pairs = correlation_pairs(matrix, names, method=method)  # type: ignore[arg-type]
    assert len(pairs) == len(names) * (len(names) - 1) // 2
    for _, _, result in pairs:
        assert not result.testable and reason in (result.reason or "")
    assert correlation_pairs(np.ones((5, 1)), ["only"]) == []


def test_adjust_p_values_is_total_and_conservative() -> None:
    assert adjust_p_values([]) == []
    assert adjust_p_values([NAN, 0.01]) == [1.0, 0.02]
    assert adjust_p_values([-0.5, 2.0], method="holm") == [0.0, 1.0]


def test_adjust_results_skips_not_testable() -> None:
    results = [
        two_proportion_test(40, 100, 20, 100),
        two_proportion_test(10, 10, 20, 20),  # not testable
        two_proportion_test(21, 100, 20, 100),
    ]
    adjusted = adjust_results(results)
    assert adjusted[0].significant is True and adjusted[2].significant is False
    assert adjusted[1].p_adjusted is None and adjusted[1].significant is None
    assert adjusted[0].p_adjusted == pytest.approx(2 * (results[0].p_value or 0))


def test_an_unexpected_failure_becomes_an_internal_error_result() -> None:
    result = welch_t_test("not stats", g(5))  # type: ignore[arg-type]
    assert not result.testable and (result.reason or "").startswith("internal error")


def test_the_model_itself_refuses_nan_and_inf() -> None:
    result = TestResult(test="x", p_value=NAN, ci_high=INF, estimates={"a": 1.0, "b": -INF})
    assert (result.p_value, result.ci_high, result.estimates) == (None, None, {"a": 1.0})


# --- hypothesis: random, hostile inputs never raise and never leak NaN/inf --------------------

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-5, max_value=10_000),
    st.sampled_from([0, 1, 2**53, 2**53 + 2, 1e300, -1e300, 5e-324]),
)
counts = st.one_of(st.integers(min_value=-3, max_value=3_000), numbers)
samples = st.lists(numbers, max_size=25)
labels = st.sampled_from(["north", "south", "east", "west", "gold", "rest", ""])
group_stats = st.builds(GroupStats, n=st.integers(0, 10**7), mean=numbers, variance=numbers)
# A deeper run: STATS_FUZZ_EXAMPLES=3000 pytest tests/unit/test_stats_degenerate.py
FUZZ = settings(
    max_examples=int(os.environ.get("STATS_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.lists(st.lists(counts, min_size=0, max_size=4), max_size=5), st.lists(labels, max_size=5))
def test_fuzz_chi_square(table: list[list[Any]], rows: list[str]) -> None:
    assert_clean(
        chi_square_test(
            table, rows, ("yes", "no", "maybe", "never")[: len(table[0]) if table else 2]
        )
    )


@FUZZ
@given(counts, counts, counts, counts, labels)
def test_fuzz_level_vs_rest_tests(s: Any, n: Any, s_rest: Any, n_rest: Any, label: str) -> None:
    for function in (two_proportion_test, fisher_exact_test, level_vs_rest_test):
        assert_clean(function(s, n, s_rest, n_rest, label=label))


@FUZZ
@given(group_stats, group_stats)
def test_fuzz_welch(a: GroupStats, b: GroupStats) -> None:
    assert_clean(welch_t_test(a, b, ("gold", "rest")))


@FUZZ
@given(st.dictionaries(labels, group_stats, max_size=4))
def test_fuzz_anova(groups: dict[str, GroupStats]) -> None:
    assert_clean(anova_test(groups))


@FUZZ
@given(samples, samples)
def test_fuzz_rank_and_correlation_tests(x: list[Any], y: list[Any]) -> None:
    assert_clean(mann_whitney_test(x, y))
    assert_clean(kruskal_wallis_test({"a": x, "b": y}))
    assert_clean(pearson_test(x, y))
    assert_clean(spearman_test(x, y))
    assert_clean(ols_trend_test(x, y))


@FUZZ
@given(numbers, counts)
def test_fuzz_pearson_from_r(r: Any, n: Any) -> None:
    assert_clean(pearson_from_r(r, n))


@FUZZ
@given(samples, st.booleans())
def test_fuzz_trend(y: list[Any], continuity: bool) -> None:
    assert_clean(ols_trend_test(y))
    assert_clean(mann_kendall_test(y, continuity=continuity))


@FUZZ
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=12),
        elements=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(0, 3)),
    ),
    st.sampled_from(["pearson", "spearman"]),
    st.integers(-1, 1),
)
def test_fuzz_correlation_pairs(matrix: np.ndarray, method: str, extra_names: int) -> None:
    names = [f"c{j}" for j in range(matrix.shape[1] + extra_names)]
    for _, _, result in correlation_pairs(matrix, names, method=method):  # type: ignore[arg-type]
        assert_clean(result)


@FUZZ
@given(st.lists(numbers, max_size=30), st.sampled_from(["bh", "holm"]))
def test_fuzz_adjust_p_values(p: list[Any], method: str) -> None:
    adjusted = adjust_p_values(p, method=method)  # type: ignore[arg-type]
    assert len(adjusted) == len(p)
    assert all(0.0 <= q <= 1.0 for q in adjusted)
