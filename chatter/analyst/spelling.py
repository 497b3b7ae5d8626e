"""Spelling repair: a word we do not know, one slip (a swapped, missing, extra or wrong letter)
away from a word we know, is read as that word."""

from __future__ import annotations

from chatter.analyst.level_aliases import country_words
from chatter.analyst.structure_cues import ASCENDING, DESCENDING, GRAINS, PROTECTED
from chatter.analyst.time_window import WINDOW_WORDS
from chatter.analyst.words import STOPWORDS, tokens

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
    "company sise" -> "company size"), since alone it is too often another real word."""
    out: list[str] = []
    fixes = []
    targets = sorted(known | _OWN_WORDS)
    for token in tokens(text):
        unknown = (
            token not in known
            and token not in STOPWORDS
            and token not in PROTECTED
            and token not in country_words()
            and not token.isdigit()
            and len(token) >= 4
        )
        fix = None
        if unknown and len(token) >= 5:  # shorter words are too often another real word ("tend")
            fix = next((k for k in targets if _one_slip(token, k)), None)
        elif unknown and out:
            fix = next((b for a, b in sorted(pairs) if a == out[-1] and _one_slip(token, b)), None)
        out.append(fix or token)
        if fix:
            fixes.append((token, fix))
    return " ".join(out), fixes


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
