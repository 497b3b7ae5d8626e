"""One level against the rest on a 2x2 table of counts: the two-proportion z-test, Fisher's
exact test when counts are small, and the rule that chooses between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from chatter.result import CAVEAT
from chatter.tools.stats._scipy import contingency, stats
from chatter.tools.stats.distributions import normal_quantile, normal_sf
from chatter.tools.stats.inputs import as_count
from chatter.tools.stats.test_result import (
    AssumptionCheck,
    TestResult,
    Untestable,
    finite,
    guarded,
    require_finite,
)

CONFIDENCE = 0.95
MIN_EXPECTED = 5.0
FISHER_MAX_N = 2**31 - 1  # scipy's exact machinery works on 32-bit counts
# The conditional MLE of the odds ratio costs ~0.5 ms per support point; above, Woolf's interval.
CONDITIONAL_MAX_SUPPORT = 500


@dataclass(frozen=True)
class _TwoByTwo:
    """Successes and totals of one level and of the rest, validated."""

    successes: int
    n: int
    successes_rest: int
    n_rest: int
    label: str

    @property
    def rest_key(self) -> str:
        return "rest" if self.label != "rest" else "rest (other levels)"

    @property
    def n_per_group(self) -> dict[str, int]:
        return {self.label: self.n, self.rest_key: self.n_rest}

    @property
    def rates(self) -> dict[str, float]:
        rate, rate_rest = self.successes / self.n, self.successes_rest / self.n_rest
        return {"rate": rate, "rate_rest": rate_rest, "difference": rate - rate_rest}

    @property
    def cells(self) -> list[list[int]]:
        return [
            [self.successes, self.n - self.successes],
            [self.successes_rest, self.n_rest - self.successes_rest],
        ]

    def expected(self) -> np.ndarray:
        # scipy's expected_freq of a 2x2 table, without its checks: the outer product of the
        # margins over the total, in floats (an integer product can overflow).
        cells = np.asarray(self.cells, dtype=np.float64)
        return np.outer(cells.sum(axis=1), cells.sum(axis=0)) / cells.sum()


def _two_by_two(successes: int, n: int, successes_rest: int, n_rest: int, label: str) -> _TwoByTwo:
    """Validate the four counts of a level-vs-rest comparison."""
    s, size = as_count(successes, "successes"), as_count(n, "n")
    s_rest, size_rest = as_count(successes_rest, "successes_rest"), as_count(n_rest, "n_rest")
    label = str(label)
    n_per_group = {label: size, "rest" if label != "rest" else "rest (other levels)": size_rest}
    total = size + size_rest
    if s > size or s_rest > size_rest:
        raise Untestable("successes exceed the group size", n=total, n_per_group=n_per_group)
    if size == 0 or size_rest == 0:
        empty = label if size == 0 else "the rest"
        raise Untestable(f"{empty} has no observations", n=total, n_per_group=n_per_group)
    hits = s + s_rest
    if hits in (0, total):
        outcome = "no observation is a success" if hits == 0 else "every observation is a success"
        raise Untestable(f"the outcome does not vary: {outcome}", n=total, n_per_group=n_per_group)
    return _TwoByTwo(s, size, s_rest, size_rest, label)


def cohens_h(rate: float, rate_rest: float) -> float:
    """Cohen's h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2)): a difference of rates defined at 0% and 100%."""
    return 2 * math.asin(math.sqrt(rate)) - 2 * math.asin(math.sqrt(rate_rest))


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """The Wilson score interval of one proportion (never outside [0, 1], never empty)."""
    z = normal_quantile(0.5 + CONFIDENCE / 2)
    p, zz = successes / n, z * z
    centre = (p + zz / (2 * n)) / (1 + zz / n)
    half = z * math.sqrt(p * (1 - p) / n + zz / (4 * n * n)) / (1 + zz / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    successes: int, n: int, successes_rest: int, n_rest: int
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of rate(level) - rate(rest), from each rate's Wilson
    interval (statsmodels' ``confint_proportions_2indep(method="newcomb")``)."""
    p1, p2 = successes / n, successes_rest / n_rest
    l1, u1 = wilson_interval(successes, n)
    l2, u2 = wilson_interval(successes_rest, n_rest)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


@guarded("two_proportion_z")
def two_proportion_test(
    successes: int, n: int, successes_rest: int, n_rest: int, label: str = "level"
) -> TestResult:
    """Pooled two-sided z-test of rate(level) = rate(rest); effect Cohen's h; the Newcombe
    (hybrid Wilson score) interval of the difference, which unlike Wald's stays honest at 0%
    and 100%.

    scipy has no two-proportion z-test (z² is the uncorrected chi-square of the table, but the
    sign, h and the interval are wanted too), so the few lines of it are here.
    """
    t = _two_by_two(successes, n, successes_rest, n_rest, label)
    rates = t.rates
    p1, p2 = rates["rate"], rates["rate_rest"]
    pooled = (t.successes + t.successes_rest) / (t.n + t.n_rest)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1.0 / t.n + 1.0 / t.n_rest))
    p_value = normal_sf(abs(z)) * 2
    ci_low, ci_high = newcombe_interval(t.successes, t.n, t.successes_rest, t.n_rest)
    require_finite(statistic=z, p_value=p_value)
    smallest = float(t.expected().min())
    check = AssumptionCheck(
        name="expected counts >= 5 (normal approximation)",
        passed=smallest >= MIN_EXPECTED,
        detail=f"smallest expected count {smallest:.3g}",
    )
    warnings = []
    if not check.passed:
        warnings.append(
            f"{CAVEAT}an expected count is below 5, so the z-test's p-value is approximate"
        )
    return TestResult(
        test="two_proportion_z",
        statistic=z,
        p_value=p_value,
        effect_size=cohens_h(p1, p2),
        effect_size_name="cohens_h",
        ci_low=ci_low,
        ci_high=ci_high,
        ci_of=f"rate({t.label}) - rate({t.rest_key})",
        n=t.n + t.n_rest,
        n_per_group=t.n_per_group,
        estimates=rates,
        assumptions=[check],
        warnings=warnings,
    )


def _positive_finite(value: float) -> float | None:
    """An odds ratio that can be reported: finite and > 0, else None."""
    number = finite(value)
    return number if number is not None and number > 0 else None


def _odds_ratio(t: _TwoByTwo) -> tuple[float | None, float | None, float | None, str]:
    """Odds ratio, its CI and how they were computed (scipy's ``odds_ratio``).

    The conditional MLE with its exact interval when the table's support is small; on large
    tables, where it is slow and indistinguishable from it, the sample odds ratio with Woolf's
    log interval.
    """
    hits, total = t.successes + t.successes_rest, t.n + t.n_rest
    support = min(t.n, hits) - max(0, t.n - (total - hits)) + 1
    if support <= CONDITIONAL_MAX_SUPPORT:
        kind, method = "conditional", "conditional maximum likelihood, exact interval"
    else:
        kind, method = "sample", "sample odds ratio, Woolf (log) interval (large table)"
    result = contingency.odds_ratio(t.cells, kind=kind)
    effect = _positive_finite(result.statistic)
    if kind == "sample" and effect is None:  # a zero cell: Woolf's interval is undefined
        return None, None, None, method
    interval = result.confidence_interval(confidence_level=CONFIDENCE)
    return effect, finite(interval.low), finite(interval.high), method


@guarded("fisher_exact")
def fisher_exact_test(
    successes: int, n: int, successes_rest: int, n_rest: int, label: str = "level"
) -> TestResult:
    """Fisher's exact test (two-sided); effect the conditional-MLE odds ratio and its exact CI."""
    t = _two_by_two(successes, n, successes_rest, n_rest, label)
    if t.n + t.n_rest > FISHER_MAX_N:
        raise Untestable(
            "the table is too large for the exact test (n > 2**31 - 1); use the z-test",
            n=t.n + t.n_rest,
            n_per_group=t.n_per_group,
        )
    result = stats.fisher_exact(t.cells, alternative="two-sided")
    p_value = float(result.pvalue)
    require_finite(p_value=p_value)
    effect, ci_low, ci_high, method = _odds_ratio(t)
    warnings = []
    if effect is None:
        warnings.append(
            "the odds ratio is 0 or infinite (a cell of the table is zero); "
            "it is reported as None, read the interval and the rates instead"
        )
    return TestResult(
        test="fisher_exact",
        statistic=_positive_finite(result.statistic),
        p_value=min(1.0, p_value),
        effect_size=effect,
        effect_size_name="odds_ratio",
        ci_low=ci_low,
        ci_high=ci_high,
        ci_of=f"odds ratio ({t.label} vs {t.rest_key})",
        n=t.n + t.n_rest,
        n_per_group=t.n_per_group,
        estimates=t.rates,
        assumptions=[
            AssumptionCheck(
                name="exact test",
                passed=True,
                detail=f"exact conditional p-value; odds ratio by {method}",
            )
        ],
        warnings=warnings,
    )


@guarded("two_proportion_z")
def level_vs_rest_test(
    successes: int, n: int, successes_rest: int, n_rest: int, label: str = "level"
) -> TestResult:
    """One level against the rest: Fisher when any expected count is below 5 or a cell is
    empty (0% or 100% in a group, where the normal approximation misleads), else the z-test."""
    try:
        t = _two_by_two(successes, n, successes_rest, n_rest, label)
    except Untestable:
        return two_proportion_test(successes, n, successes_rest, n_rest, label)
    smallest = float(t.expected().min())
    empty = min(t.successes, t.n - t.successes, t.successes_rest, t.n_rest - t.successes_rest) == 0
    use_fisher = smallest < MIN_EXPECTED or empty
    chosen = fisher_exact_test if use_fisher else two_proportion_test
    result = chosen(t.successes, t.n, t.successes_rest, t.n_rest, t.label)
    why = "an empty cell" if empty and smallest >= MIN_EXPECTED else f"< {MIN_EXPECTED:g}"
    choice = AssumptionCheck(
        name="test choice",
        passed=True,
        detail=f"smallest expected count {smallest:.3g} "
        + (f"{why}: Fisher's exact test" if use_fisher else ">= 5: two-proportion z-test"),
    )
    result.assumptions.insert(0, choice)
    return result
