"""Every test in chatter.tools.stats agrees with an independent implementation on the same data.

p-values must match to 1e-9 relative (both below 1e-300 counts as agreement); each test records
its largest discrepancy in ``DISCREPANCIES`` and the last test checks the whole table.
``bench/stats_agreement.py`` prints the same comparison as a table.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats
from scipy.stats.contingency import association
from statsmodels.stats.contingency_tables import Table, Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.oneway import anova_oneway
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.rates import test_poisson_2indep as poisson_two_rates
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from chatter.tools.analyses.result import to_finding
from chatter.tools.insight.clauses import strength
from chatter.tools.stats import (
    GroupStats,
    adjust_p_values,
    anova_test,
    chi_square_test,
    correlation_pairs,
    fisher_exact_test,
    kruskal_wallis_test,
    level_vs_rest_test,
    mann_kendall_s,
    mann_kendall_test,
    mann_whitney_test,
    ols_trend_test,
    pearson_from_r,
    pearson_test,
    spearman_test,
    two_proportion_test,
    welch_t_test,
)
from chatter.tools.stats.rates import poisson_interval, rate_homogeneity_test, rate_ratio_test

REL = 1e-9
TINY = 1e-300
DISCREPANCIES: dict[str, float] = {}


def relative(ours: float | None, reference: float) -> float:
    """Relative difference; two p-values both below 1e-300 agree."""
    assert ours is not None
    if abs(ours) < TINY and abs(reference) < TINY:
        return 0.0
    scale = max(abs(ours), abs(reference))
    return 0.0 if scale == 0 else abs(ours - reference) / scale


def agree(method: str, ours: float | None, reference: float, rel: float = REL) -> None:
    """Assert agreement and record the discrepancy under ``method``."""
    gap = relative(ours, float(reference))
    DISCREPANCIES[method] = max(DISCREPANCIES.get(method, 0.0), gap)
    assert gap <= rel, f"{method}: ours {ours} vs reference {reference} (rel {gap:.3g})"


def moments(sample: np.ndarray) -> GroupStats:
    return GroupStats(n=sample.size, mean=float(sample.mean()), variance=float(sample.var(ddof=1)))


SEEDS = [0, 1, 2, 3]


# --- counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(2, 2), (3, 2), (5, 3), (8, 2)])
def test_chi_square_matches_scipy_and_statsmodels(seed: int, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(seed)
    table = rng.integers(5, 400, size=shape)
    table[0, 0] += seed * 150  # from no effect to a strong one
    labels = [f"r{i}" for i in range(shape[0])]
    result = chi_square_test(table.tolist(), labels, [f"c{j}" for j in range(shape[1])])
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    agree("chi_square", result.p_value, p)
    assert result.statistic == pytest.approx(chi2, rel=1e-12)
    assert result.df == dof
    nominal = Table(table).test_nominal_association()
    assert result.statistic == pytest.approx(nominal.statistic, rel=1e-12)
    # statsmodels computes p as 1 - cdf, exact only to ~1e-16 absolute
    assert result.p_value == pytest.approx(nominal.pvalue, rel=REL, abs=1e-15)
    assert result.effect_size == pytest.approx(association(table, method="cramer"), rel=1e-12)
    assert result.n == table.sum()
    assert result.n_per_group == dict(zip(labels, table.sum(axis=1).tolist(), strict=True))


TWO_BY_TWO = [
    (40, 500, 300, 5000),
    (3, 20, 9, 25),
    (500, 1000, 30000, 60000),
    (0, 80, 12, 90),
    (0, 40, 60, 400),
    (20, 20, 100, 400),
]


@pytest.mark.parametrize(("s", "n", "s_rest", "n_rest"), TWO_BY_TWO)
def test_two_proportion_matches_statsmodels(s: int, n: int, s_rest: int, n_rest: int) -> None:
    result = two_proportion_test(s, n, s_rest, n_rest, label="west")
    z, p = proportions_ztest([s, s_rest], [n, n_rest])
    agree("two_proportion_z", result.p_value, p)
    assert result.statistic == pytest.approx(z, rel=1e-12)
    low, high = confint_proportions_2indep(s, n, s_rest, n_rest, method="newcomb", compare="diff")
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9, abs=1e-12)
    assert result.ci_low < result.ci_high  # never the zero-width Wald interval at 0%
    assert result.effect_size == pytest.approx(
        proportion_effectsize(s / n, s_rest / n_rest), rel=1e-12
    )
    assert result.estimates["difference"] == pytest.approx(s / n - s_rest / n_rest)
    assert result.ci_of == "rate(west) - rate(rest)"
    assert result.n_per_group == {"west": n, "rest": n_rest}


def fisher_by_enumeration(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher p in exact rationals: tables at most as likely as the observed one."""
    row, col, total = a + b, a + c, a + b + c + d

    def pmf(x: int) -> Fraction:
        return Fraction(math.comb(col, x) * math.comb(total - col, row - x), math.comb(total, row))

    observed = pmf(a)
    support = range(max(0, row + col - total), min(row, col) + 1)
    # same relative tolerance for "as likely" as R and scipy use
    return float(sum(p for x in support if (p := pmf(x)) <= observed * Fraction(1 + 10**-7)))


@pytest.mark.parametrize(
    ("s", "n", "s_rest", "n_rest"),
    [(3, 20, 9, 25), (0, 10, 5, 10), (10, 10, 2, 12), (1, 40, 7, 60), (12, 30, 30, 300)],
)
def test_fisher_matches_scipy_and_enumeration(s: int, n: int, s_rest: int, n_rest: int) -> None:
    result = fisher_exact_test(s, n, s_rest, n_rest)
    table = [[s, n - s], [s_rest, n_rest - s_rest]]
    agree("fisher_exact", result.p_value, stats.fisher_exact(table).pvalue)
    agree("fisher_exact", result.p_value, fisher_by_enumeration(s, n - s, s_rest, n_rest - s_rest))
    conditional = stats.contingency.odds_ratio(table)
    ci = conditional.confidence_interval()
    if 0 < conditional.statistic < math.inf:
        assert result.effect_size == pytest.approx(conditional.statistic, rel=1e-9)
    else:
        assert result.effect_size is None and result.warnings
    for ours, theirs in ((result.ci_low, ci.low), (result.ci_high, ci.high)):
        assert ours == (pytest.approx(theirs, rel=1e-9) if math.isfinite(theirs) else None)


@pytest.mark.parametrize(
    ("s", "n", "s_rest", "n_rest"), [(300, 1000, 450, 1200), (40, 2000, 900, 5000)]
)
def test_fisher_on_large_tables_reports_woolfs_interval(
    s: int, n: int, s_rest: int, n_rest: int
) -> None:
    result = fisher_exact_test(s, n, s_rest, n_rest)
    table = Table2x2(np.array([[s, n - s], [s_rest, n_rest - s_rest]]))
    assert "Woolf" in result.assumptions[0].detail
    assert result.effect_size == pytest.approx(table.oddsratio, rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx(table.oddsratio_confint(), rel=1e-12)


# --- means -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n_a", "n_b"), [(5, 7), (40, 25), (800, 3000)])
def test_welch_from_moments_matches_raw_sample_tests(seed: int, n_a: int, n_b: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.lognormal(1.0, 0.8, n_a)
    b = rng.lognormal(1.0 + 0.15 * seed, 1.1, n_b)
    result = welch_t_test(moments(a), moments(b), ("gold", "bronze"))
    reference = stats.ttest_ind(a, b, equal_var=False)
    agree("welch_t", result.p_value, reference.pvalue)
    t, p, dof = ttest_ind(a, b, usevar="unequal")
    agree("welch_t", result.p_value, p)
    assert (result.statistic, result.df) == pytest.approx((t, dof), rel=1e-9)
    low, high = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(usevar="unequal")
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9, abs=1e-12)
    dof_pooled = n_a + n_b - 2
    pooled = math.sqrt(((n_a - 1) * a.var(ddof=1) + (n_b - 1) * b.var(ddof=1)) / dof_pooled)
    hedges = (a.mean() - b.mean()) / pooled * (1 - 3 / (4 * dof_pooled - 1))
    assert result.effect_size == pytest.approx(hedges, rel=2e-3)  # approximate J vs exact J


@pytest.mark.parametrize("unit", [1e-300, 1e-200, 1e-160, 1e160, 1e200, 1e300])
def test_welch_from_moments_is_the_same_in_any_unit(unit: float) -> None:
    """Variances in units whose squares under- or overflow (``unit`` is the variance's unit)
    give the unit-scale test: scipy must not fall back to its df = 1 there."""
    a, b = GroupStats(n=5, mean=0.0, variance=2.0), GroupStats(n=9, mean=1.5, variance=9.0)
    scaled = [
        GroupStats(n=g.n, mean=g.mean * math.sqrt(unit), variance=g.variance * unit) for g in (a, b)
    ]
    reference, result = welch_t_test(a, b), welch_t_test(*scaled)
    agree("welch_t", result.p_value, reference.p_value or 0.0, rel=1e-12)
    assert (result.statistic, result.df) == pytest.approx(
        (reference.statistic, reference.df), rel=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n_a", "n_b", "decimals"), [(5, 6, 6), (30, 45, 0), (400, 900, 1)])
def test_mann_whitney_matches_scipy(seed: int, n_a: int, n_b: int, decimals: int) -> None:
    rng = np.random.default_rng(seed)
    a = np.round(rng.exponential(3.0, n_a), decimals)  # rounding makes ties
    b = np.round(rng.exponential(3.0 + seed, n_b), decimals)
    result = mann_whitney_test(a, b)
    reference = stats.mannwhitneyu(a, b, alternative="two-sided")
    agree("mann_whitney_u", result.p_value, reference.pvalue)
    assert result.statistic == reference.statistic
    wins = (a[:, None] > b[None, :]).sum() + 0.5 * (a[:, None] == b[None, :]).sum()
    assert result.effect_size == pytest.approx(2 * wins / (n_a * n_b) - 1, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sizes", [(5, 6, 7), (50, 80, 30, 60), (2000, 1500)])
def test_anova_from_moments_matches_raw_sample_tests(seed: int, sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    samples = [rng.normal(0.1 * seed * i, 1 + 0.2 * i, n) for i, n in enumerate(sizes)]
    result = anova_test({f"g{i}": moments(s) for i, s in enumerate(samples)})
    reference = stats.f_oneway(*samples)
    agree("anova", result.p_value, reference.pvalue)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9)
    agree("anova", result.p_value, anova_oneway(samples, use_var="equal").pvalue)
    assert (result.df, result.df2) == (len(sizes) - 1, sum(sizes) - len(sizes))
    everything = np.concatenate(samples)
    between = sum(s.size * (s.mean() - everything.mean()) ** 2 for s in samples)
    total = ((everything - everything.mean()) ** 2).sum()
    assert result.effect_size == pytest.approx(between / total, rel=1e-9)


def kruskal_by_formula(samples: list[np.ndarray]) -> tuple[float, float]:
    """H from the textbook formula with the tie correction, and its chi-square p-value."""
    everything = np.concatenate(samples)
    n = everything.size
    ranks = stats.rankdata(everything)
    bounds = np.cumsum([0] + [s.size for s in samples])
    h = 12 / (n * (n + 1)) * sum(
        ranks[lo:hi].sum() ** 2 / (hi - lo) for lo, hi in itertools.pairwise(bounds)
    ) - 3 * (n + 1)
    _, ties = np.unique(everything, return_counts=True)
    h /= 1 - (ties**3 - ties).sum() / (n**3 - n)
    return h, stats.chi2.sf(h, len(samples) - 1)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sizes", [(5, 6, 7), (60, 40, 80, 50), (1000, 700)])
def test_kruskal_matches_scipy_and_formula(seed: int, sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    samples = [rng.poisson(3 + 0.3 * seed * i, n).astype(float) for i, n in enumerate(sizes)]
    result = kruskal_wallis_test({f"g{i}": s for i, s in enumerate(samples)})
    agree("kruskal_wallis", result.p_value, stats.kruskal(*samples).pvalue)
    h, p = kruskal_by_formula(samples)
    agree("kruskal_wallis", result.p_value, p)
    n = sum(sizes)
    assert result.effect_size == pytest.approx(h * (n + 1) / (n**2 - 1), rel=1e-9)


@pytest.mark.parametrize("decimals", [0, 1, 6])  # many ties, some, almost none
def test_kruskal_is_scipys_bit_for_bit(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    for _ in range(40):
        sizes = rng.integers(2, 3000, size=int(rng.integers(2, 6)))
        samples = [np.round(rng.normal(i * 0.1, 2.0, n), decimals) for i, n in enumerate(sizes)]
        result = kruskal_wallis_test({f"g{i}": s for i, s in enumerate(samples)})
        reference = stats.kruskal(*samples)
        assert (result.statistic, result.p_value) == (reference.statistic, reference.pvalue)


# --- correlation -----------------------------------------------------------------------------


def correlated(seed: int, n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=n)
    return x, y


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "rho"), [(4, 0.5), (30, 0.3), (500, 0.1), (2000, 0.8)])
def test_pearson_matches_scipy(seed: int, n: int, rho: float) -> None:
    x, y = correlated(seed, n, rho)
    result = pearson_test(x, y)
    reference = stats.pearsonr(x, y)
    agree("pearson", result.p_value, reference.pvalue)
    assert result.effect_size == pytest.approx(reference.statistic, rel=1e-12)
    ci = reference.confidence_interval()
    assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    from_r = pearson_from_r(float(np.corrcoef(x, y)[0, 1]), n)
    agree("pearson_from_r", from_r.p_value, reference.pvalue)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "rho"), [(5, 0.5), (30, 0.3), (500, 0.1), (2000, 0.8)])
def test_spearman_matches_scipy(seed: int, n: int, rho: float) -> None:
    x, y = correlated(seed, n, rho)
    x = np.round(np.exp(x), 1)  # skewed, with ties
    result = spearman_test(x, y)
    reference = stats.spearmanr(x, y)
    agree("spearman", result.p_value, reference.pvalue)
    assert result.effect_size == pytest.approx(reference.statistic, rel=1e-12)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_pairs_equal_the_per_pair_tests(method: str) -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(size=(3000, 1))
    usage = np.hstack([base + rng.normal(size=(3000, 1)) * s for s in (0.5, 1, 2, 8)])
    matrix = np.hstack([np.round(np.exp(usage), 1), np.full((3000, 1), 7.0)])  # + a constant
    names = ["alpha", "beta", "gamma", "delta", "flat"]
    pairs = correlation_pairs(matrix, names, method=method)  # type: ignore[arg-type]
    assert [(a, b) for a, b, _ in pairs] == list(itertools.combinations(names, 2))
    single = pearson_test if method == "pearson" else spearman_test
    for a, b, result in pairs:
        if "flat" in (a, b):
            assert not result.testable and "constant" in (result.reason or "")
            continue
        i, j = names.index(a), names.index(b)
        alone = single(matrix[:, i], matrix[:, j])
        agree(f"correlation_pairs ({method})", result.p_value, alone.p_value or 0.0, rel=1e-12)
        assert result.effect_size == pytest.approx(alone.effect_size, rel=1e-12)
        assert (result.ci_low, result.ci_high) == pytest.approx((alone.ci_low, alone.ci_high))
        reference = (stats.pearsonr if method == "pearson" else stats.spearmanr)(
            matrix[:, i], matrix[:, j]
        )
        agree(f"correlation_pairs ({method})", result.p_value, reference.pvalue)


# --- trend -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "slope"), [(3, 1.0), (12, 0.2), (104, 0.02), (730, 0.0)])
def test_ols_trend_matches_statsmodels(seed: int, n: int, slope: float) -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, n, n))
    y = 5 + slope * x + rng.normal(size=n)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    result = ols_trend_test(y.tolist(), x.tolist())
    agree("ols_trend", result.p_value, fit.pvalues[1])
    assert result.estimates["slope"] == pytest.approx(fit.params[1], rel=1e-9)
    assert result.estimates["intercept"] == pytest.approx(fit.params[0], rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx(tuple(fit.conf_int()[1]), rel=1e-9)
    assert result.effect_size == pytest.approx(fit.rsquared, rel=1e-9, abs=1e-12)
    by_index = ols_trend_test(y.tolist())
    reference = stats.linregress(np.arange(n), y)
    agree("ols_trend", by_index.p_value, reference.pvalue)


def mann_kendall_by_formula(y: np.ndarray, continuity: bool) -> tuple[int, float, float]:
    """S, variance and p by the textbook O(n²) definitions, ties included."""
    n = y.size
    s = sum(int(np.sign(y[j] - y[i])) for i in range(n) for j in range(i + 1, n))
    _, ties = np.unique(y, return_counts=True)
    variance = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties)) / 18
    if continuity and s != 0:
        z = (s - math.copysign(1, s)) / math.sqrt(variance)
    else:
        z = s / math.sqrt(variance)
    return s, variance, 2 * stats.norm.sf(abs(z))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "decimals"), [(4, 1), (25, 0), (150, 1)])
@pytest.mark.parametrize("continuity", [True, False])
def test_mann_kendall_matches_formula_and_kendalltau(
    seed: int, n: int, decimals: int, continuity: bool
) -> None:
    rng = np.random.default_rng(seed)
    y = np.round(0.03 * seed * np.arange(n) + rng.normal(size=n), decimals)
    if np.ptp(y) == 0:
        pytest.skip("constant draw")
    result = mann_kendall_test(y.tolist(), continuity=continuity)
    s, _, p = mann_kendall_by_formula(y, continuity)
    assert result.statistic == s
    agree("mann_kendall", result.p_value, p)
    reference = stats.kendalltau(np.arange(n), y, method="asymptotic")
    assert result.effect_size == pytest.approx(reference.statistic, rel=1e-12, abs=1e-15)
    if not continuity:  # kendalltau's asymptotic test is Mann-Kendall without the correction
        agree("mann_kendall", result.p_value, reference.pvalue)
    sen = stats.theilslopes(y, np.arange(n))
    slopes = [(y[j] - y[i]) / (j - i) for i in range(n) for j in range(i + 1, n)]
    assert result.estimates["sens_slope"] == pytest.approx(np.median(slopes), abs=1e-12)
    assert (result.ci_low, result.ci_high) == (sen.low_slope, sen.high_slope)


def calendar_positions(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct period positions with gaps (months without data), in order."""
    return np.sort(rng.choice(np.arange(2 * n), size=n, replace=False)).astype(float)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "slope"), [(3, 1.0), (12, 0.2), (40, 0.05), (104, 0.0)])
def test_ols_trend_at_calendar_positions_matches_linregress(
    seed: int, n: int, slope: float
) -> None:
    rng = np.random.default_rng(seed)
    x = calendar_positions(rng, n)
    y = 5 + slope * x + rng.normal(size=n)
    result = ols_trend_test(y.tolist(), x.tolist())
    reference = stats.linregress(x, y)
    agree("ols_trend (calendar x)", result.p_value, reference.pvalue)
    assert result.estimates["slope"] == pytest.approx(reference.slope, rel=1e-9, abs=1e-12)
    assert result.estimates["intercept"] == pytest.approx(reference.intercept, rel=1e-9)
    assert result.effect_size == pytest.approx(reference.rvalue**2, rel=1e-9, abs=1e-12)
    half = stats.t.ppf(0.975, n - 2) * reference.stderr
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (reference.slope - half, reference.slope + half), rel=1e-9, abs=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [4, 25, 150])
def test_mann_kendall_at_calendar_positions(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x = calendar_positions(rng, n)
    y = np.round(0.02 * seed * x + rng.normal(size=n), 1)
    if np.ptp(y) == 0:
        pytest.skip("constant draw")
    result = mann_kendall_test(y.tolist(), x=x.tolist())
    by_index = mann_kendall_test(y.tolist())
    # S, tau and p depend on the order only; Sen's slope is per unit of x.
    assert (result.statistic, result.p_value) == (by_index.statistic, by_index.p_value)
    reference = stats.kendalltau(x, y)
    assert result.effect_size == pytest.approx(reference.statistic, rel=1e-12, abs=1e-15)
    sen = stats.theilslopes(y, x)
    assert result.estimates["sens_slope"] == pytest.approx(sen.slope, rel=1e-12, abs=1e-15)
    assert (result.ci_low, result.ci_high) == (sen.low_slope, sen.high_slope)
    shuffled = rng.permutation(n)
    again = mann_kendall_test(y[shuffled].tolist(), x=x[shuffled].tolist())
    assert again.estimates == result.estimates and again.statistic == result.statistic
    assert mann_kendall_test(y.tolist(), x=list(range(n))) == by_index
    assert not mann_kendall_test([1.0, 2.0, 3.0], x=[0.0, 1.0, 1.0]).testable


@pytest.mark.parametrize(("n", "decimals"), [(2, 0), (9, 0), (300, 0), (1200, 1), (3000, 2)])
def test_mann_kendall_s_from_kendalltau_is_exact(n: int, decimals: int) -> None:
    rng = np.random.default_rng(11)
    y = np.round(rng.normal(size=n), decimals)  # rounding makes ties
    i, j = np.triu_indices(n, k=1)
    assert mann_kendall_s(y) == int(np.sign(y[j] - y[i]).sum())
    assert mann_kendall_s(np.full(n, 3.0)) == 0  # tau is undefined, S is not


# --- rates per exposure ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c1", "t1", "c2", "t2"),
    [(12, 400.0, 30, 500.0), (3, 50.0, 1, 80.0), (150, 3000.0, 160, 3100.0), (0, 10.0, 5, 20.0),
     (900, 12_000.5, 2_100, 19_000.25), (1, 1.0, 0, 3.0)],
)  # fmt: skip
def test_rate_ratio_matches_statsmodels_exact_conditional(
    c1: int, t1: float, c2: int, t2: float
) -> None:
    ours = rate_ratio_test(c1, t1, c2, t2, label="a")
    reference = poisson_two_rates(c1, t1, c2, t2, method="exact-cond")
    agree("rate_ratio_test", ours.p_value, reference.pvalue)
    # The interval: Clopper-Pearson of the binomial share, mapped to the rate ratio.
    low, high = proportion_confint(c1, c1 + c2, alpha=0.05, method="beta")
    odds = t2 / t1
    if low > 0:
        agree("rate_ratio_test (interval)", ours.ci_low, low / (1 - low) * odds)
    if high < 1:
        agree("rate_ratio_test (interval)", ours.ci_high, high / (1 - high) * odds)
    assert ours.effect_size == (pytest.approx((c1 / t1) / (c2 / t2)) if c2 else None)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3, 6])
def test_rate_homogeneity_matches_scipy_chisquare(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    exposure = rng.uniform(100, 5000, k)
    counts = rng.poisson(exposure * rng.uniform(0.02, 0.05, k))
    ours = rate_homogeneity_test(counts.tolist(), exposure.tolist(), [f"g{i}" for i in range(k)])
    expected = counts.sum() * exposure / exposure.sum()
    reference = stats.chisquare(counts, expected)
    agree("rate_homogeneity_test", ours.statistic, reference.statistic)
    agree("rate_homogeneity_test", ours.p_value, reference.pvalue)


def test_poisson_interval_is_garwoods() -> None:
    low, high = poisson_interval(5, 100.0)
    assert low == pytest.approx(stats.chi2.ppf(0.025, 10) / 2 / 100, rel=1e-12)
    assert high == pytest.approx(stats.chi2.ppf(0.975, 12) / 2 / 100, rel=1e-12)
    assert poisson_interval(0, 10.0)[0] == 0.0


# --- multiple comparisons --------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS[:2])  # statsmodels' Holm takes ~60 ms a call
@pytest.mark.parametrize("m", [1, 2, 7, 50, 400])
@pytest.mark.parametrize(("ours", "theirs"), [("bh", "fdr_bh"), ("holm", "holm")])
def test_adjusted_p_values_match_statsmodels(seed: int, m: int, ours: str, theirs: str) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=m - m // 3), rng.uniform(0, 1e-4, m // 3)])
    p[: m // 5] = np.round(p[: m // 5], 2)  # ties
    adjusted = adjust_p_values(p.tolist(), method=ours)  # type: ignore[arg-type]
    reference = multipletests(p, method=theirs)[1]
    assert np.allclose(adjusted, reference, rtol=0, atol=1e-12)
    gap = float(np.max(np.abs(np.array(adjusted) - reference) / np.maximum(reference, TINY)))
    DISCREPANCIES[f"adjust_p_values ({ours})"] = max(
        DISCREPANCIES.get(f"adjust_p_values ({ours})", 0.0), gap
    )


def test_every_method_recorded_and_within_tolerance() -> None:
    """Runs last in this file: the table of largest discrepancies stays within 1e-9."""
    if not DISCREPANCIES:
        pytest.skip("run with the rest of the file to collect discrepancies")
    assert max(DISCREPANCIES.values()) <= REL, DISCREPANCIES


@pytest.mark.parametrize(("s", "n", "s_rest", "n_rest"), [(0, 40, 60, 400), (20, 20, 100, 400)])
def test_an_empty_cell_gets_the_exact_test_and_a_rank(
    s: int, n: int, s_rest: int, n_rest: int
) -> None:
    """0 of 40 (or 20 of 20) has expected counts >= 5, but the normal approximation misleads
    at 0% and 100%: the level is tested exactly, and ranked by Cohen's h though its odds ratio
    is undefined."""
    result = level_vs_rest_test(s, n, s_rest, n_rest, label="north")
    assert result.test == "fisher_exact"
    agree(
        "fisher_exact",
        result.p_value,
        stats.fisher_exact([[s, n - s], [s_rest, n_rest - s_rest]]).pvalue,
    )
    assert result.effect_size is None  # the odds ratio is 0 or infinite
    finding = to_finding(result, metric="conversion_rate", dimension="region", segment="north")
    h = abs(proportion_effectsize(s / n, s_rest / n_rest))
    assert strength(finding) == pytest.approx(
        strength(finding.model_copy(update={"effect_size": h, "effect_size_name": "cohens_h"}))
    )
    assert strength(finding) > 1
