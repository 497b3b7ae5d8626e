"""The Mantel-Haenszel check of a 2x2 effect within the strata of another variable.

A segment that converts worse than the rest may only be a segment made mostly of slow-converting
strata (Simpson's paradox): the pooled odds ratio across strata says whether the gap holds, vanishes
or reverses once the other variable is held fixed. Strata with an empty row carry no information
and are skipped, as in statsmodels' ``StratifiedTable``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from chatter.tools.stats.distributions import chi2_sf, normal_quantile

Verdict = Literal["holds", "vanishes", "reverses"]


@dataclass(frozen=True)
class Stratum:
    """One stratum's 2x2 table: successes and trials in the group and in its comparison (for
    rates: events and exposure)."""

    successes: int
    n: int
    successes_rest: int
    n_rest: int


@dataclass(frozen=True)
class MantelHaenszel:
    """The pooled odds ratio with its Robins-Breslow-Greenland interval and the CMH test (no
    continuity correction). Odds ratio or bounds are None where the pooled odds is undefined."""

    odds_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    statistic: float | None
    p_value: float | None
    strata: int
    measure: str = "odds ratio"

    def verdict(self, crude_difference: float, alpha: float = 0.05) -> Verdict:
        """What stratifying does to a crude gap of sign ``crude_difference``: the pooled odds
        ratio on the other side of 1 with its interval excluding 1 reverses it; an interval
        that includes 1 (or no pooled estimate) means it vanishes; otherwise it holds."""
        if self.odds_ratio is None or self.p_value is None or self.p_value >= alpha:
            return "vanishes"
        if (self.odds_ratio > 1) != (crude_difference > 0):
            return "reverses"
        return "holds"


def mantel_haenszel(strata: Sequence[Stratum], confidence: float = 0.95) -> MantelHaenszel:
    """Pooled odds ratio of success in the group against its comparison, across ``strata``.

    >>> s = [Stratum(30, 100, 20, 100), Stratum(10, 100, 5, 100)]
    >>> round(mantel_haenszel(s).odds_ratio, 4)
    1.8108
    """
    r_sum = s_sum = 0.0
    p_r = p_s_q_r = q_s = 0.0  # the RGB variance's three sums
    a_sum = expected = variance = 0.0
    used = 0
    for t in strata:
        a, b = t.successes, t.n - t.successes
        c, d = t.successes_rest, t.n_rest - t.successes_rest
        total = t.n + t.n_rest
        if t.n <= 0 or t.n_rest <= 0:
            continue
        used += 1
        r, s = a * d / total, b * c / total
        p, q = (a + d) / total, (b + c) / total
        r_sum, s_sum = r_sum + r, s_sum + s
        p_r, p_s_q_r, q_s = p_r + p * r, p_s_q_r + p * s + q * r, q_s + q * s
        hits = a + c
        a_sum += a
        expected += t.n * hits / total
        if total > 1:
            variance += t.n * t.n_rest * hits * (total - hits) / (total**2 * (total - 1))
    statistic = (a_sum - expected) ** 2 / variance if variance > 0 else None
    if r_sum <= 0 or s_sum <= 0:
        return _pooled(None, 0.0, statistic, used, "odds ratio", confidence)
    var_log = p_r / (2 * r_sum**2) + p_s_q_r / (2 * r_sum * s_sum) + q_s / (2 * s_sum**2)
    return _pooled(r_sum / s_sum, var_log, statistic, used, "odds ratio", confidence)


def _pooled(
    ratio: float | None,
    var_log: float,
    statistic: float | None,
    strata: int,
    measure: str,
    confidence: float,
) -> MantelHaenszel:
    """The pooled ratio with its interval from the variance of its log, and the 1-df test."""
    p_value = chi2_sf(statistic, 1) if statistic is not None else None
    if ratio is None:
        return MantelHaenszel(None, None, None, statistic, p_value, strata, measure)
    half = normal_quantile(0.5 + confidence / 2) * math.sqrt(var_log)
    low, high = math.exp(math.log(ratio) - half), math.exp(math.log(ratio) + half)
    return MantelHaenszel(ratio, low, high, statistic, p_value, strata, measure)


def mantel_haenszel_rate(strata: Sequence[Stratum], confidence: float = 0.95) -> MantelHaenszel:
    """Pooled rate ratio of events per exposure in the group against its comparison, across
    ``strata`` (``successes`` = events, ``n`` = exposure): Mantel-Haenszel's estimator, the
    Greenland-Robins variance of its log, and the score test of no association (Rothman &
    Greenland, Modern Epidemiology, ch. 15). ``odds_ratio`` holds the rate ratio.

    >>> s = [Stratum(20, 1000, 10, 1000), Stratum(5, 200, 30, 2000)]
    >>> round(mantel_haenszel_rate(s).odds_ratio, 4)
    1.8824
    """
    r_sum = s_sum = excess = variance = 0.0
    used = 0
    for t in strata:
        if t.n <= 0 or t.n_rest <= 0:
            continue
        used += 1
        a, b, total = t.successes, t.successes_rest, t.n + t.n_rest
        r_sum += a * t.n_rest / total
        s_sum += b * t.n / total
        excess += a - (a + b) * t.n / total
        variance += (a + b) * t.n * t.n_rest / total**2
    statistic = excess**2 / variance if variance > 0 else None
    if r_sum <= 0 or s_sum <= 0:
        return _pooled(None, 0.0, statistic, used, "rate ratio", confidence)
    return _pooled(
        r_sum / s_sum, variance / (r_sum * s_sum), statistic, used, "rate ratio", confidence
    )
