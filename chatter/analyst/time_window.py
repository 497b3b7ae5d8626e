"""Time windows in a question: absolute ("in 2024", "March 2025", "Q2 2025", "the first half of
2025", "since October 2025", "between March and May 2025", "before 2025") and relative to today
("last 6 months", "this quarter", "year to date"), read from the question's tokens.

Relative windows count complete calendar periods before the current one (docs/questions.md).
A window is inclusive on both ends; an open end is None.

>>> import datetime as dt
>>> from chatter.analyst.words import Words
>>> today = dt.date(2026, 1, 15)
>>> w = find_window(Words.of("mrr for enterprise in the last 6 months"), today)
>>> (w.start, w.end, w.said)
(datetime.date(2025, 7, 1), datetime.date(2025, 12, 31), 'in the last 6 months')
>>> w = find_window(Words.of("signups between March and May 2025"), today)
>>> (w.start, w.end)
(datetime.date(2025, 3, 1), datetime.date(2025, 5, 31))
>>> find_window(Words.of("conversion rate by plan"), today) is None
True
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from chatter.analyst.words import Words

MONTHS = {
    name: i
    for i in range(1, 13)
    for name in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())
} | {"sept": 9}
NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
UNITS = {
    "day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month",
    "months": "month", "quarter": "quarter", "quarters": "quarter", "year": "year",
    "years": "year",
}  # fmt: skip
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4}
ORDINALS |= {"4th": 4, "last": 4}
RELATIVE = {"last", "past", "previous", "prior", "trailing"}
_OPERATORS = ("since", "from", "before", "after", "until", "between", "through")
_LEADS = ("in", "during", "for", "of", "over", "on", "within")
_RANGE = ("to", "through", "until", "thru")  # "in 2023 through 2024": one window
_ISO_SPLIT = re.compile(r"\b(\d{4}) (\d{2}) (\d{2})\b")
#: Words of windows, which spelling repair must leave as they are.
WINDOW_WORDS = frozenset(
    {*MONTHS, *NUMBERS, *UNITS, *ORDINALS, *RELATIVE, "q1", "q2", "q3", "q4", "h1", "h2"}
    | {"ytd", "mtd", "qtd", "since", "before", "after", "until", "between", "half", "today"}
    | {"yesterday", "this", "current", "date", "through", "thru"}
)


@dataclass(frozen=True)
class TimeWindow:
    start: dt.date | None
    end: dt.date | None
    said: str  # the words, as the question has them
    span: tuple[int, int]  # the tokens they take (start, end exclusive)
    #: Set when the words could mean two dates ("05/06/2024"): the question to ask back.
    doubt: str | None = None

    def describe(self) -> str:
        if self.start and self.end:
            if self.start == self.end:
                return f"on {self.start.isoformat()}"
            return f"from {self.start.isoformat()} to {self.end.isoformat()}"
        if self.start:
            return f"from {self.start.isoformat()} on"
        if self.end:
            return f"up to {self.end.isoformat()}"
        return f"{self.said!r} (a date that reads two ways)"


@dataclass(frozen=True)
class _Period:
    start: dt.date
    end: dt.date
    length: int  # tokens
    has_year: bool = True


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _year(token: str) -> int | None:
    return (
        int(token) if token.isdigit() and len(token) == 4 and 1900 <= int(token) <= 2199 else None
    )


def _period(raw: tuple[str, ...], i: int, today: dt.date) -> _Period | None:
    """An absolute period starting at token ``i``: a date, a month, a quarter, a half, a year."""
    at = raw[i] if i < len(raw) else ""
    nxt = raw[i + 1] if i + 1 < len(raw) else ""
    third = raw[i + 2] if i + 2 < len(raw) else ""
    year = _year(at)
    if year and nxt.isdigit() and third.isdigit() and len(nxt) <= 2 and len(third) <= 2:
        try:  # 2025-03-14, read as three tokens
            day = dt.date(year, int(nxt), int(third))
        except ValueError:
            return None
        return _Period(day, day, 3)
    if year:
        return _Period(dt.date(year, 1, 1), dt.date(year, 12, 31), 1)
    if at in ("q1", "q2", "q3", "q4") and _year(nxt):
        q, y = int(at[1]), int(nxt)
        return _Period(dt.date(y, 3 * q - 2, 1), _month_end(y, 3 * q), 2)
    if at in ("h1", "h2") and _year(nxt):
        y, first = int(nxt), at == "h1"
        return _Period(dt.date(y, 1 if first else 7, 1), _month_end(y, 6 if first else 12), 2)
    if at in ORDINALS and nxt in ("quarter", "half") and third == "of" and _year(_at(raw, i + 3)):
        y, n = int(raw[i + 3]), ORDINALS[at]
        if nxt == "half" and n in (1, 2, 4):
            n = 1 if n == 1 else 2
            return _Period(dt.date(y, 6 * n - 5, 1), _month_end(y, 6 * n), 4)
        if nxt == "quarter":
            return _Period(dt.date(y, 3 * n - 2, 1), _month_end(y, 3 * n), 4)
    if at in MONTHS:
        month = MONTHS[at]
        if nxt.isdigit() and len(nxt) <= 2 and _year(third):  # March 14 2025
            try:
                day = dt.date(int(third), month, int(nxt))
            except ValueError:
                return None
            return _Period(day, day, 3)
        if _year(nxt):
            y = int(nxt)
            return _Period(dt.date(y, month, 1), _month_end(y, month), 2)
        # A month without a year: the latest one that has begun by today.
        y = today.year if month <= today.month else today.year - 1
        return _Period(dt.date(y, month, 1), _month_end(y, month), 1, has_year=False)
    if _numeric(at) and _numeric(nxt) and _year(third):  # 14/05/2024 or 05/14/2024
        a, b = int(at), int(nxt)
        m, d = (b, a) if a > 12 else (a, b)  # ambiguous ones never get here
        try:
            on = dt.date(int(third), m, d)
        except ValueError:
            return None
        return _Period(on, on, 3)
    if at.isdigit() and len(at) <= 2 and nxt in MONTHS and _year(third):  # 14 March 2025
        try:
            day = dt.date(int(third), MONTHS[nxt], int(at))
        except ValueError:
            return None
        return _Period(day, day, 3)
    return None


def _at(raw: tuple[str, ...], i: int) -> str:
    return raw[i] if 0 <= i < len(raw) else ""


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _current(unit: str, today: dt.date) -> dt.date:
    """The first day of the period ``unit`` that holds today."""
    if unit == "day":
        return today
    if unit == "week":
        return today - dt.timedelta(days=today.weekday())
    if unit == "month":
        return today.replace(day=1)
    if unit == "quarter":
        return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return dt.date(today.year, 1, 1)


def _back(start: dt.date, unit: str, n: int) -> dt.date:
    """The first day of the period ``n`` units before the one starting at ``start``."""
    if unit == "day":
        return start - dt.timedelta(days=n)
    if unit == "week":
        return start - dt.timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    return _shift_months(start, -n * months)


def _relative(raw: tuple[str, ...], i: int, today: dt.date) -> tuple[dt.date, dt.date, int] | None:
    """``last 6 months``, ``past two quarters``, ``last month``, ``this year``, ``ytd``."""
    at, nxt, third = _at(raw, i), _at(raw, i + 1), _at(raw, i + 2)
    if at in ("ytd", "mtd", "qtd"):
        unit = {"ytd": "year", "mtd": "month", "qtd": "quarter"}[at]
        return _current(unit, today), today, 1
    if at in ("year", "month", "quarter") and nxt == "to" and third == "date":
        return _current(at, today), today, 3
    if at in ("today",):
        return today, today, 1
    if at == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day, 1
    if at in ("this", "current") and nxt in UNITS:
        return _current(UNITS[nxt], today), today, 2
    if at in RELATIVE:
        count, unit_at = 1, i + 1
        if nxt.isdigit() and 0 < int(nxt) <= 1000:
            count, unit_at = int(nxt), i + 2
        elif nxt in NUMBERS:
            count, unit_at = NUMBERS[nxt], i + 2
        named = UNITS.get(_at(raw, unit_at))
        if named is None or (_at(raw, unit_at + 1) == "of" and _year(_at(raw, unit_at + 2))):
            return None  # "the last quarter of 2024" is a period of that year
        unit = named
        this = _current(unit, today)
        return _back(this, unit, count), this - dt.timedelta(days=1), unit_at + 1 - i
    return None


def _numeric(token: str) -> bool:
    return token.isdigit() and len(token) <= 2


def _two_readings(raw: tuple[str, ...], i: int) -> tuple[dt.date, dt.date] | None:
    """ "05/06/2024": day and month both 12 or less and different, so May 6 or June 5."""
    if not (_numeric(_at(raw, i)) and _numeric(_at(raw, i + 1)) and _year(_at(raw, i + 2))):
        return None
    a, b, y = int(raw[i]), int(raw[i + 1]), int(raw[i + 2])
    if not (1 <= a <= 12 and 1 <= b <= 12) or a == b:
        return None
    return dt.date(y, a, b), dt.date(y, b, a)


def find_window(
    words: Words, today: dt.date, not_dates: frozenset[int] = frozenset()
) -> TimeWindow | None:
    """The first time window the question names, or None. A date that reads two ways is a
    window with a doubt: the analyst asks which was meant rather than pick one. Tokens at
    ``not_dates`` are no dates ("from 2000+ companies")."""
    raw = words.raw
    for i in range(len(raw)):
        if i in not_dates or (raw[i] in _OPERATORS and i + 1 in not_dates):
            continue
        readings = _two_readings(raw, i)
        if readings is not None:
            said = " ".join(words.original[i : i + 3] if words.original else raw[i : i + 3])
            first, second = (d.isoformat() for d in readings)
            doubt = (
                f"'{said.replace(' ', '/')}' could be {first} or {second}. Which did you mean? "
                "(Dates written as YYYY-MM-DD are read one way.)"
            )
            return TimeWindow(None, None, said, (i, i + 3), doubt=doubt)
        found = _window_at(raw, i, today)
        if found is not None:
            start, end, stop = found
            lead = i - 1 if _at(raw, i - 1) in _LEADS else i
            said = " ".join(words.original[lead:stop] if words.original else raw[lead:stop])
            # Tokens split an ISO date; the window is quoted back as the user wrote it.
            return TimeWindow(start, end, _ISO_SPLIT.sub(r"\1-\2-\3", said), (lead, stop))
    return None


def _window_at(
    raw: tuple[str, ...], i: int, today: dt.date
) -> tuple[dt.date | None, dt.date | None, int] | None:
    """A window whose words start at token ``i`` (with its operator word), or None."""
    at = raw[i]
    j = i + 1 if at in _OPERATORS else i
    if _at(raw, j) == "the":
        j += 1
    relative = _relative(raw, j, today)
    if relative is not None:
        start, end, length = relative
        if at in ("since", "from"):
            return start, None, j + length
        if at == "before":
            return None, start - dt.timedelta(days=1), j + length
        return start, end, j + length
    first = _period(raw, j, today)
    if first is None:
        return None
    if not first.has_year and at not in _OPERATORS and _at(raw, i - 1) not in _LEADS:
        return None  # "may", "march" on their own are words, not months
    stop = j + first.length
    joined = ("and", "to", "through", "until", "thru") if at in ("between", "from") else _RANGE
    if _at(raw, stop) in joined:
        second = _period(raw, stop + 1, today)
        if second is not None:
            begin = first.start
            if not first.has_year and second.has_year:  # "between March and May 2025"
                begin = first.start.replace(year=second.start.year)
            return begin, second.end, stop + 1 + second.length
    if at in ("since", "from"):
        return first.start, None, stop
    if at == "before":
        return None, first.start - dt.timedelta(days=1), stop
    if at == "after":
        return first.end + dt.timedelta(days=1), None, stop
    if at in ("until", "through"):
        return None, first.end, stop
    return first.start, first.end, stop
