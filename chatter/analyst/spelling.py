"""Spelling repair: a word we do not know, one slip (a swapped, missing, extra or wrong letter)
away from a word we know, is read as that word."""

from __future__ import annotations

from chatter.analyst.structure_cues import PROTECTED
from chatter.analyst.words import STOPWORDS, tokens


def repair_spelling(text: str, known: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """Replace words we do not know by a known word one slip away: a swapped, missing, extra
    or wrong letter ("chrun" -> "churn", "converison" -> "conversion")."""
    out, fixes = [], []
    for token in tokens(text):
        unknown = (
            token not in known
            and token not in STOPWORDS
            and token not in PROTECTED
            and not token.isdigit()
            and len(token) >= 5  # shorter words are too often another real word ("tend")
        )
        fix = next((k for k in sorted(known) if _one_slip(token, k)), None) if unknown else None
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
