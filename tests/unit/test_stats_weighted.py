"""Correlations over a weighted joint distribution equal scipy on the expanded observations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from chatter.tools.stats import weighted_correlation_pairs


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_weighted_pairs_equal_scipy_on_expanded_rows(seed: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    raw = rng.poisson([0.5, 2.0, 1.0], size=(3000, 3))
    raw[:, 2] += raw[:, 0]  # a real correlation, with many ties
    rows, weights = np.unique(raw, axis=0, return_counts=True)
    pairs = weighted_correlation_pairs(rows, weights, ["a", "b", "c"], method)  # type: ignore[arg-type]
    reference = sps.spearmanr if method == "spearman" else sps.pearsonr
    for (a, b, result), (i, j) in zip(pairs, [(0, 1), (0, 2), (1, 2)], strict=True):
        expected = reference(raw[:, i], raw[:, j])
        assert (a, b) == ("abc"[i], "abc"[j])
        assert math.isclose(result.effect_size, expected.statistic, rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(result.p_value, expected.pvalue, rel_tol=1e-6, abs_tol=1e-300)
        assert result.n == 3000


def test_constant_columns_and_bad_shapes_are_not_testable() -> None:
    rows = np.array([[1, 0], [2, 0], [3, 0]])
    ((_, _, result),) = weighted_correlation_pairs(rows, np.array([1, 2, 3]), ["x", "y"])
    assert not result.testable and "same value" in (result.reason or "")
    ((_, _, bad),) = weighted_correlation_pairs(rows, np.array([1, 2]), ["x", "y"])
    assert not bad.testable
