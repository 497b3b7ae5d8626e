"""Correlation between usage measures: Pearson on values, Spearman on ranks, all pairs at once.

The per-pair tests and ``correlation_pairs`` share one core (centre, scale, one matrix
product), so a pair gives the same answer whichever way it is asked for; the all-pairs version
ranks each column once and handles a million rows by eight columns in one to two seconds. That
is why r comes from the core and not from ``pearsonr`` / ``spearmanr`` pair by pair; the ranks
and the p-values are scipy's (``rankdata`` and the beta and t distributions those functions use).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chatter.result import CAVEAT
from chatter.tools.stats._scipy import stats
from chatter.tools.stats.contingency import chi_square_test
from chatter.tools.stats.distributions import normal_quantile, t_sf
from chatter.tools.stats.inputs import as_count, as_sample, is_constant
from chatter.tools.stats.proportions import fisher_exact_test
from chatter.tools.stats.test_result import (
    AssumptionCheck,
    TestResult,
    Untestable,
    finite,
    guarded,
    not_testable,
)

CONFIDENCE = 0.95
HEAVY_TAILS = 10.0  # excess kurtosis above which Pearson r is dominated by a few extreme values
FIELLER_VARIANCE = 1.06  # var(atanh(rho)) ≈ 1.06/(n-3) for Spearman (Fieller et al., 1957)

Method = Literal["pearson", "spearman"]


def average_ranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks 1..n of a 1-D array, ties sharing their average rank (scipy's ``rankdata``).

    >>> average_ranks(np.array([10.0, 30.0, 20.0, 20.0])).tolist()
    [1.0, 4.0, 2.5, 2.5]
    """
    return stats.rankdata(values, method="average")


def _unit_rows(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row (a variable) centred and scaled to unit length; rows must not be constant."""
    centred = rows - rows.mean(axis=1, keepdims=True)
    centred /= np.abs(centred).max(axis=1, keepdims=True)  # guards the squares from overflow
    centred /= np.sqrt(np.einsum("ij,ij->i", centred, centred))[:, None]
    return centred


def _correlations(
    rows: NDArray[np.float64], method: Method
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The correlation matrix of the rows (variables) and, for Pearson, each row's excess
    kurtosis (zeros for Spearman, whose ranks have no tails)."""
    if method == "spearman":  # row by row: rankdata(axis=1) is slower on a million columns
        rows = np.stack([average_ranks(row) for row in rows])
    unit = _unit_rows(rows)
    matrix = np.clip(unit @ unit.T, -1.0, 1.0)
    np.fill_diagonal(matrix, 1.0)
    kurtosis = np.zeros(rows.shape[0])
    if method == "pearson":  # from the unit rows at hand: scipy's kurtosis would centre again
        kurtosis = rows.shape[1] * np.einsum("ij,ij->i", unit**2, unit**2) - 3.0
    return matrix, kurtosis


def _fisher_interval(r: float, n: int, variance: float) -> tuple[float, float]:
    """CI of a correlation by Fisher's z: atanh(r) ± z·√(variance/(n-3)); (-1, 1) when n <= 3."""
    if n <= 3:
        return -1.0, 1.0
    half = normal_quantile(0.5 + CONFIDENCE / 2) * math.sqrt(variance / (n - 3))
    z = float(np.arctanh(r))
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def _pearson_result(r: float, n: int, kurtosis: tuple[float, ...] = ()) -> TestResult:
    """Pearson r's exact p-value under bivariate normality, as scipy's ``pearsonr``: with no
    correlation, r follows a beta distribution on [-1, 1] with both shapes n/2 - 1."""
    if finite(r) is None:
        return not_testable("pearson", "r is not finite (values too large)", n=n)
    a = n / 2 - 1
    p_value = float(2 * stats.beta.sf(abs(r), a, a, loc=-1, scale=2))
    low, high = _fisher_interval(r, n, 1.0)
    assumptions, warnings = [], []
    if kurtosis:
        worst = max(kurtosis)
        passed = worst <= HEAVY_TAILS
        assumptions.append(
            AssumptionCheck(
                name="no heavy tails",
                passed=passed,
                detail=f"largest excess kurtosis {worst:.3g} (rule of thumb: <= {HEAVY_TAILS:g})",
            )
        )
        if not passed:
            warnings.append(
                f"{CAVEAT}the data are heavy-tailed, so a few extreme values drive Pearson's r"
            )
    return TestResult(
        test="pearson",
        statistic=r,
        p_value=min(1.0, p_value),
        df=float(n - 2),
        effect_size=r,
        effect_size_name="r",
        ci_low=low,
        ci_high=high,
        ci_of="Pearson r (Fisher z)",
        n=n,
        n_per_group={"pairs": n},
        assumptions=assumptions,
        warnings=warnings,
    )


def _spearman_result(rho: float, n: int) -> TestResult:
    """Spearman rho's p-value by the t approximation, as scipy's ``spearmanr``."""
    if finite(rho) is None:
        return not_testable("spearman", "rho is not finite (values too large)", n=n)
    dof = n - 2
    t = rho * math.sqrt(max(0.0, dof / ((rho + 1.0) * (1.0 - rho)))) if abs(rho) < 1 else math.inf
    p_value = 2 * t_sf(abs(t), dof)
    low, high = _fisher_interval(rho, n, FIELLER_VARIANCE)
    return TestResult(
        test="spearman",
        statistic=rho,
        p_value=min(1.0, p_value),
        df=float(dof),
        effect_size=rho,
        effect_size_name="rho",
        ci_low=low,
        ci_high=high,
        ci_of="Spearman rho (approximate: Fisher z, variance 1.06/(n-3))",
        n=n,
        n_per_group={"pairs": n},
    )


def _pair(x: ArrayLike, y: ArrayLike, method: Method) -> TestResult:
    """One pair through the same core as ``correlation_pairs``."""
    xs, ys = as_sample(x, "x", min_n=3), as_sample(y, "y", min_n=3)
    if xs.size != ys.size:
        raise Untestable(f"x and y differ in length ({xs.size} vs {ys.size})")
    n = xs.size
    for name, values in (("x", xs), ("y", ys)):
        if is_constant(values):
            raise Untestable(f"{name} is constant: correlation undefined", n=n)
    matrix, kurtosis = _correlations(np.stack([xs, ys]), method)
    r = float(matrix[0, 1])
    if method == "spearman":
        return _spearman_result(r, n)
    return _pearson_result(r, n, (float(kurtosis[0]), float(kurtosis[1])))


@guarded("pearson")
def pearson_test(x: ArrayLike, y: ArrayLike) -> TestResult:
    """Pearson correlation with scipy's exact p-value and the Fisher-z CI of r."""
    return _pair(x, y, "pearson")


@guarded("spearman")
def spearman_test(x: ArrayLike, y: ArrayLike) -> TestResult:
    """Spearman rank correlation (p as ``scipy.stats.spearmanr``); the CI is approximate."""
    return _pair(x, y, "spearman")


@guarded("pearson")
def pearson_from_r(r: float, n: int) -> TestResult:
    """Pearson test from a SQL ``corr()`` and the pair count (the t-test on r, n - 2 df)."""
    size = as_count(n, "n")
    value = finite(r)
    if value is None or abs(value) > 1 + 1e-9:
        raise Untestable(f"r must be a finite number in [-1, 1], got {r}", n=size)
    if size < 3:
        raise Untestable(f"n={size}; a correlation test needs at least 3 pairs", n=size)
    return _pearson_result(max(-1.0, min(1.0, value)), size)


@guarded("spearman")
def spearman_from_rho(rho: float, n: int) -> TestResult:
    """Spearman test from a rank correlation computed in SQL (``corr`` of average ranks) and
    the pair count; the same p-value and interval as ``spearman_test`` on the raw values."""
    size = as_count(n, "n")
    value = finite(rho)
    if value is None or abs(value) > 1 + 1e-9:
        raise Untestable(f"rho must be a finite number in [-1, 1], got {rho}", n=size)
    if size < 3:
        raise Untestable(f"n={size}; a correlation test needs at least 3 pairs", n=size)
    return _spearman_result(max(-1.0, min(1.0, value)), size)


@guarded("chi_square")
def phi_test(
    both: int, first_only: int, second_only: int, neither: int, names: Sequence[str]
) -> TestResult:
    """Association of two yes/no traits of one population (a 2x2 table): effect the signed phi
    coefficient, the Pearson r of the two indicators, positive when the traits go together.

    The test is Pearson's chi-square of independence (no Yates correction; |phi| = sqrt(X²/n))
    when every expected count is at least 5, Fisher's exact test otherwise, as
    ``level_vs_rest_test`` chooses. ``estimates`` hold the share of the first trait's holders
    with the second (``rate``), the share among the rest (``rate_rest``), their ``difference``
    and the ``odds_ratio`` (sample odds ratio; Fisher's conditional MLE under Fisher).
    """
    first, second = (str(name) for name in names)
    a, b, c, d = (as_count(x, "count") for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    for name, holders in ((first, a + b), (second, a + c)):
        if holders in (0, n):  # a trait nobody or everybody has goes with nothing
            who = "no observation" if holders == 0 else "every observation"
            raise Untestable(f"{who} has {name}: there is no association to test", n=n)
    labels = (first, f"not {first}")
    chi = chi_square_test([[a, b], [c, d]], labels, (second, f"not {second}"))
    if not chi.testable:
        return chi
    expected = chi.assumptions[0]
    if expected.passed:
        result, choice = chi, "chi-square"
        odds = a * d / (b * c) if b * c else None
        interval: dict[str, float | str | None] = {}
    else:
        result = fisher_exact_test(a, a + b, c, c + d, label=first)
        if not result.testable:
            return result
        choice, odds = "Fisher's exact test", result.effect_size
        interval = {"ci_low": result.ci_low, "ci_high": result.ci_high, "ci_of": result.ci_of}
    # In floats: the product of four large counts overflows no float but may exceed 2**63.
    phi = (float(a) * d - float(b) * c) / math.sqrt(float(a + b) * (c + d) * (a + c) * (b + d))
    rate, rate_rest = a / (a + b), c / (c + d)
    estimates = {"rate": rate, "rate_rest": rate_rest, "difference": rate - rate_rest}
    if odds is not None and finite(odds) is not None:
        estimates["odds_ratio"] = float(odds)
    choice_check = AssumptionCheck(
        name="test choice", passed=True, detail=f"{expected.detail}: {choice}"
    )
    return result.model_copy(
        update={
            "effect_size": max(-1.0, min(1.0, phi)),
            "effect_size_name": "phi",
            "estimates": estimates,
            "n_per_group": {first: a + b, f"not {first}": c + d},
            "assumptions": [choice_check, expected],
            "ci_low": None,
            "ci_high": None,
            "ci_of": None,
            **interval,
        }
    )


def weighted_correlation_pairs(
    values: np.ndarray, weights: np.ndarray, names: Sequence[str], method: Method = "spearman"
) -> list[tuple[str, str, TestResult]]:
    """Every pair's correlation over rows given once with a weight (how many observations share
    that row): the joint distribution SQL returns with ``GROUP BY ALL ... COUNT(*)``. Exact,
    ties included (average ranks for Spearman), at any number of observations. Never raises."""
    labels = [str(name) for name in names]
    pairs = list(itertools.combinations(range(len(labels)), 2))
    test = str(method)
    try:
        data = np.asarray(values, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        n = round(float(w.sum()))
        if data.ndim != 2 or data.shape[1] != len(labels) or len(w) != data.shape[0]:
            raise Untestable("values, weights and names do not match")
        if method == "spearman":
            data = (
                np.column_stack(
                    [_weighted_average_ranks(data[:, j], w) for j in range(data.shape[1])]
                )
                if data.size
                else data
            )
        mean = (w @ data) / w.sum() if n else np.zeros(data.shape[1])
        centred = data - mean
        cov = (centred * w[:, None]).T @ centred
        scale = np.sqrt(np.diag(cov))
        results = {}
        for i, j in pairs:
            if scale[i] == 0 or scale[j] == 0:
                results[(i, j)] = not_testable(
                    test,
                    "a feature with the same value for every observation has no correlation",
                    n=n,
                )
                continue
            r = float(cov[i, j] / (scale[i] * scale[j]))
            results[(i, j)] = (spearman_from_rho if method == "spearman" else pearson_from_r)(r, n)
    except Untestable as exc:
        results = {pair: not_testable(test, exc.reason, n=exc.n) for pair in pairs}
    except Exception as exc:  # an analysis must never fail on a correlation table
        reason = f"internal error: {type(exc).__name__}: {exc}"
        results = {pair: not_testable(test, reason) for pair in pairs}
    return [(labels[i], labels[j], results[(i, j)]) for i, j in pairs]


def _weighted_average_ranks(column: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's average rank among all observations: rows below it, plus its tie's middle.

    By hand because scipy's ``rankdata`` has no weights and the rows would otherwise have to be
    repeated once per observation.
    """
    levels, inverse = np.unique(column, return_inverse=True)
    per_level = np.bincount(inverse, weights=weights, minlength=len(levels))
    below = np.cumsum(per_level) - per_level
    return (below + (per_level + 1) / 2)[inverse]


def _all_pairs(
    matrix: np.ndarray, names: list[str], method: Method
) -> dict[tuple[int, int], TestResult]:
    """Results of every column pair; a bad column makes only its own pairs untestable."""
    if method not in ("pearson", "spearman"):
        raise Untestable(f"unknown method {method!r}: use 'pearson' or 'spearman'")
    try:
        data = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise Untestable("the matrix is not numeric") from None
    if data.ndim != 2 or data.shape[1] != len(names):
        raise Untestable(f"matrix of shape {data.shape} does not match {len(names)} names")
    n = data.shape[0]
    if n < 3:
        raise Untestable(f"{n} rows; a correlation test needs at least 3", n=n)
    bad: dict[int, str] = {}
    for j in range(data.shape[1]):
        column = data[:, j]
        if not np.isfinite(column).all():
            bad[j] = f"column {names[j]} has NaN or infinite values"
        elif is_constant(column):
            bad[j] = f"column {names[j]} is constant: correlation undefined"
    usable = [j for j in range(data.shape[1]) if j not in bad]
    results: dict[tuple[int, int], TestResult] = {}
    if len(usable) >= 2:
        rows = np.ascontiguousarray(data[:, usable].T)
        corr, kurtosis = _correlations(rows, method)
        for (a, i), (b, j) in itertools.combinations(enumerate(usable), 2):
            r = float(corr[a, b])
            results[(i, j)] = (
                _spearman_result(r, n)
                if method == "spearman"
                else _pearson_result(r, n, (float(kurtosis[a]), float(kurtosis[b])))
            )
    for i, j in itertools.combinations(range(len(names)), 2):
        if (i, j) not in results:
            reason = bad.get(i) or bad[j]
            results[(i, j)] = not_testable(method, reason, n=n, n_per_group={"pairs": n})
    return results


def correlation_pairs(
    matrix: np.ndarray, names: Sequence[str], method: Method = "spearman"
) -> list[tuple[str, str, TestResult]]:
    """Test every pair of columns of an (observations x k) matrix, vectorized.

    Each column is ranked once (Spearman) and one matrix product gives every r; the results
    equal ``pearson_test`` / ``spearman_test`` on each pair. Never raises.
    """
    labels = [str(name) for name in names]
    pairs = list(itertools.combinations(range(len(labels)), 2))
    test = str(method)
    try:
        with np.errstate(all="ignore"):
            results = _all_pairs(matrix, labels, method)
    except Untestable as exc:
        results = {pair: not_testable(test, exc.reason, n=exc.n) for pair in pairs}
    except Exception as exc:  # an analysis must never fail on a correlation table
        reason = f"internal error: {type(exc).__name__}: {exc}"
        results = {pair: not_testable(test, reason) for pair in pairs}
    return [(labels[i], labels[j], results[(i, j)]) for i, j in pairs]
