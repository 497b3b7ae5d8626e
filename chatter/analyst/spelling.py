"""Spelling repair: a word we do not know, one slip (a swapped, missing, extra or wrong letter)
away from a word we know, is read as that word."""

from __future__ import annotations

import re

from chatter.analyst.level_aliases import country_words
from chatter.analyst.structure_cues import ASCENDING, DESCENDING, GRAINS, PROTECTED
from chatter.analyst.time_window import WINDOW_WORDS
from chatter.analyst.words import STOPWORDS, singular, tokens

# The parser's own words of time and order a slip may hide: "by quartr", "monthy", "lowset".
_OWN_WORDS = frozenset(
    w for w in (*GRAINS, *WINDOW_WORDS, *DESCENDING, *ASCENDING) if len(w) >= 5 and w.isalpha()
)


def repair_spelling(
    text: str, known: set[str], pairs: frozenset[tuple[str, str]] = frozenset()
) -> tuple[str, list[tuple[str, str]]]:
    """Replace words we do not know by a known word one slip away: a swapped, missing, extra
    or wrong letter ("chrun" -> "churn", "converison" -> "conversion", "quartr" -> "quarter").
    A short word is repaired only into a known pair with the word before it (``pairs``:
    "company sise" -> "company size"), since alone it is too often another real word; a word
    cut short is read whole only in a known pair with the word after it ("conv rate")."""
    out: list[str] = []
    fixes = []
    targets = sorted(known | _OWN_WORDS)
    said = tokens(text)
    for at, token in enumerate(said):
        unknown = (
            token not in known
            and singular(token) not in known  # "sizes": a plural, not a slip of "sites"
            and token not in STOPWORDS
            and token not in PROTECTED
            and token not in country_words()
            and not token.isdigit()
            and len(token) >= 4
        )
        fix = None
        if unknown and len(token) >= 5:  # shorter words are too often another real word ("tend")
            fix = _closest_slip(token, targets)
        elif unknown and out:
            fix = next((b for a, b in sorted(pairs) if a == out[-1] and _one_slip(token, b)), None)
        if unknown and fix is None and at + 1 < len(said):
            fix = _shortened(token, said[at + 1], pairs)
        if unknown and fix is None and _before_a_percent(token, said[at + 1 : at + 2], text):
            fix = _shortened(token, "rate", pairs)  # "conv %", "conv pct": a rate
        out.append(fix or token)
        if fix:
            fixes.append((token, fix))
    return " ".join(out), fixes


_PERIOD_LETTERS = {"d": "daily", "w": "weekly", "m": "monthly", "q": "quarterly", "y": "yearly"}


def expand_acronyms(
    text: str, known: set[str], counts: dict[str, list[tuple[str, ...]]]
) -> tuple[str, list[tuple[str, str]]]:
    """An unknown word that is the initials of a count's name of several words, after the
    letter of a period ("MAU": monthly active users, "DAU"), is read as those words (a count
    per period; not "ARR", which is no count of anything). ``counts``: each count's names, the
    first said first.

    >>> expand_acronyms("MAU by plan", set(), {"active_users": [("active", "users")]})
    ('monthly active users by plan', [('mau', 'monthly active users')])
    >>> expand_acronyms("ARR by plan", set(), {"users": [("accounts",)]})
    ('ARR by plan', [])
    """
    fixes = []
    for token in dict.fromkeys(tokens(text)):
        found: dict[str, str] = {}
        period = _PERIOD_LETTERS.get(token[:1])
        if period and 3 <= len(token) <= 5 and token.isalpha() and token not in known:
            for name, names in counts.items():
                for words in names:
                    if len(words) > 1 and "".join(w[0] for w in words) == token[1:]:
                        found.setdefault(name, " ".join((period, *words)))
        if len(found) == 1 and token not in STOPWORDS:
            read = next(iter(found.values()))
            text = re.sub(rf"(?<!\w){token}(?!\w)", read, text, flags=re.IGNORECASE)
            fixes.append((token, read))
    return text, fixes


def _closest_slip(token: str, targets: list[str]) -> str | None:
    """The known word one slip from ``token`` that keeps most of its start and end ("monthy":
    "monthly", not "month"), the first in order among equals.

    >>> _closest_slip("monthy", ["month", "monthly"])
    'monthly'
    """
    near = [k for k in targets if _one_slip(token, k)]
    return max(near, key=lambda k: (_kept(token, k), -near.index(k))) if near else None


def _kept(a: str, b: str) -> int:
    """Letters ``a`` and ``b`` share at their start plus those they share at their end."""
    start = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    end = next(
        (i for i, (x, y) in enumerate(zip(a[::-1], b[::-1], strict=False)) if x != y),
        min(len(a), len(b)),
    )
    return start + end


#: Words after a measure's name that say it is a rate, as "rate" does.
_PERCENT_WORDS = frozenset({"percent", "percentage", "pct"})


def _before_a_percent(token: str, after: list[str], text: str) -> bool:
    """Whether ``token`` comes before a percent sign or word ("conv %", "conv pct")."""
    if after and after[0] in _PERCENT_WORDS:
        return True
    return re.search(rf"(?<!\w){re.escape(token)}\s*%", text, flags=re.IGNORECASE) is not None


def _shortened(token: str, after: str, pairs: frozenset[tuple[str, str]]) -> str | None:
    """The known word ``token`` begins, cut short before ``after`` in a known pair ("conv
    rate": "conversion rate"), the longest when several words fit.

    >>> _shortened("conv", "rate", frozenset([("conversion", "rate"), ("churn", "rate")]))
    'conversion'
    """
    whole = [a for a, b in pairs if b == after and a.startswith(token) and len(a) > len(token)]
    return max(whole, key=lambda w: (len(w), w)) if whole else None


def _one_slip(a: str, b: str) -> bool:
    """Optimal string alignment distance of at most one (transpositions count once)."""
    if abs(len(a) - len(b)) > 1 or a[0] != b[0] or len(b) < 4:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
