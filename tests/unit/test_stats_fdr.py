"""Simulation: Benjamini-Hochberg keeps the false discovery rate at alpha, Holm the family-wise
error rate, over many families of tests (independent and positively correlated statistics).

All p-values are drawn at once with numpy; each family is then corrected as an analysis run is.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from chatter.tools.stats import adjust_p_values

ALPHA = 0.05
FAMILIES, TESTS = 2000, 50


def simulate(true_effects: int, correlation: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """p-values (families x tests) and which tests are true alternatives (the first ones)."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(FAMILIES, 1))
    z = np.sqrt(correlation) * shared + np.sqrt(1 - correlation) * rng.normal(
        size=(FAMILIES, TESTS)
    )
    is_alternative = np.zeros(TESTS, dtype=bool)
    is_alternative[:true_effects] = True
    z[:, is_alternative] += 3.0
    return 2 * stats.norm.sf(np.abs(z)), is_alternative


def rejections(p: np.ndarray, method: str) -> np.ndarray:
    adjusted = np.array([adjust_p_values(row, method=method) for row in p.tolist()])  # type: ignore[arg-type]
    return adjusted < ALPHA


@pytest.mark.parametrize("correlation", [0.0, 0.5])
@pytest.mark.parametrize("true_effects", [0, 10, 25])
def test_bh_controls_the_false_discovery_rate(true_effects: int, correlation: float) -> None:
    p, is_alternative = simulate(true_effects, correlation, seed=true_effects + 7)
    rejected = rejections(p, "bh")
    false = rejected[:, ~is_alternative].sum(axis=1)
    fdp = false / np.maximum(rejected.sum(axis=1), 1)
    margin = 3 * fdp.std(ddof=1) / np.sqrt(FAMILIES) + 1e-3
    assert fdp.mean() <= ALPHA + margin, (fdp.mean(), margin)
    if true_effects:  # and it still finds things
        assert rejected[:, is_alternative].mean() > 0.3


@pytest.mark.parametrize("correlation", [0.0, 0.5])
@pytest.mark.parametrize("true_effects", [0, 10])
def test_holm_controls_the_family_wise_error_rate(true_effects: int, correlation: float) -> None:
    p, is_alternative = simulate(true_effects, correlation, seed=true_effects + 99)
    any_false = rejections(p, "holm")[:, ~is_alternative].any(axis=1)
    margin = 3 * np.sqrt(ALPHA * (1 - ALPHA) / FAMILIES)
    assert any_false.mean() <= ALPHA + margin, any_false.mean()


def test_bh_finds_more_than_holm_and_holm_more_than_nothing() -> None:
    p, is_alternative = simulate(10, 0.0, seed=3)
    bh, holm = rejections(p, "bh"), rejections(p, "holm")
    assert (holm <= bh).all()  # BH's adjusted p-values never exceed Holm's
    assert bh[:, is_alternative].mean() > holm[:, is_alternative].mean() > 0.1
