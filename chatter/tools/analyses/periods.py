"""Calendar periods of a time grain: where one ends, and the one ``k`` periods later.

Periods start where DuckDB's ``date_trunc`` puts them (weeks on Mondays), so a period start
from SQL steps here exactly."""

from __future__ import annotations

import calendar
import datetime as dt

from chatter.semantic.model import TimeGrain

_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def add_periods(start: dt.date, k: int, grain: TimeGrain) -> dt.date:
    """The start of the period ``k`` periods after the one starting at ``start``."""
    if grain == "day":
        return start + dt.timedelta(days=k)
    if grain == "week":
        return start + dt.timedelta(weeks=k)
    months = start.year * 12 + start.month - 1 + k * _MONTHS[grain]
    return dt.date(months // 12, months % 12 + 1, 1)


def period_end(start: dt.date, grain: TimeGrain) -> dt.date:
    """The last day of the period starting at ``start``.

    >>> period_end(dt.date(2024, 2, 1), "month"), period_end(dt.date(2024, 4, 1), "quarter")
    (datetime.date(2024, 2, 29), datetime.date(2024, 6, 30))
    """
    if grain in _MONTHS:
        last = add_periods(start, 1, grain) - dt.timedelta(days=1)
        return dt.date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])
    return add_periods(start, 1, grain) - dt.timedelta(days=1)
