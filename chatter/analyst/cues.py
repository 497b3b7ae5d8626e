"""Cues in a question: how strongly it asks for an explanation or a test (a template's work)
rather than for numbers (one query)."""

from __future__ import annotations

import re

from chatter.analyst.parse import ParsedQuestion
from chatter.analyst.words import phrase

ANALYSIS_CUES = frozenset(
    phrase(
        "why explain explanation cause causes reason reasons driver drivers drive driving behind "
        "investigate investigation understand analyze analyse analysis diagnose dive deep dig "
        "insight insights improve improving optimize optimise optimization recommend opportunity "
        "opportunities should strategy impact affect affects factor factors relationship relate "
        "related relates correlate correlated correlation predict predicts matter matters influence underperform underperforming "
        "struggling significant significantly significance statistically noise real differently "
        "differ difference differences different likely reduce reduces prevent keep identify "
        "unlock healthy slowdown slow slowing consistently lift boost raise separate separates "
        "distinguish focus"
    )
)
# Words of change and direction ("why did conversion drop"): what a deep dive explains.
CHANGE_WORDS = frozenset(
    phrase(
        "drop dropped dropping decline declined declining fall fell falling rise rose rising "
        "grow grew growing growth change changed changing trend trending down up increase "
        "increased decrease decreased worse better worst best lower higher weaker stronger "
        "shrink shrank jump jumped spike spiked dip dipped"
    )
)
# Raw words (stems would make "more" a "many"): asking for numbers, not reasons.
QUERY_CUES = frozenset(
    [
        "number",
        "count",
        "total",
        "show",
        "list",
        "give",
        "breakdown",
        "split",
        "chart",
        "table",
        "top",
        "bottom",
        "rank",
        "ranking",
    ]
)
_HOW_MANY = re.compile(r"\bhow (many|much)\b", re.IGNORECASE)
_HOW_LIKELY = re.compile(r"\bhow likely\b", re.IGNORECASE)
_IS_THERE = re.compile(r"\bis there (any|a|an)\b", re.IGNORECASE)
_YES_NO = re.compile(r"^\s*(do|does|did|is|are|was|were|can|could|has|have)\b", re.IGNORECASE)
_COMPARATIVE = re.compile(
    r"\b(less|more|better|worse|higher|lower|faster|slower|likely|"
    r"differ\w*)\b",
    re.IGNORECASE,
)
_STRATEGY = re.compile(r"\b(how|what) (can|could|should|do) (we|i)\b", re.IGNORECASE)


def analysis_cues(text: str, parsed: ParsedQuestion) -> int:
    """How strongly the question asks for an explanation or a test rather than a number."""
    in_levels = {i for m, _ in parsed.levels for i in range(m.start, m.end)}
    # A level's own words ask nothing: "real estate trials" is an industry, not "is it real?".
    cues = sum(s in ANALYSIS_CUES for i, s in enumerate(parsed.words.stems) if i not in in_levels)
    if _HOW_LIKELY.search(text):
        cues -= 1  # "how likely are trials to convert": a rate to look up, not a test
    if _YES_NO.match(text) and _COMPARATIVE.search(text):
        cues += 2  # "do X churn less?": a difference to test, not a number to look up
    if _STRATEGY.search(text):
        cues += 2  # "how can we grow revenue?"
    if _IS_THERE.search(text):
        cues += 1  # "is there any vertical where we could lift conversion?"
    return cues


def query_cues(text: str, parsed: ParsedQuestion) -> int:
    """How plainly the question asks for numbers."""
    return sum(w in QUERY_CUES for w in parsed.words.raw) + len(_HOW_MANY.findall(text))
