"""Multiple comparisons: every test of a run goes through one correction before it is reported.

Benjamini-Hochberg (the default) keeps the expected share of false findings among the reported
ones at alpha; Holm keeps the chance of any false finding at alpha (stricter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from chatter.result import Finding
from chatter.tools.stats.test_result import TestResult

CorrectionMethod = Literal["bh", "holm"]


def adjust_p_values(p_values: Sequence[float], method: CorrectionMethod = "bh") -> list[float]:
    """Adjusted p-values, in input order: Benjamini-Hochberg step-up or Holm step-down.

    Equal to statsmodels ``multipletests(method="fdr_bh" / "holm")``. Invalid inputs are
    treated conservatively: NaN counts as 1 and values are clipped to [0, 1]; never raises.

    >>> [round(q, 6) for q in adjust_p_values([0.01, 0.04, 0.03])]
    [0.03, 0.04, 0.04]
    >>> [round(q, 6) for q in adjust_p_values([0.01, 0.04, 0.03], method="holm")]
    [0.03, 0.06, 0.06]
    """
    try:
        p = np.asarray(p_values, dtype=np.float64).ravel()
    except (TypeError, ValueError, OverflowError):
        p = np.array([np.nan if _not_number(v) else float(v) for v in p_values])
    m = p.size
    if m == 0:
        return []
    p = np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0)
    order = np.argsort(p)
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(ranked * np.arange(m, 0, -1))
    else:
        adjusted = np.minimum.accumulate((ranked / (np.arange(1, m + 1) / m))[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in result]


def _not_number(value: object) -> bool:
    """True when ``value`` cannot be read as a float (it is then treated as p = 1)."""
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return True
    return False


def adjust_results(
    results: Sequence[TestResult], method: CorrectionMethod = "bh", alpha: float = 0.05
) -> list[TestResult]:
    """Copies of ``results`` with ``p_adjusted`` and ``significant = p_adjusted < alpha``.

    One correction across every testable result of a run; not-testable results (and any
    without a p-value) are left out of it and keep ``p_adjusted = significant = None``.
    """
    tested = [i for i, r in enumerate(results) if r.testable and r.p_value is not None]
    adjusted = adjust_p_values([results[i].p_value or 0.0 for i in tested], method)
    updates = {
        i: {"p_adjusted": q, "significant": q < alpha}
        for i, q in zip(tested, adjusted, strict=True)
    }
    return [r.model_copy(update=updates.get(i, {})) for i, r in enumerate(results)]


def correct_findings(
    findings: Sequence[Finding], *, alpha: float = 0.05, method: CorrectionMethod = "bh"
) -> list[Finding]:
    """Copies of ``findings`` with ``p_adjusted`` and ``significant`` set by one correction over
    every testable finding; not-testable ones keep p_adjusted None and are never significant."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    tested = {i: f.p_value for i, f in enumerate(findings) if f.testable and f.p_value is not None}
    adjusted = adjust_p_values([p for p in tested.values() if p is not None], method)
    by_index = dict(zip(tested, adjusted, strict=True))
    out = []
    for i, f in enumerate(findings):
        p_adj = by_index.get(i)
        out.append(
            f.model_copy(
                update={"p_adjusted": p_adj, "significant": p_adj is not None and p_adj < alpha}
            )
        )
    return out
