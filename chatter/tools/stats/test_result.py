"""The result models of every statistical test, and the guard that keeps them finite.

A test either completes (``testable=True``) or explains why it could not run (``testable=False``
and a ``reason``). No float field ever holds NaN or infinity: ``finite`` turns those into None and
the model re-checks on construction, so a result can always be serialised and read as a finding.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, ParamSpec, SupportsFloat

import numpy as np
from pydantic import BaseModel, Field, model_validator

P = ParamSpec("P")

_FLOAT_FIELDS = (
    "statistic",
    "p_value",
    "df",
    "df2",
    "effect_size",
    "ci_low",
    "ci_high",
    "p_adjusted",
)


def finite(value: SupportsFloat | None) -> float | None:
    """``value`` as a plain float, or None when it is missing, NaN or infinite.

    >>> finite(np.float64(0.5)), finite(float("nan")), finite(float("inf")), finite(None)
    (0.5, None, None, None)
    """
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


class AssumptionCheck(BaseModel):
    """One assumption a test relies on, whether the data met it, and how we know."""

    name: str
    passed: bool
    detail: str


class GroupStats(BaseModel):
    """Sufficient statistics of one group of a numeric measure (from a SQL aggregate)."""

    n: int = Field(ge=0)
    mean: float
    variance: float  # sample variance (n - 1 in the denominator)


class TestResult(BaseModel):
    """What one statistical test found, or why it could not be run."""

    __test__ = False  # not a pytest test class

    test: str
    testable: bool = True
    reason: str | None = None  # why not testable
    statistic: float | None = None
    p_value: float | None = None
    df: float | None = None
    df2: float | None = None  # a second degrees of freedom: ANOVA's within-groups df
    effect_size: float | None = None
    effect_size_name: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_of: str | None = None  # what the interval is of, e.g. "rate(level) - rate(rest)"
    confidence: float = 0.95
    n: int = 0
    n_per_group: dict[str, int] = Field(default_factory=dict)
    estimates: dict[str, float] = Field(default_factory=dict)  # e.g. each group's rate
    assumptions: list[AssumptionCheck] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    # Set by ``adjust_results`` once every test of a run is known (multiple comparisons).
    p_adjusted: float | None = None
    significant: bool | None = None

    @model_validator(mode="after")
    def _no_nan_or_inf(self) -> TestResult:
        """The last line of defence: a non-finite float becomes None, never a finding."""
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                setattr(self, name, None)
        if any(not math.isfinite(v) for v in self.estimates.values()):
            self.estimates = {k: v for k, v in self.estimates.items() if math.isfinite(v)}
        return self


class Untestable(Exception):
    """Raised inside a test when the data cannot be tested; ``guarded`` turns it into a result."""

    def __init__(self, reason: str, *, n: int = 0, n_per_group: dict[str, int] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.n = n
        self.n_per_group = n_per_group or {}


def not_testable(
    test: str, reason: str, *, n: int = 0, n_per_group: dict[str, int] | None = None
) -> TestResult:
    """A result that says why ``test`` could not be run on this data."""
    return TestResult(test=test, testable=False, reason=reason, n=n, n_per_group=n_per_group or {})


def guarded(test: str) -> Callable[[Callable[P, TestResult]], Callable[P, TestResult]]:
    """Make a test total: ``Untestable`` and any numerical failure become a not-testable result.

    Numpy floating-point warnings are silenced inside the test because every output is checked
    for finiteness anyway. An unexpected exception is reported with the reason prefix
    ``"internal error"`` so tests can tell a bug from a degenerate input.
    """

    def decorate(func: Callable[P, TestResult]) -> Callable[P, TestResult]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> TestResult:
            try:
                with np.errstate(all="ignore"):
                    return func(*args, **kwargs)
            except Untestable as exc:
                return not_testable(test, exc.reason, n=exc.n, n_per_group=exc.n_per_group)
            except OverflowError:
                return not_testable(test, "the inputs are too large to compute with (overflow)")
            except Exception as exc:  # a test must never take an analysis down
                return not_testable(test, f"internal error: {type(exc).__name__}: {exc}")

        return wrapper

    return decorate


def require_finite(**values: Any) -> None:
    """Raise ``Untestable`` naming the first of ``values`` that is not a finite number."""
    for name, value in values.items():
        if finite(value) is None:
            raise Untestable(f"the {name} is not finite (inputs too large or degenerate)")
