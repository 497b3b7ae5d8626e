"""The order and the row limit a question's words ask for: "top 5", "the 3 lowest", "from least
to most used", "rank channels by revenue" (the cue words are in ``structure_cues``).

>>> from chatter.analyst.words import Words
>>> order_and_limit(Words.of("top 5 plans by revenue"), "top 5 plans by revenue")
(5, True)
>>> order_and_limit(Words.of("plans from least to most used"), "plans from least to most used")
(None, False)
"""

from __future__ import annotations

import re

from chatter.analyst.structure_cues import ASCENDING, DESCENDING
from chatter.analyst.words import Words

_LIMIT = re.compile(
    r"\b(top|bottom|first|last|best|worst|highest|lowest|show|limit)\s+(\d{1,6})\b"
    r"|\b(\d{1,6})\s+(most|least|highest|lowest|top|best|worst|biggest|largest)\b"
)
_THE_N = re.compile(r"\b(?:the|which|what)\s+(\d{1,3})\s+[a-z]")
_FROM_TO = re.compile(
    r"\b(least|most|lowest|highest|smallest|largest|fewest|worst|best|biggest)"
    r" (?:\w+ )?to (?:the )?(least|most|lowest|highest|smallest|largest|fewest|worst|best|biggest)\b"
)


def order_and_limit(words: Words, text: str) -> tuple[int | None, bool | None]:
    """The number of rows to keep and whether the largest come first (None: not said), read
    from ``text`` (the question outside its time window) and its ``words``."""
    limit: int | None = None
    descending: bool | None = None
    lowered = text.lower()
    match = _LIMIT.search(lowered)
    ranked = any(w in DESCENDING or w in ASCENDING for w in words.raw)
    counted = _THE_N.search(lowered) if ranked and not match else None
    if counted:  # "the 3 industries with the lowest churn rate"
        limit = int(counted.group(1))
    if match:
        word = match.group(1) or match.group(4)
        number = int(match.group(2) or match.group(3))
        if 0 < number <= 100_000:
            limit = number
            if word in ASCENDING or word == "last":
                descending = False
            elif word not in ("show", "limit", "first"):
                descending = True
    span = _FROM_TO.search(lowered)  # "from least to most used": the first word leads
    if span and descending is None:
        descending = span.group(1) in DESCENDING
    if descending is None:
        if any(w in DESCENDING for w in words.raw):
            descending = True
        elif any(w in ASCENDING for w in words.raw):
            descending = False
        elif any(w in ("rank", "ranked", "ranking") for w in words.raw):
            descending = True  # "rank channels by revenue": the largest first
    return limit, descending
