"""The fast tail probabilities and quantiles are scipy's distribution objects' values, bit for
bit, over the range the tests use (and the 2x2 expected counts are scipy's expected_freq)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import contingency

from chatter.tools.stats.distributions import chi2_sf, normal_quantile, normal_sf
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
