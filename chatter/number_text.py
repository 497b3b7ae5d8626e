"""Numbers as people read them, in one place: table cells (terminal and chat tables) and the
numbers insight sentences state (about three significant digits, so a number can be matched
back to its evidence).

>>> cell_text(1234.5), cell_text(0.12345), cell_text(0.2, "percent"), cell_text(None, missing="-")
('1,234.50', '0.1235', '20.00%', '-')
>>> number(31175.39), number(0.0392), percent(0.13023), points(-0.11452)
('31,175', '0.039', '13.0%', '11.5 points')
>>> p_value(3e-12), p_value(0.0123), p_value(0.5)
('< 0.001', '0.012', '0.50')
"""

from __future__ import annotations

import math
from typing import Any, Literal

CellKind = Literal["number", "percent", "currency"]


def cell_text(value: Any, kind: str = "number", *, missing: str = "") -> str:
    """A value in a table cell: rates as percents, amounts with two decimals, small numbers
    with four significant digits, counts with thousands separators."""
    if value is None:
        return missing
    if isinstance(value, float):
        if kind == "percent":
            return f"{value:.2%}"
        if kind == "currency":
            return f"{value:,.2f}"
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def decimals_for(value: float) -> int:
    """Digits after the point that keep about two significant digits, more for big numbers.

    >>> [decimals_for(v) for v in (0.0039, 0.22, 4.85, 58.35, 903.2)]
    [4, 2, 2, 1, 0]
    """
    magnitude = abs(value)
    if magnitude == 0 or magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    return 1 - math.floor(math.log10(magnitude))


def number(value: float | int) -> str:
    """A count or an amount in a sentence: thousands separators, about three significant
    digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:,.{decimals_for(value)}f}"


def signed(value: float) -> str:
    """``number`` with an explicit sign (effect sizes and slopes read with their direction)."""
    text = number(abs(value))
    return f"-{text}" if value < 0 and text.strip("0.,") else text


def percent(rate: float) -> str:
    """A proportion as a percentage: one decimal, two below 1%."""
    digits = 2 if 0 < abs(rate) < 0.01 else 1
    return f"{rate * 100:.{digits}f}%"


def points(difference: float) -> str:
    """The size of a difference between two proportions, in percentage points."""
    digits = 2 if 0 < abs(difference) < 0.01 else 1
    return f"{abs(difference) * 100:.{digits}f} points"


def p_value(p: float) -> str:
    """A p-value: ``< 0.001`` when tiny, else two significant digits (at least two decimals)."""
    if p < 0.001:
        return "< 0.001"
    return f"{p:.{max(decimals_for(p), 2)}f}"
