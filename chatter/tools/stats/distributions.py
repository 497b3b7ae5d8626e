"""Tail probabilities and quantiles the tests call hundreds of times a run, at the cost of one
ufunc call. scipy's distribution objects spend 50-80 µs per scalar call checking arguments
(a conversion deep dive makes a few hundred); the values here are scipy's own, bit for bit:
``norm.sf(x)`` is ``special.ndtr(-x)``, ``chi2.sf(x, df)`` is ``special.chdtrc(df, x)``,
``t.sf(x, df)`` is ``special.stdtr(df, -x)`` and ``t.ppf(q, df)`` ``special.stdtrit(df, q)`` in
scipy's implementation, and quantiles are scipy's, kept per argument
(tests/unit/test_stats_distributions.py checks both against the distribution objects).

The exact binomial test is scipy's ``binomtest`` (two-sided) step for step, on the ufuncs its
``binom`` distribution calls (boost's pmf, cdf and sf), with the distribution's own treatment
of values outside the support; its exact (Clopper-Pearson) interval is the beta quantiles that
statsmodels' ``proportion_confint(method="beta")`` takes, where scipy finds the same bounds by
root search, some eighty calls of the distribution per interval."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from chatter.tools.stats._scipy import special, stats

__all__ = [
    "binomial_two_sided_p",
    "chi2_sf",
    "clopper_pearson",
    "normal_quantile",
    "normal_sf",
    "t_quantile",
    "t_sf",
]


@lru_cache(maxsize=256)
def normal_quantile(p: float) -> float:
    """The standard normal's ``p`` quantile (``norm.ppf``): a handful of confidence levels."""
    return float(stats.norm.ppf(p))


def normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z (``norm.sf``)."""
    return float(special.ndtr(-x))


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for a chi-square X with ``df`` degrees of freedom (``chi2.sf``)."""
    return float(special.chdtrc(df, x))


def t_sf(x: float, df: float) -> float:
    """P(T > x) for Student's T with ``df`` degrees of freedom (``t.sf``; 0 at infinity)."""
    if math.isinf(x):
        return 0.0 if x > 0 else 1.0
    return float(special.stdtr(df, -x))


def t_quantile(q: float, df: float) -> float:
    """Student's T ``q`` quantile, 0 < q < 1 (``t.ppf``)."""
    return float(special.stdtrit(df, q))


@lru_cache(maxsize=1)
def _binom_ufuncs() -> tuple[Callable[..., float], ...] | None:
    """The ufuncs behind scipy's ``binom`` (private names: None where a scipy lacks them,
    and the distribution object is used instead)."""
    try:
        from scipy.special import _ufuncs

        return _ufuncs._binom_pmf, _ufuncs._binom_cdf, _ufuncs._binom_sf
    except (ImportError, AttributeError):  # pragma: no cover - another scipy
        return None


def binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """scipy's ``binomtest(k, n, p).pvalue`` (two-sided: the outcomes no likelier than ``k``)."""
    ufuncs = _binom_ufuncs()
    if ufuncs is None:  # pragma: no cover - another scipy
        return float(stats.binomtest(k, n, p).pvalue)
    pmf_u, cdf_u, sf_u = ufuncs

    # As scipy's rv_discrete: zero mass off the support, the cdf 0 below it and 1 past it.
    def pmf(x: float) -> float:
        return float(pmf_u(x, n, p)) if 0 <= x <= n and x == math.floor(x) else 0.0

    def cdf(x: float) -> float:
        return 0.0 if x < 0 else 1.0 if x >= n else float(cdf_u(math.floor(x), n, p))

    def sf(x: float) -> float:
        return 1.0 if x < 0 else 0.0 if x >= n else float(sf_u(math.floor(x), n, p))

    d = pmf(k)
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = _search(lambda x: -pmf(x), -d * rerr, math.ceil(p * n), n)
        y = n - ix + int(d * rerr == pmf(ix))
        pval = cdf(k) + sf(n - y)
    else:
        ix = _search(pmf, d * rerr, 0, math.floor(p * n))
        y = ix + 1
        pval = cdf(y - 1) + sf(k - 1)
    return min(1.0, pval)


def _search(a: Callable[[float], float], d: float, lo: int, hi: int) -> int:
    """scipy's ``_binary_search_for_binom_tst``: i in [lo, hi] with a(i) <= d < a(i + 1)."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = a(mid)
        if value < d:
            lo = mid + 1
        elif value > d:
            hi = mid - 1
        else:
            return mid
    return lo if a(lo) <= d else lo - 1


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """The exact two-sided interval of a binomial proportion, ``k`` of ``n``."""
    # 1 - 0.95 is 0.05000000000000004 in floats: rounded, a level's tail is the one asked for.
    alpha = round((1 - confidence) / 2, 15)
    low = 0.0 if k == 0 else float(stats.beta.ppf(alpha, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.isf(alpha, k + 1, n - k))
    return low, high
