"""The omnibus chi-square test across every level of a dimension (rows) and outcome (columns).

Inputs are counts from SQL aggregates (users per level and outcome), so the test works on the
contingency table itself and never needs the raw rows. The statistic is scipy's
``chi2_contingency`` (``correction=False``) in scipy's own arithmetic, and the p-value its
``chi2.sf`` (tests/unit/test_stats_agreement.py holds them to scipy and statsmodels): the
call itself spent more time checking its arguments (its axis and NaN policy wrapper inspects
signatures) than testing a small table, a dozen times a run. This module also decides what is
testable, drops empty levels and judges the expected counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from chatter.result import CAVEAT
from chatter.tools.stats.distributions import chi2_sf
from chatter.tools.stats.inputs import distinct_labels
from chatter.tools.stats.test_result import (
    AssumptionCheck,
    TestResult,
    Untestable,
    guarded,
    require_finite,
)

MIN_EXPECTED = 5.0


def _expected_counts_check(expected: np.ndarray) -> AssumptionCheck:
    """Cochran's rule: all expected counts >= 5, or at most 20% below 5 and none below 1."""
    small = int((expected < MIN_EXPECTED).sum())
    share = small / expected.size
    passed = small == 0 or (share <= 0.2 and bool(expected.min() >= 1.0))
    detail = (
        f"{small} of {expected.size} expected counts below 5 ({share:.0%}); "
        f"smallest {expected.min():.3g}"
    )
    return AssumptionCheck(name="expected counts (Cochran)", passed=passed, detail=detail)


def _as_table(counts: Sequence[Sequence[float]]) -> np.ndarray:
    """``counts`` as a 2-D array of finite, non-negative numbers."""
    try:
        table = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise Untestable("counts must be a rectangular table of numbers") from None
    if table.ndim != 2 or table.size == 0:
        raise Untestable(f"counts must be a non-empty 2-D table, got shape {table.shape}")
    if not np.isfinite(table).all():
        raise Untestable("counts contain NaN or infinite values")
    if (table < 0).any():
        raise Untestable("counts contain negative values")
    if not math.isfinite(float(table.sum())):
        raise Untestable("counts are too large to add up")
    return table


def _pearson(observed: np.ndarray) -> tuple[float, float, int, np.ndarray]:
    """Pearson's statistic, its p-value, degrees of freedom and the expected counts of a table
    with no empty row or column, as scipy computes them (its ``expected_freq`` and
    ``power_divergence``). ValueError where scipy refuses the table: expected counts of zero,
    or too large for floats."""
    expected = (
        observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True)
    ) / observed.sum()
    if np.any(expected == 0) or not np.all(np.isfinite(expected)):
        raise ValueError("an expected count is zero or not finite")
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, chi2_sf(statistic, dof), dof, expected


@guarded("chi_square")
def chi_square_test(
    counts: Sequence[Sequence[float]],
    row_labels: Sequence[str],
    col_labels: Sequence[str] = ("yes", "no"),
) -> TestResult:
    """Pearson chi-square test of independence (no Yates correction), effect Cramér's V.

    The omnibus test across every level of a dimension: rows are levels, columns outcomes.
    ``estimates`` hold each level's share of the first column, e.g. ``rate(north)``.
    """
    table = _as_table(counts)
    rows, cols = [str(x) for x in row_labels], [str(x) for x in col_labels]
    if table.shape != (len(rows), len(cols)):
        raise Untestable(
            f"table shape {table.shape} does not match {len(rows)} row and {len(cols)} column labels"
        )
    distinct_labels(rows)
    row_totals = table.sum(axis=1)
    n_per_group = {label: round(float(t)) for label, t in zip(rows, row_totals, strict=True)}
    n = round(float(table.sum()))
    warnings: list[str] = []
    empty_rows = [label for label, t in zip(rows, row_totals, strict=True) if t == 0]
    if empty_rows:
        warnings.append(f"dropped levels with no observations: {', '.join(empty_rows)}")
    col_totals = table.sum(axis=0)
    empty_cols = [label for label, t in zip(cols, col_totals, strict=True) if t == 0]
    if empty_cols:
        warnings.append(f"dropped outcomes no observation has: {', '.join(empty_cols)}")
    keep_rows, keep_cols = row_totals > 0, col_totals > 0
    if keep_rows.sum() < 2:
        raise Untestable(
            f"{int(keep_rows.sum())} level(s) with observations; the test needs at least 2",
            n=n,
            n_per_group=n_per_group,
        )
    if keep_cols.sum() < 2:
        only = ", ".join(c for c, k in zip(cols, keep_cols, strict=True) if k) or "none"
        raise Untestable(
            f"the outcome does not vary: every observation is in '{only}'",
            n=n,
            n_per_group=n_per_group,
        )
    observed = table[keep_rows][:, keep_cols]
    kept_labels = [label for label, k in zip(rows, keep_rows, strict=True) if k]
    try:  # Pearson's statistic as it is: no Yates correction, on a 2x2 table either
        statistic, p_value, dof, expected = _pearson(observed)
    except ValueError:  # expected counts that under- or overflow floats (0 or inf)
        raise Untestable(
            "the expected counts are not finite or zero (counts too large or too small)",
            n=n,
            n_per_group=n_per_group,
        ) from None
    require_finite(statistic=statistic, p_value=p_value)
    # scipy.stats.contingency.association would recompute the test and wants integer counts.
    cramers_v = min(1.0, math.sqrt(statistic / (observed.sum() * (min(observed.shape) - 1))))
    check = _expected_counts_check(expected)
    if not check.passed:
        warnings.append(
            f"{CAVEAT}some expected counts are small ({check.detail}), so the chi-square "
            "p-value is approximate (merge rare levels, or read each level's Fisher test)"
        )
    shares = observed[:, 0] / observed.sum(axis=1)
    return TestResult(
        test="chi_square",
        statistic=statistic,
        p_value=p_value,
        df=float(dof),
        effect_size=cramers_v,
        effect_size_name="cramers_v",
        n=n,
        n_per_group=n_per_group,
        estimates={
            f"rate({label})": float(s) for label, s in zip(kept_labels, shares, strict=True)
        },
        assumptions=[check],
        warnings=warnings,
    )
