"""How insight text shows names and numbers: humanised measure names, percentages, counts,
p-values and effect sizes, each with enough digits to be matched back to its evidence.

>>> humanise("conversion_rate"), humanise("mrr_at_stake"), humanise("signup_date__month")
('conversion rate', 'MRR at stake', 'signup date (month)')
>>> percent(0.13023), points(-0.11452), number(31175.39), number(0.0392), p_text(3e-12)
('13.0%', '11.5 points', '31,175', '0.039', 'adjusted p < 0.001')
"""

from __future__ import annotations

import math

# Common business abbreviations written in capitals when a measure or key is humanised.
_ACRONYMS = frozenset({"mrr", "arr", "arpu", "arpa", "ltv", "cac", "nps", "roi", "kpi", "sql"})

EFFECT_NAMES = {
    "cohens_h": "Cohen's h",
    "cramers_v": "Cramér's V",
    "rho": "Spearman's rho",
    "r": "Pearson's r",
    "hedges_g": "Hedges' g",
    "rank_biserial": "rank-biserial r",
    "eta_squared": "eta²",
    "epsilon_squared": "epsilon²",
    "r_squared": "R²",
    "kendall_tau": "Kendall's tau",
    "odds_ratio": "odds ratio",
}

TEST_NAMES = {
    "chi_square": "chi-square",
    "two_proportion_z": "z-test",
    "fisher_exact": "Fisher's exact test",
    "welch_t": "Welch's t-test",
    "mann_whitney_u": "Mann-Whitney U",
    "anova": "ANOVA",
    "kruskal_wallis": "Kruskal-Wallis",
    "spearman": "Spearman",
    "pearson": "Pearson",
    "ols_trend": "OLS trend",
    "mann_kendall": "Mann-Kendall",
}

CORRECTIONS = {"bh": "Benjamini-Hochberg", "holm": "Holm"}


def humanise(name: str) -> str:
    """A measure, dimension or key name as words: underscores become spaces, a ``__grain``
    suffix goes in brackets, and common abbreviations are capitalised."""
    base, _, grain = name.partition("__")
    words = " ".join(w.upper() if w.lower() in _ACRONYMS else w for w in base.split("_") if w)
    return f"{words} ({humanise(grain)})" if grain else words


def capitalise(text: str) -> str:
    """First letter upper case, the rest untouched (``MRR`` stays ``MRR``)."""
    return text[:1].upper() + text[1:]


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
    """A count or an amount for people: thousands separators, about three significant digits."""
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


def p_text(p: float | None) -> str:
    """An adjusted p-value: ``< 0.001`` when tiny, else two significant digits."""
    if p is None:
        return "adjusted p not available"
    if p < 0.001:
        return "adjusted p < 0.001"
    return f"adjusted p = {p:.{max(decimals_for(p), 2)}f}"


def effect_text(name: str | None, value: float | None) -> str | None:
    """``Cohen's h -0.30``: the effect size with its conventional name, or None."""
    if value is None:
        return None
    label = EFFECT_NAMES.get(name or "", humanise(name or "effect size"))
    return f"{label} {signed(value)}"


def plural(word: str) -> str:
    """A plain English plural of a data word (``month`` -> ``months``)."""
    return word if word.endswith("s") else f"{word}s"
