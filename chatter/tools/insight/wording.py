"""How insight text shows names and numbers: humanised measure names, percentages, counts,
p-values and effect sizes, each with enough digits to be matched back to its evidence.

Numbers themselves are written by chatter.number_text (re-exported here for the clauses).

>>> humanise("conversion_rate"), humanise("mrr_at_stake"), humanise("signup_date__month")
('conversion rate', 'MRR at stake', 'signup date (month)')
>>> p_text(3e-12), effect_text("cohens_h", -0.3)
('adjusted p < 0.001', "Cohen's h -0.30")
"""

from __future__ import annotations

from chatter.number_text import decimals_for, number, p_value, percent, points, signed

# Common business abbreviations written in capitals when a measure or key is humanised.
_ACRONYMS = frozenset({"mrr", "arr", "arpu", "arpa", "ltv", "cac", "nps", "roi", "kpi", "sql"})

__all__ = [
    "CORRECTIONS",
    "EFFECT_NAMES",
    "TEST_NAMES",
    "capitalise",
    "decimals_for",
    "effect_text",
    "humanise",
    "number",
    "p_text",
    "percent",
    "plural",
    "points",
    "signed",
]

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
    "rate_ratio": "rate ratio",
    "max_rate_ratio": "largest rate ratio",
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
    "poisson_rate_ratio": "exact rate test",
    "poisson_homogeneity": "Poisson chi-square",
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


def p_text(p: float | None) -> str:
    """An adjusted p-value: ``< 0.001`` when tiny, else two significant digits."""
    if p is None:
        return "adjusted p not available"
    text = p_value(p)
    return f"adjusted p {text}" if text.startswith("<") else f"adjusted p = {text}"


def effect_text(name: str | None, value: float | None) -> str | None:
    """``Cohen's h -0.30``: the effect size with its conventional name, or None."""
    if value is None:
        return None
    label = EFFECT_NAMES.get(name or "", humanise(name or "effect size"))
    return f"{label} {signed(value)}"


def plural(word: str) -> str:
    """A plain English plural of a data word (``month`` -> ``months``)."""
    return word if word.endswith("s") else f"{word}s"
