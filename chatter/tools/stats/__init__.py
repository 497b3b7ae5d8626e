"""Statistical tests an analyst would sign, on sufficient statistics where the method allows.

Every test returns a TestResult: the test's name, statistic, p-value, effect size (with its
name), confidence interval where one is defined, n per group, the assumption checks made and
their warnings. Inputs that cannot be tested (one level, zero variance, an empty group, NaN,
tiny n) return ``testable=False`` with the reason: never an exception, never a NaN as a finding.

This module is the public face; each family of tests lives in its own module: tables of
counts in ``contingency`` and ``proportions``, group means in ``means``, correlation in
``correlation``, trends in ``trend`` and multiple comparisons in ``correction``. scipy computes
each test wherever it can from the same inputs; what is written here is what scipy cannot do
from sufficient statistics (moments, weighted joint distributions) and the checks around it.
See docs/statistics.md.
"""

from __future__ import annotations

from chatter.tools.stats.contingency import chi_square_test
from chatter.tools.stats.correction import (
    CorrectionMethod,
    adjust_p_values,
    adjust_results,
    correct_findings,
)
from chatter.tools.stats.correlation import (
    average_ranks,
    correlation_pairs,
    pearson_from_r,
    pearson_test,
    spearman_from_rho,
    spearman_test,
    weighted_correlation_pairs,
)
from chatter.tools.stats.means import (
    anova_test,
    kruskal_wallis_test,
    mann_whitney_test,
    welch_t_test,
)
from chatter.tools.stats.proportions import (
    cohens_h,
    fisher_exact_test,
    level_vs_rest_test,
    two_proportion_test,
)
from chatter.tools.stats.test_result import (
    AssumptionCheck,
    GroupStats,
    TestResult,
    finite,
    not_testable,
)
from chatter.tools.stats.trend import mann_kendall_s, mann_kendall_test, ols_trend_test

__all__ = [
    "AssumptionCheck",
    "CorrectionMethod",
    "GroupStats",
    "TestResult",
    "adjust_p_values",
    "adjust_results",
    "anova_test",
    "average_ranks",
    "chi_square_test",
    "cohens_h",
    "correct_findings",
    "correlation_pairs",
    "finite",
    "fisher_exact_test",
    "kruskal_wallis_test",
    "level_vs_rest_test",
    "mann_kendall_s",
    "mann_kendall_test",
    "mann_whitney_test",
    "not_testable",
    "ols_trend_test",
    "pearson_from_r",
    "pearson_test",
    "spearman_from_rho",
    "spearman_test",
    "two_proportion_test",
    "weighted_correlation_pairs",
    "welch_t_test",
]
