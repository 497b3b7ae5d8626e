"""The fast tail probabilities and quantiles are scipy's distribution objects' values, bit for
bit, over the range the tests use (and the 2x2 expected counts are scipy's expected_freq); the
exact binomial test is scipy's binomtest, and its interval statsmodels' Clopper-Pearson."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import contingency
from statsmodels.stats.proportion import proportion_confint

from chatter.tools.stats.distributions import (
    binomial_two_sided_p,
    chi2_sf,
    clopper_pearson,
    normal_quantile,
    normal_sf,
    t_quantile,
    t_sf,
)
from chatter.tools.stats.proportions import _two_by_two

POINTS = [0.0, 1e-12, 0.3, 1.0, 1.959963984540054, 3.7, 8.2, 12.5, 38.0, 1e3]


@pytest.mark.parametrize("x", POINTS + [-p for p in POINTS])
def test_the_normal_tail_is_scipys(x: float) -> None:
    assert normal_sf(x) == float(stats.norm.sf(x))


@pytest.mark.parametrize("df", [1, 2, 3, 7, 30, 299])
def test_the_chi_square_tail_is_scipys(df: int) -> None:
    for x in [0.0, 1e-9, 0.5, *POINTS[2:], 1e4]:
        assert chi2_sf(x, df) == float(stats.chi2.sf(x, df)), (x, df)


@pytest.mark.parametrize("p", [0.5, 0.9, 0.95, 0.975, 0.995, 0.9995])
def test_the_normal_quantile_is_scipys(p: float) -> None:
    assert normal_quantile(p) == float(stats.norm.ppf(p))


def test_the_expected_counts_of_a_2x2_table_are_scipys() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        n, n_rest = (int(v) for v in rng.integers(1, 10**9, size=2))
        s, s_rest = int(rng.integers(0, n + 1)), int(rng.integers(0, n_rest + 1))
        table = _two_by_two(s, n, s_rest, n_rest, "level")
        assert np.array_equal(table.expected(), contingency.expected_freq(table.cells))


def _binomial_cases() -> list[tuple[int, int, float]]:
    rng = np.random.default_rng(7)
    cases = [(0, 1, 0.5), (1, 1, 0.5), (0, 40, 0.3), (40, 40, 0.3), (5, 10, 0.5), (3, 9, 1 / 3)]
    for _ in range(400):
        n = int(rng.integers(1, 10 ** int(rng.integers(1, 6))))
        cases.append((int(rng.integers(0, n + 1)), n, float(rng.uniform(0.001, 0.999))))
    return cases


def test_the_exact_binomial_test_is_scipys() -> None:
    # k == p * n, both tails, the edges of the support: scipy's binomtest, bit for bit.
    for k, n, p in _binomial_cases():
        assert binomial_two_sided_p(k, n, p) == stats.binomtest(k, n, p).pvalue, (k, n, p)


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_the_exact_interval_is_statsmodels_clopper_pearson(confidence: float) -> None:
    for k, n, _ in _binomial_cases():
        low, high = proportion_confint(k, n, alpha=round(1 - confidence, 10), method="beta")
        assert clopper_pearson(k, n, confidence) == (float(low), float(high)), (k, n)
        scipy_low, scipy_high = stats.binomtest(k, n).proportion_ci(confidence, "exact")
        # scipy root-searches to an absolute 2e-12: a tiny bound is only that close.
        assert clopper_pearson(k, n, confidence) == pytest.approx(
            (scipy_low, scipy_high), rel=1e-8, abs=1e-11
        )


@pytest.mark.parametrize("df", [1, 2, 3.5, 7, 30, 299, 1e6])
def test_the_t_tail_and_quantile_are_scipys(df: float) -> None:
    for x in [0.0, 1e-9, 0.5, *POINTS[2:], 1e4, float("inf")]:
        assert t_sf(x, df) == float(stats.t.sf(x, df)), (x, df)
        assert t_sf(-x, df) == float(stats.t.sf(-x, df)), (-x, df)
    for q in [0.5, 0.9, 0.95, 0.975, 0.995]:
        assert t_quantile(q, df) == float(stats.t.ppf(q, df)), (q, df)
