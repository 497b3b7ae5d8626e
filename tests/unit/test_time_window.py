"""Time windows read from a question (docs/questions.md lists what is understood), anchored to
a fixed today, and the interpretation sentence an answer opens with."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest

import chatter.analyst.interpretation
import chatter.analyst.time_window
from chatter.analyst.interpretation import sentence
from chatter.analyst.time_window import find_window
from chatter.analyst.words import Words
from chatter.semantic.query import SemanticQuery

TODAY = dt.date(2026, 1, 15)  # a Thursday
D = dt.date

WINDOWS = [
    # absolute
    ("signups in 2024", D(2024, 1, 1), D(2024, 12, 31)),
    ("users in March 2025", D(2025, 3, 1), D(2025, 3, 31)),
    ("revenue in Sept 2025", D(2025, 9, 1), D(2025, 9, 30)),
    ("mrr Q2 2025", D(2025, 4, 1), D(2025, 6, 30)),
    ("signups in the second quarter of 2025", D(2025, 4, 1), D(2025, 6, 30)),
    ("revenue in the first half of 2025", D(2025, 1, 1), D(2025, 6, 30)),
    ("signups in H2 2024", D(2024, 7, 1), D(2024, 12, 31)),
    ("signups on 2025-03-14", D(2025, 3, 14), D(2025, 3, 14)),
    ("signups on May 14, 2024", D(2024, 5, 14), D(2024, 5, 14)),
    ("signups on 14 May 2024", D(2024, 5, 14), D(2024, 5, 14)),
    ("signups after 05/14/2024", D(2024, 5, 15), None),  # a day over 12 reads one way
    ("signups on 14.05.2024", D(2024, 5, 14), D(2024, 5, 14)),
    ("signups on 06/06/2024", D(2024, 6, 6), D(2024, 6, 6)),
    ("signups since October 2025", D(2025, 10, 1), None),
    ("signups after June 2025", D(2025, 7, 1), None),
    ("signups before 2025", None, D(2024, 12, 31)),
    ("signups until June 2025", None, D(2025, 6, 30)),
    ("signups between 2025-02-01 and 2025-03-15", D(2025, 2, 1), D(2025, 3, 15)),
    ("users between March and May 2025", D(2025, 3, 1), D(2025, 5, 31)),
    ("users from March to May 2025", D(2025, 3, 1), D(2025, 5, 31)),
    ("signups in 2023 through 2024", D(2023, 1, 1), D(2024, 12, 31)),
    # relative: whole periods before the current one; "this" periods up to today
    ("mrr in the last 6 months", D(2025, 7, 1), D(2025, 12, 31)),
    ("signups in the past two quarters", D(2025, 7, 1), D(2025, 12, 31)),
    ("events in the last 2 weeks", D(2025, 12, 29), D(2026, 1, 11)),
    ("signups last 30 days", D(2025, 12, 16), D(2026, 1, 14)),
    ("signups in the last 3 years", D(2023, 1, 1), D(2025, 12, 31)),
    ("mrr last month", D(2025, 12, 1), D(2025, 12, 31)),
    ("revenue last quarter", D(2025, 10, 1), D(2025, 12, 31)),
    ("revenue last year", D(2025, 1, 1), D(2025, 12, 31)),
    ("mrr this month", D(2026, 1, 1), TODAY),
    ("revenue this quarter", D(2026, 1, 1), TODAY),
    ("revenue year to date", D(2026, 1, 1), TODAY),
    ("signups yesterday", D(2026, 1, 14), D(2026, 1, 14)),
]


@pytest.mark.parametrize(("question", "start", "end"), WINDOWS, ids=[w[0] for w in WINDOWS])
def test_windows(question: str, start: dt.date | None, end: dt.date | None) -> None:
    window = find_window(Words.of(question), TODAY)
    assert window is not None
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize(
    "question",
    ["conversion rate by plan", "may I see churn by plan", "top 5 industries", "march of signups"],
)
def test_no_window_where_none_is_named(question: str) -> None:
    assert find_window(Words.of(question), TODAY) is None


def test_a_date_that_reads_two_ways_is_a_doubt_not_a_guess() -> None:
    window = find_window(Words.of("signups on 05/06/2024"), TODAY)
    assert window is not None and (window.start, window.end) == (None, None)
    assert window.doubt is not None
    assert "2024-05-06" in window.doubt and "2024-06-05" in window.doubt


def test_the_window_is_quoted_back_as_written() -> None:
    window = find_window(Words.of("Signups between 2025-02-01 and 2025-03-15 please"), TODAY)
    assert window is not None and window.said == "between 2025-02-01 and 2025-03-15"


def test_a_later_today_moves_relative_windows_only() -> None:
    later = dt.date(2026, 7, 2)
    relative = find_window(Words.of("mrr in the last 6 months"), later)
    absolute = find_window(Words.of("mrr in March 2025"), later)
    assert relative is not None and (relative.start, relative.end) == (
        D(2026, 1, 1),
        D(2026, 6, 30),
    )
    assert absolute is not None and (absolute.start, absolute.end) == (
        D(2025, 3, 1),
        D(2025, 3, 31),
    )


def test_doctests() -> None:
    assert doctest.testmod(chatter.analyst.time_window).failed == 0
    assert doctest.testmod(chatter.analyst.interpretation).failed == 0


def test_the_sentence_says_measure_split_order_limit_and_window() -> None:
    query = SemanticQuery.parse(
        {
            "measures": ["events"],
            "dimensions": ["event_type"],
            "filters": [
                {"field": "event_ts", "op": ">=", "value": "2025-12-01"},
                {"field": "event_ts", "op": "<", "value": "2026-01-01"},
                {"field": "industry", "op": "not_in", "value": ["retail", "media"]},
            ],
            "order_by": [{"field": "events", "descending": False}],
            "limit": 3,
        }
    )
    # A timestamp window ends before the midnight after its last day: said as that day.
    assert sentence(query) == (
        "events by event type, the 3 lowest, for event ts from 2025-12-01 to "
        "2025-12-31 and industry is not retail or media"
    )
    by_month = SemanticQuery.parse({"measures": ["mrr"], "dimensions": ["month__month"]})
    assert sentence(by_month) == "MRR by month"
    since = SemanticQuery.parse(
        {
            "measures": ["users"],
            "filters": [{"field": "signup_date", "op": ">=", "value": "2025-10-01"}],
        }
    )
    assert sentence(since) == "users, for signup date from 2025-10-01 on"
