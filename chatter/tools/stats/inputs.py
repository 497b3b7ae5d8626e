"""Validation of what a statistical test is fed: counts and samples.

Each check either returns the value in the form the test computes with, or raises
``Untestable`` with a reason a user can read. Nothing here guesses or repairs data.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chatter.tools.stats.test_result import Untestable

# Counts above 2**53 are not exactly representable as floats; no real table is that large.
MAX_COUNT = 2**53


def as_count(value: object, name: str) -> int:
    """``value`` as a non-negative whole count (an int, or a float holding a whole number)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise Untestable(f"{name} must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise Untestable(f"{name} is not a finite number")
    if number < 0:
        raise Untestable(f"{name} is negative ({value})")
    if number != math.floor(number):
        raise Untestable(f"{name} is not a whole count ({value})")
    if number > MAX_COUNT:
        raise Untestable(f"{name} is too large to test exactly ({value} > 2**53)")
    return int(number)


def as_sample(values: ArrayLike, name: str, *, min_n: int = 1) -> NDArray[np.float64]:
    """``values`` as a 1-D float array with at least ``min_n`` finite values."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise Untestable(f"{name} is not numeric ({exc})") from None
    if array.ndim != 1:
        raise Untestable(f"{name} must be one-dimensional, got {array.ndim} dimensions")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise Untestable(f"{name} has {bad} NaN or infinite values", n=array.size)
    if array.size < min_n:
        raise Untestable(f"{name} has {array.size} values; the test needs at least {min_n}")
    return array


def is_constant(array: NDArray[np.float64]) -> bool:
    """True when every value is the same (exact comparison, no tolerance)."""
    return array.size == 0 or bool(array.max() == array.min())


def distinct_labels(labels: tuple[str, ...] | list[str]) -> None:
    """Raise when two groups share a label: their counts would collide in ``n_per_group``."""
    if len(set(labels)) != len(labels):
        raise Untestable(f"group labels must be distinct, got {list(labels)}")
