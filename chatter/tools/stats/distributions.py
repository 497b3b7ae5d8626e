"""Tail probabilities and quantiles the tests call hundreds of times a run, at the cost of one
ufunc call. scipy's distribution objects spend 50-80 µs per scalar call checking arguments
(a conversion deep dive makes a few hundred); the values here are scipy's own, bit for bit:
``norm.sf(x)`` is ``special.ndtr(-x)`` and ``chi2.sf(x, df)`` is ``special.chdtrc(df, x)`` in
scipy's implementation, and quantiles are scipy's, kept per argument
(tests/unit/test_stats_distributions.py checks both against the distribution objects)."""

from __future__ import annotations

from functools import lru_cache

from chatter.tools.stats._scipy import special, stats

__all__ = ["chi2_sf", "normal_quantile", "normal_sf"]


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
