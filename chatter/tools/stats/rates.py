"""Event rates per exposure: churns per paying month, compared between groups.

A share of accounts that ever churned depends on how long each account was watched: a segment
that started recently has had less time to churn. Counting churns per unit of exposure (an
account-month at risk) removes that, under a constant hazard within each group.

- ``rate_ratio_test``: two groups, the exact conditional test (given the total count, one
  group's count is binomial with the share of exposure as its probability), with the rate ratio
  and its exact interval from the Clopper-Pearson interval of that binomial proportion.
- ``rate_homogeneity_test``: several groups, the Poisson chi-square of counts against the counts
  their exposures predict under one common rate.

statsmodels' ``test_poisson_2indep(method="exact-cond")`` and scipy's ``chisquare`` are the
independent implementations the tests compare against.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from chatter.result import CAVEAT
from chatter.tools.stats._scipy import stats
from chatter.tools.stats.distributions import binomial_two_sided_p, chi2_sf, clopper_pearson
from chatter.tools.stats.test_result import (
    AssumptionCheck,
    TestResult,
    Untestable,
    guarded,
    require_finite,
)

CONFIDENCE = 0.95
MIN_EXPECTED = 5.0


def _check(count: float, exposure: float, name: str) -> None:
    if not (math.isfinite(count) and math.isfinite(exposure)):
        raise Untestable(f"the {name} count or exposure is not finite")
    if count < 0 or exposure < 0 or count != int(count):
        raise Untestable(f"the {name} count must be a whole number >= 0 and its exposure >= 0")
    if exposure == 0:
        raise Untestable(f"the {name} group has no exposure")


@guarded("poisson_rate_ratio")
def rate_ratio_test(
    events: int,
    exposure: float,
    events_rest: int,
    exposure_rest: float,
    label: str = "group",
    unit: str = "month",
) -> TestResult:
    """Two-sided exact conditional test of rate(group) = rate(rest), events per ``unit`` of
    exposure; effect the rate ratio with its exact 95% interval."""
    _check(events, exposure, label)
    _check(events_rest, exposure_rest, "rest")
    total = int(events) + int(events_rest)
    share = exposure / (exposure + exposure_rest)
    rate, rest = events / exposure, events_rest / exposure_rest
    estimates = {
        "rate": rate,
        "rate_rest": rest,
        "difference": rate - rest,
        "events": float(events),
        "events_rest": float(events_rest),
        "exposure": float(exposure),
        "exposure_rest": float(exposure_rest),
    }
    n_per_group = {label: int(events), "rest": int(events_rest)}
    if total == 0:
        raise Untestable("no events in either group: rates of 0 cannot be compared", n=0)
    p_value = binomial_two_sided_p(int(events), total, share)
    require_finite(p_value=p_value)
    low, high = clopper_pearson(int(events), total, CONFIDENCE)
    odds = exposure_rest / exposure

    def ratio(p: float) -> float | None:
        return p / (1 - p) * odds if 0 < p < 1 else (0.0 if p == 0 else None)

    effect = rate / rest if rest > 0 else None
    warnings = []
    if total < 10:
        warnings.append(f"{CAVEAT}only {total} events in all, so the interval is wide")
    return TestResult(
        test="poisson_rate_ratio",
        statistic=float(events),
        p_value=min(1.0, p_value),
        effect_size=effect,
        effect_size_name="rate_ratio",
        ci_low=ratio(low),
        ci_high=ratio(high),
        ci_of=f"rate ratio ({label} vs rest), events per {unit}",
        n=total,
        n_per_group=n_per_group,
        estimates=estimates,
        assumptions=[
            AssumptionCheck(
                name="constant rate within each group",
                passed=True,
                detail=f"exact conditional binomial test on {total} events; exposure share "
                f"{share:.3g}",
            )
        ],
        warnings=warnings,
    )


@guarded("poisson_homogeneity")
def rate_homogeneity_test(
    events: Sequence[int], exposures: Sequence[float], labels: Sequence[str], unit: str = "month"
) -> TestResult:
    """Whether several groups share one event rate: the Poisson chi-square of the counts
    against those their exposures predict at the pooled rate (df = groups - 1)."""
    if len(events) != len(exposures) or len(events) != len(labels):
        raise Untestable("counts, exposures and labels differ in length")
    kept = [(str(g), float(c), float(t)) for g, c, t in zip(labels, events, exposures, strict=True)]
    for g, c, t in kept:
        _check(c, t, g)
    if len(kept) < 2:
        raise Untestable("one group: nothing to compare")
    total_events = sum(c for _, c, _ in kept)
    total_exposure = sum(t for _, _, t in kept)
    if total_events == 0:
        raise Untestable("no events in any group: rates of 0 cannot be compared")
    pooled = total_events / total_exposure
    expected = [pooled * t for _, _, t in kept]
    chi2 = sum((c - e) ** 2 / e for (_, c, _), e in zip(kept, expected, strict=True))
    df = len(kept) - 1
    p_value = chi2_sf(chi2, df)
    require_finite(statistic=chi2, p_value=p_value)
    smallest = min(expected)
    check = AssumptionCheck(
        name="expected counts >= 5 (chi-square approximation)",
        passed=smallest >= MIN_EXPECTED,
        detail=f"smallest expected count {smallest:.3g}",
    )
    rates = {f"rate({g})": c / t for g, c, t in kept}
    spread = max(rates.values()) / min(rates.values()) if min(rates.values()) > 0 else None
    return TestResult(
        test="poisson_homogeneity",
        statistic=chi2,
        p_value=p_value,
        df=df,
        effect_size=spread,
        effect_size_name="max_rate_ratio",
        n=int(total_events),
        n_per_group={g: int(c) for g, c, _ in kept},
        estimates={**rates, "pooled_rate": pooled},
        assumptions=[check],
        warnings=[] if check.passed else ["an expected count is below 5: read the rates"],
    )


def poisson_interval(events: int, exposure: float) -> tuple[float, float]:
    """Exact (Garwood) 95% interval of a rate: events per unit of ``exposure``."""
    alpha = 1 - CONFIDENCE
    low = stats.chi2.ppf(alpha / 2, 2 * events) / 2 if events > 0 else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * (events + 1)) / 2
    return float(low) / exposure, float(high) / exposure
