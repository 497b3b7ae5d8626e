"""Comparing a numeric measure across groups: Welch's t and one-way ANOVA on SQL moments,
Mann-Whitney and Kruskal-Wallis on raw values when the measure is skewed (per-user counts).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike

from chatter.result import CAVEAT
from chatter.tools.stats._scipy import special, stats
from chatter.tools.stats.distributions import chi2_sf, t_quantile
from chatter.tools.stats.inputs import as_sample, distinct_labels, is_constant
from chatter.tools.stats.test_result import (
    AssumptionCheck,
    GroupStats,
    TestResult,
    Untestable,
    guarded,
    require_finite,
)

CONFIDENCE = 0.95
LARGE_GROUP = 30  # rough size above which the mean is close to normal for moderate skew
MAX_VARIANCE_RATIO = 4.0
# scipy's exact Mann-Whitney distribution costs ~n1*n2 work per value; above this, asymptotic.
EXACT_MWU_LIMIT = 10_000


def _check_moments(group: GroupStats, label: str, n_per_group: dict[str, int]) -> None:
    """A group usable for a t-test or ANOVA: n >= 2, finite mean, finite non-negative variance."""
    total = sum(n_per_group.values())
    if group.n < 2:
        raise Untestable(
            f"group {label} has {group.n} observation(s); the test needs at least 2",
            n=total,
            n_per_group=n_per_group,
        )
    if not (math.isfinite(group.mean) and math.isfinite(group.variance)):
        raise Untestable(f"group {label} has a non-finite mean or variance", n=total)
    if group.variance < 0:
        raise Untestable(f"group {label} has a negative variance ({group.variance})", n=total)


def _normality_check(sizes: Mapping[str, int], what: str) -> AssumptionCheck:
    """Means of groups this large are close to normal unless the data is very skewed."""
    smallest = min(sizes, key=lambda k: sizes[k])
    return AssumptionCheck(
        name=f"approximately normal {what}",
        passed=sizes[smallest] >= LARGE_GROUP,
        detail=f"smallest group {smallest} has n={sizes[smallest]} (rule of thumb: >= "
        f"{LARGE_GROUP}); raw values are not available here to test normality",
    )


def _hedges_correction(dof: int) -> float:
    """Exact small-sample bias correction J(dof) = Γ(dof/2) / (√(dof/2) Γ((dof-1)/2)).

    Log-gammas, because Γ itself overflows above dof ≈ 340; scipy has no Hedges' g.
    """
    return math.exp(
        special.gammaln(dof / 2) - 0.5 * math.log(dof / 2) - special.gammaln((dof - 1) / 2)
    )


@guarded("welch_t")
def welch_t_test(a: GroupStats, b: GroupStats, labels: tuple[str, str] = ("a", "b")) -> TestResult:
    """Welch's two-sided t-test from each group's n, mean and sample variance (scipy's
    ``ttest_ind_from_stats``); effect Hedges' g.

    The CI is of mean(a) - mean(b), with Welch-Satterthwaite degrees of freedom.
    """
    la, lb = str(labels[0]), str(labels[1])
    distinct_labels([la, lb])
    n_per_group = {la: a.n, lb: b.n}
    _check_moments(a, la, n_per_group)
    _check_moments(b, lb, n_per_group)
    va, vb = a.variance / a.n, b.variance / b.n
    if va + vb == 0:
        raise Untestable("both groups have zero variance", n=a.n + b.n, n_per_group=n_per_group)
    diff = a.mean - b.mean
    # Welch's t is the same for both groups shifted and scaled alike, and scipy squares the
    # variances: in units of the larger sd those squares can neither under- nor overflow.
    sd_a, sd_b = math.sqrt(a.variance), math.sqrt(b.variance)
    unit = max(sd_a, sd_b)
    welch = stats.ttest_ind_from_stats(
        diff / unit, sd_a / unit, a.n, 0.0, sd_b / unit, b.n, equal_var=False
    )
    t, p_value = float(welch.statistic), float(welch.pvalue)
    # scipy returns neither the Welch-Satterthwaite df nor the CI from moments.
    share_a, share_b = va / (va + vb), vb / (va + vb)  # scale-free: no under- or overflow
    dof = 1 / (share_a**2 / (a.n - 1) + share_b**2 / (b.n - 1))
    half = t_quantile(0.5 + CONFIDENCE / 2, dof) * math.sqrt(va + vb)
    pooled_dof = a.n + b.n - 2
    pooled_sd = math.sqrt(((a.n - 1) * a.variance + (b.n - 1) * b.variance) / pooled_dof)
    hedges_g = np.float64(diff) / pooled_sd * _hedges_correction(pooled_dof)
    require_finite(statistic=t, p_value=p_value, df=dof, interval=half, effect_size=hedges_g)
    check = _normality_check(n_per_group, "sample means")
    warnings = []
    if not check.passed:
        # A caveat: the insight stating the finding says it, not only the notes.
        warnings.append(
            f"{CAVEAT}the groups are small, so Welch's t leans on roughly normal data "
            "(check with Mann-Whitney on the raw values)"
        )
    return TestResult(
        test="welch_t",
        statistic=t,
        p_value=p_value,
        df=dof,
        effect_size=float(hedges_g),
        effect_size_name="hedges_g",
        ci_low=diff - half,
        ci_high=diff + half,
        ci_of=f"mean({la}) - mean({lb})",
        n=a.n + b.n,
        n_per_group=n_per_group,
        estimates={f"mean({la})": a.mean, f"mean({lb})": b.mean, "difference": diff},
        assumptions=[check],
        warnings=warnings,
    )


@guarded("mann_whitney_u")
def mann_whitney_test(
    a: ArrayLike, b: ArrayLike, labels: tuple[str, str] = ("a", "b")
) -> TestResult:
    """Two-sided Mann-Whitney U (scipy); effect the rank-biserial correlation.

    Rank-biserial r = 2·U_a/(n_a·n_b) - 1: +1 when every value of a exceeds every value of b.
    Exact p for small samples without ties, else normal approximation with tie correction.
    """
    la, lb = str(labels[0]), str(labels[1])
    distinct_labels([la, lb])
    x = as_sample(a, f"group {la}")
    y = as_sample(b, f"group {lb}")
    n_per_group = {la: x.size, lb: y.size}
    if is_constant(np.concatenate([x, y])):
        raise Untestable(
            "every value is identical: nothing to rank", n=x.size + y.size, n_per_group=n_per_group
        )
    method = "auto" if x.size * y.size <= EXACT_MWU_LIMIT else "asymptotic"
    result = stats.mannwhitneyu(x, y, alternative="two-sided", method=method)
    u = float(result.statistic)
    p_value = float(result.pvalue)
    require_finite(statistic=u, p_value=p_value)
    return TestResult(
        test="mann_whitney_u",
        statistic=u,
        p_value=min(1.0, p_value),
        effect_size=2 * u / (x.size * y.size) - 1,
        effect_size_name="rank_biserial",
        n=x.size + y.size,
        n_per_group=n_per_group,
        estimates={f"median({la})": float(np.median(x)), f"median({lb})": float(np.median(y))},
    )


@guarded("anova")
def anova_test(groups: Mapping[str, GroupStats]) -> TestResult:
    """One-way ANOVA F-test from each group's n, mean and sample variance; effect eta squared.

    scipy's ``f_oneway`` needs the raw values; from moments the sums of squares are computed here.
    """
    labels = [str(k) for k in groups]
    distinct_labels(labels)
    moments = list(groups.values())
    n_per_group = {label: g.n for label, g in zip(labels, moments, strict=True)}
    total = sum(n_per_group.values())
    if len(moments) < 2:
        raise Untestable(
            f"{len(moments)} group(s); ANOVA needs at least 2", n=total, n_per_group=n_per_group
        )
    for label, g in zip(labels, moments, strict=True):
        _check_moments(g, label, n_per_group)
    sizes = np.array([g.n for g in moments], dtype=np.float64)
    means = np.array([g.mean for g in moments])
    variances = np.array([g.variance for g in moments])
    grand = float((sizes * means).sum() / sizes.sum())
    between = float((sizes * (means - grand) ** 2).sum())
    within = float(((sizes - 1) * variances).sum())
    if within == 0:
        raise Untestable("no variation within any group", n=total, n_per_group=n_per_group)
    df_between, df_within = len(moments) - 1, total - len(moments)
    f = between / within * (df_within / df_between)
    p_value = float(stats.f.sf(f, df_between, df_within))
    require_finite(statistic=f, p_value=p_value)
    ratio = float(variances.max() / variances.min()) if variances.min() > 0 else math.inf
    variance_check = AssumptionCheck(
        name="similar variances",
        passed=ratio <= MAX_VARIANCE_RATIO,
        detail=f"largest / smallest group variance = {ratio:.3g} "
        f"(rule of thumb: <= {MAX_VARIANCE_RATIO:g})",
    )
    normal_check = _normality_check(n_per_group, "group means")
    warnings = []
    if not variance_check.passed:
        warnings.append(
            f"very unequal variances (ratio {ratio:.3g}): the F-test can mislead; "
            "compare pairs with Welch's t or use Kruskal-Wallis"
        )
    if not normal_check.passed:
        warnings.append(f"{CAVEAT}the groups are small, so the F-test leans on roughly normal data")
    return TestResult(
        test="anova",
        statistic=f,
        p_value=p_value,
        df=float(df_between),
        df2=float(df_within),
        effect_size=between / (between + within),
        effect_size_name="eta_squared",
        n=total,
        n_per_group=n_per_group,
        estimates={f"mean({label})": g.mean for label, g in zip(labels, moments, strict=True)},
        assumptions=[variance_check, normal_check],
        warnings=warnings,
    )


def _kruskal_h(values: np.ndarray, sizes: list[int]) -> float:
    """The tie-corrected H of groups laid end to end in ``values`` (``sizes`` each), as
    scipy's ``kruskal`` computes it, from one sort: average ranks are whole or half numbers,
    so the groups' rank sums are exact, and the ties' correction counts each run of equal
    values once (tests/unit/test_stats_agreement.py holds it to scipy)."""
    n = values.size
    order = np.argsort(values)
    ranked = values[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    ties = np.diff(np.r_[starts, n]).astype(np.float64)
    ranks = np.empty(n)
    ranks[order] = np.repeat(starts + (ties + 1) / 2, ties.astype(np.int64))
    edges = np.cumsum([0, *sizes])
    ssbn = sum(float(np.sum(ranks[a:b])) ** 2 / (b - a) for a, b in pairwise(edges))
    h = 12.0 / (n * (n + 1)) * ssbn - 3 * (n + 1)
    return float(h / (1 - float(np.sum(ties**3 - ties)) / (n**3 - n)))


@guarded("kruskal_wallis")
def kruskal_wallis_test(groups: Mapping[str, ArrayLike]) -> TestResult:
    """Kruskal-Wallis H test across groups (tie-corrected, as scipy's); effect epsilon squared.

    Epsilon squared = H·(n+1)/(n²-1): the share of rank variance explained by the groups.
    """
    labels = [str(k) for k in groups]
    distinct_labels(labels)
    samples = [
        as_sample(v, f"group {label}") for label, v in zip(labels, groups.values(), strict=True)
    ]
    n_per_group = {label: s.size for label, s in zip(labels, samples, strict=True)}
    total = sum(n_per_group.values())
    if len(samples) < 2:
        raise Untestable(
            f"{len(samples)} group(s); the test needs at least 2", n=total, n_per_group=n_per_group
        )
    values = np.concatenate(samples)
    if is_constant(values):
        raise Untestable(
            "every value is identical: nothing to rank", n=total, n_per_group=n_per_group
        )
    h = _kruskal_h(values, [s.size for s in samples])
    p_value = chi2_sf(h, len(samples) - 1)
    require_finite(statistic=h, p_value=p_value)
    smallest = min(n_per_group.values())
    return TestResult(
        test="kruskal_wallis",
        statistic=h,
        p_value=p_value,
        df=float(len(samples) - 1),
        effect_size=min(1.0, h * (total + 1) / (total**2 - 1)),
        effect_size_name="epsilon_squared",
        n=total,
        n_per_group=n_per_group,
        estimates={
            f"median({label})": float(np.median(s))
            for label, s in zip(labels, samples, strict=True)
        },
        assumptions=[
            AssumptionCheck(
                name="groups of 5 or more (chi-square approximation of H)",
                passed=smallest >= 5,
                detail=f"smallest group has n={smallest}",
            )
        ],
    )
