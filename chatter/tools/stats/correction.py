"""Multiple comparisons: every test of a run goes through one correction before it is reported.

Benjamini-Hochberg (the default) keeps the expected share of
false findings among the reported ones at alpha; Holm keeps the chance of any false finding at
alpha (stricter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

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
    p = _as_p_values(p_values)
    if p.size == 0:
        return []
    adjusted = _holm(p) if method == "holm" else _benjamini_hochberg(p)
    return [float(q) for q in adjusted]


def _as_p_values(p_values: Sequence[float]) -> NDArray[np.float64]:
    """``p_values`` as a flat array in [0, 1]; NaN and what is not a number count as p = 1."""
    try:
        p = np.asarray(p_values, dtype=np.float64).ravel()
    except (TypeError, ValueError, OverflowError):
        p = np.array([_as_float(v) for v in p_values], dtype=np.float64)
    return np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0)


def _as_float(value: object) -> float:
    """``value`` as a float, or NaN when it cannot be read as one."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _holm(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Holm step-down (scipy has none): the k-th smallest of m p-values times m - k + 1, kept
    non-decreasing in that order (a p-value is never adjusted below a smaller one's), at most 1."""
    order = np.argsort(p)
    stepped = np.maximum.accumulate(p[order] * np.arange(p.size, 0, -1))
    adjusted = np.empty(p.size)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def _benjamini_hochberg(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini-Hochberg step-up: the k-th smallest of m p-values times m / k, kept
    non-increasing from the largest down, at most 1 (scipy's ``false_discovery_control``, in
    numpy: every run corrects, and importing scipy.stats for it alone took half a second)."""
    order = np.argsort(p)
    scaled = p[order] * p.size / np.arange(1, p.size + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(p.size)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


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
    every testable finding; not-testable and descriptive ones keep p_adjusted None and are never
    significant."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    tested = {
        i: f.p_value
        for i, f in enumerate(findings)
        if f.testable and f.p_value is not None and not f.descriptive
    }
    adjusted = adjust_p_values([p for p in tested.values() if p is not None], method)
    by_index = dict(zip(tested, adjusted, strict=True))
    out = []
    for i, f in enumerate(findings):
        p_adj = by_index.get(i)
        out.append(
            f.model_copy(
                update={
                    "p_adjusted": p_adj,
                    "significant": p_adj is not None and p_adj < alpha,
                    "correction": method if p_adj is not None else None,
                }
            )
        )
    return _gated(out)


def _omnibus_key(f: Finding) -> tuple[str | None, str, str | None]:
    return (f.source_step, f.metric, f.dimension)


def _gated(findings: list[Finding]) -> list[Finding]:
    """A level's test is significant only when its dimension's omnibus test (same step, metric
    and dimension, no segment) is too: levels are looked at once the dimension is shown to
    differ, so a run whose every dimension is alike reports no level (gatekeeping; the level's
    adjusted p-value is kept as computed)."""
    gates = {
        _omnibus_key(f): f.significant
        for f in findings
        if f.segment is None and f.subject is None and f.p_adjusted is not None
    }
    return [
        f.model_copy(update={"significant": False})
        if f.significant and f.segment is not None and gates.get(_omnibus_key(f)) is False
        else f
        for f in findings
    ]
