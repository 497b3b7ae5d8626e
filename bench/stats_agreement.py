"""Every test of chatter.tools.stats against an independent implementation, on generated data.

Prints "method | reference | max relative p discrepancy" (goal: <= 1e-9 everywhere; two
p-values below 1e-300 count as equal) and the time of ``correlation_pairs`` on 1M x 8.
Run as ``python bench/stats_agreement.py``. Asserts nothing; tests/unit/test_stats_agreement.py
holds the same comparisons as tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import numpy as np
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.oneway import anova_oneway
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.weightstats import ttest_ind

from chatter.tools import stats as ours

SEEDS = range(5)
Pair = tuple[float | None, float]  # (ours, reference)


def relative(mine: float | None, reference: float) -> float:
    if mine is None:
        return math.inf
    if abs(mine) < 1e-300 and abs(reference) < 1e-300:
        return 0.0
    scale = max(abs(mine), abs(reference))
    return 0.0 if scale == 0 else abs(mine - reference) / scale


def moments(x: np.ndarray) -> ours.GroupStats:
    return ours.GroupStats(n=x.size, mean=float(x.mean()), variance=float(x.var(ddof=1)))


def chi_square() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        for shape in [(2, 2), (4, 2), (6, 3)]:
            table = rng.integers(5, 500, size=shape)
            table[0, 0] += 200 * seed
            labels = [str(i) for i in range(shape[0])]
            cols = [str(j) for j in range(shape[1])]
            p = stats.chi2_contingency(table, correction=False).pvalue
            yield ours.chi_square_test(table.tolist(), labels, cols).p_value, p


def two_proportion() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        n, n_rest = rng.integers(50, 5000, size=2)
        s, s_rest = rng.binomial(n, 0.2 + 0.02 * seed), rng.binomial(n_rest, 0.2)
        p = proportions_ztest([s, s_rest], [n, n_rest])[1]
        yield ours.two_proportion_test(int(s), int(n), int(s_rest), int(n_rest)).p_value, p


def fisher() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        n, n_rest = rng.integers(5, 60, size=2)
        s, s_rest = rng.binomial(n, 0.1 + 0.1 * seed), rng.binomial(n_rest, 0.2)
        table = [[s, n - s], [s_rest, n_rest - s_rest]]
        p = stats.fisher_exact(table).pvalue
        yield ours.fisher_exact_test(int(s), int(n), int(s_rest), int(n_rest)).p_value, p


def welch_scipy() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        a, b = rng.lognormal(1, 0.8, 60 + 50 * seed), rng.lognormal(1.1, 1, 40 + 90 * seed)
        p = stats.ttest_ind(a, b, equal_var=False).pvalue
        yield ours.welch_t_test(moments(a), moments(b)).p_value, p


def welch_statsmodels() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        a, b = rng.lognormal(1, 0.8, 60 + 50 * seed), rng.lognormal(1.1, 1, 40 + 90 * seed)
        yield (
            ours.welch_t_test(moments(a), moments(b)).p_value,
            ttest_ind(a, b, usevar="unequal")[1],
        )


def mann_whitney() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        a, b = np.round(rng.exponential(3, 200), 0), np.round(rng.exponential(3 + seed, 300), 0)
        yield ours.mann_whitney_test(a, b).p_value, stats.mannwhitneyu(a, b).pvalue


def samples(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0.1 * seed * i, 1 + 0.2 * i, 100 + 30 * i) for i in range(4)]


def anova_scipy() -> Iterator[Pair]:
    for seed in SEEDS:
        groups = samples(seed)
        mine = ours.anova_test({str(i): moments(g) for i, g in enumerate(groups)}).p_value
        yield mine, stats.f_oneway(*groups).pvalue


def anova_statsmodels() -> Iterator[Pair]:
    for seed in SEEDS:
        groups = samples(seed)
        mine = ours.anova_test({str(i): moments(g) for i, g in enumerate(groups)}).p_value
        yield mine, anova_oneway(groups, use_var="equal").pvalue


def kruskal() -> Iterator[Pair]:
    for seed in SEEDS:
        groups = [np.round(g) for g in samples(seed)]
        mine = ours.kruskal_wallis_test({str(i): g for i, g in enumerate(groups)}).p_value
        yield mine, stats.kruskal(*groups).pvalue


def correlated(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x, 0.05 * seed * x + rng.normal(size=n)


def pearson() -> Iterator[Pair]:
    for seed in SEEDS:
        x, y = correlated(seed)
        yield ours.pearson_test(x, y).p_value, stats.pearsonr(x, y).pvalue


def pearson_from_r() -> Iterator[Pair]:
    for seed in SEEDS:
        x, y = correlated(seed)
        mine = ours.pearson_from_r(float(np.corrcoef(x, y)[0, 1]), x.size).p_value
        yield mine, stats.pearsonr(x, y).pvalue


def spearman() -> Iterator[Pair]:
    for seed in SEEDS:
        x, y = correlated(seed)
        x = np.round(np.exp(x), 1)
        yield ours.spearman_test(x, y).p_value, stats.spearmanr(x, y).pvalue


def correlation_pairs() -> Iterator[Pair]:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(2000, 5)) + 0.1 * rng.normal(size=(2000, 1))
    reference = stats.spearmanr(matrix).pvalue
    for a, b, result in ours.correlation_pairs(matrix, list("abcde")):
        yield result.p_value, reference["abcde".index(a), "abcde".index(b)]


def ols_trend() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        y = 3 + 0.01 * seed * np.arange(100) + rng.normal(size=100)
        fit = sm.OLS(y, sm.add_constant(np.arange(100.0))).fit()
        yield ours.ols_trend_test(y.tolist()).p_value, fit.pvalues[1]


def mann_kendall_formula() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        y = np.round(0.02 * seed * np.arange(80) + rng.normal(size=80), 1)
        n = y.size
        i, j = np.triu_indices(n, k=1)
        s = int(np.sign(y[j] - y[i]).sum())
        _, t = np.unique(y, return_counts=True)
        var = (n * (n - 1) * (2 * n + 5) - (t * (t - 1) * (2 * t + 5)).sum()) / 18
        z = (s - np.sign(s)) / math.sqrt(var)
        yield ours.mann_kendall_test(y.tolist()).p_value, 2 * stats.norm.sf(abs(z))


def mann_kendall_kendalltau() -> Iterator[Pair]:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        y = np.round(0.02 * seed * np.arange(80) + rng.normal(size=80), 1)
        reference = stats.kendalltau(np.arange(80), y, method="asymptotic").pvalue
        yield ours.mann_kendall_test(y.tolist(), continuity=False).p_value, reference


def adjust(method: str, reference: str) -> Callable[[], Iterator[Pair]]:
    def pairs() -> Iterator[Pair]:
        for seed in SEEDS:
            rng = np.random.default_rng(seed)
            p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 1e-3, size=10)])
            theirs = multipletests(p, method=reference)[1]
            yield from zip(ours.adjust_p_values(p.tolist(), method=method), theirs, strict=True)  # type: ignore[arg-type]

    return pairs


CHECKS: list[tuple[str, str, Callable[[], Iterator[Pair]]]] = [
    ("chi_square", "scipy chi2_contingency(correction=False)", chi_square),
    ("two_proportion_z", "statsmodels proportions_ztest", two_proportion),
    ("fisher_exact", "scipy fisher_exact", fisher),
    ("welch_t (moments)", "scipy ttest_ind(equal_var=False), raw", welch_scipy),
    ("welch_t (moments)", "statsmodels ttest_ind(usevar='unequal'), raw", welch_statsmodels),
    ("mann_whitney_u", "scipy mannwhitneyu", mann_whitney),
    ("anova (moments)", "scipy f_oneway, raw", anova_scipy),
    ("anova (moments)", "statsmodels anova_oneway, raw", anova_statsmodels),
    ("kruskal_wallis", "scipy kruskal", kruskal),
    ("pearson", "scipy pearsonr", pearson),
    ("pearson_from_r", "scipy pearsonr", pearson_from_r),
    ("spearman", "scipy spearmanr", spearman),
    ("correlation_pairs", "scipy spearmanr (matrix)", correlation_pairs),
    ("ols_trend", "statsmodels OLS", ols_trend),
    ("mann_kendall", "textbook O(n^2) formula with ties", mann_kendall_formula),
    ("mann_kendall (no cc)", "scipy kendalltau(method='asymptotic')", mann_kendall_kendalltau),
    ("adjust_p_values bh", "statsmodels multipletests fdr_bh", adjust("bh", "fdr_bh")),
    ("adjust_p_values holm", "statsmodels multipletests holm", adjust("holm", "holm")),
]


def main() -> None:
    rows = [("method", "reference", "max relative p discrepancy")]
    for method, reference, pairs in CHECKS:
        worst = max(relative(mine, float(theirs)) for mine, theirs in pairs())
        rows.append((method, reference, f"{worst:.2e}"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for k, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            print("-|-".join("-" * w for w in widths))
    matrix = np.random.default_rng(0).lognormal(size=(1_000_000, 8))
    names = [f"f{j}" for j in range(8)]
    for method in ("spearman", "pearson"):
        started = time.perf_counter()
        ours.correlation_pairs(matrix, names, method=method)  # type: ignore[arg-type]
        print(
            f"\ncorrelation_pairs({method}) on 1,000,000 x 8: "
            f"{time.perf_counter() - started:.2f} s",
            end="",
        )
    print()


if __name__ == "__main__":
    main()
