"""Mentions of a level the data does not have: ``plan_type = 'nope'``, "the pro plan" (when no
plan is called pro), "only zzzz". Such a question is asked back, naming the valid levels; the
mention is never dropped (the answer would be about every plan instead of the one asked for)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatter.analyst.parse import ParsedQuestion
from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import STOPWORDS, phrase
from chatter.errors import suggest

# "plan_type = 'nope'", "plan is nope", "industry equals 'x'", "channel != x".
_COMPARISON = re.compile(
    r"\b([a-z][a-z_ ]{1,40}?)\s*(==|=|!=|<>|\bis not\b|\bis\b|\bequals\b)\s*"
    r"(?:'([^']{1,80})'|\"([^\"]{1,80})\"|([a-z0-9][\w-]{0,40}))",
    re.IGNORECASE,
)
# Cues after which a word can only be a level.
_STRONG_CUES = frozenset(["only", "excluding", "except", "without", "exclude"])
_WEAK_CUES = frozenset(["for", "in", "from", "among", "within", "at"])
# Words before "<name> plan" that make the name a level's: "the pro plan", "on our pro plan".
_DETERMINERS = frozenset(["the", "our", "a", "an", "their", "my", "for", "on", "in", "only"])


@dataclass(frozen=True)
class UnknownLevel:
    said: str
    dimension: str | None  # the field it was said of, when the question names one
    choices: tuple[str, ...]  # that field's levels, or the closest levels of any field
    known: str = ""  # every field's values, when neither names what was meant

    def question(self) -> str:
        """What to ask back: what is not there, and what is."""
        listed = ", ".join(self.choices[:20]) + (" ..." if len(self.choices) > 20 else "")
        if self.dimension is not None:
            name = self.dimension.split(".")[-1]
            return f"No {name} is called {self.said!r} in the data. Its values: {listed}."
        if self.choices:
            return f"Nothing in the data is called {self.said!r}. Did you mean {listed}?"
        return f"Nothing in the data is called {self.said!r}. Its values are {self.known}."


def _is_level(vocab: Vocabulary, dimension: str, said: str) -> bool:
    wanted = phrase(said)
    return any(
        e.kind == "level" and e.name == dimension and tuple(e.words) == wanted
        for e in vocab.entries
    )


# Words that describe which level without naming one: "the same plan", "the cheapest plan".
_DESCRIBING = frozenset(
    [
        "same",
        "right",
        "new",
        "old",
        "whole",
        "first",
        "last",
        "next",
        "best",
        "worst",
        "top",
        "bottom",
        "main",
        "other",
        "each",
        "every",
        "any",
        "which",
        "what",
        "that",
        "this",
        "current",
        "previous",
        "different",
        "highest",
        "lowest",
        "most",
        "least",
    ]
)


def _named_before_field(
    parsed: ParsedQuestion, vocab: Vocabulary, unknown: set[str]
) -> list[UnknownLevel]:
    """ "ARPU for the growth tier" where no plan is called growth: a word the analyst knows for
    something else, said where a level of the field after it goes (a determiner before it),
    is a value the data lacks, not a word to drop."""
    raw = parsed.words.raw
    used = {
        i
        for m in [*parsed.measures, *parsed.dimensions, *(m for m, _ in parsed.levels)]
        for i in range(m.start, m.end)
    }
    found = []
    for i in range(1, len(raw) - 1):
        word = raw[i]
        if i in used or word in unknown or word in STOPWORDS or word in _DESCRIBING:
            continue
        if raw[i - 1] not in _DETERMINERS or word.endswith(("er", "est")) or word.isdigit():
            continue
        dimension = _dimension_named(vocab, raw[i + 1])
        if dimension is not None and not _is_level(vocab, dimension, word):
            found.append(UnknownLevel(word, dimension, tuple(vocab.levels[dimension])))
    return found


def _a_word(vocab: Vocabulary, said: str) -> bool:
    """A word the analyst knows (a name, a synonym, a template's word) or a function word."""
    lowered = said.lower()
    return lowered in vocab.known_words or lowered in STOPWORDS


def _dimension_named(vocab: Vocabulary, text: str) -> str | None:
    """The categorical dimension ``text`` names (by name or synonym), if one does."""
    wanted = phrase(text)
    for e in vocab.entries:
        if e.kind == "dimension" and tuple(e.words) == wanted and e.name in vocab.levels:
            return e.name
    return None


def _names_rows(vocab: Vocabulary, word: str) -> bool:
    """Whether ``word`` names the rows counted ("signups", "accounts") or a field."""
    stem = phrase(word)
    return any(
        tuple(e.words) == stem and (e.kind == "dimension" or e.name in vocab.row_counts)
        for e in vocab.entries
        if e.kind in ("measure", "dimension")
    )


def _known(vocab: Vocabulary) -> str:
    """Each categorical field with a few of its values, for a mention that names no field."""
    parts: list[str] = []
    for dimension, values in sorted(vocab.levels.items()):
        shown = ", ".join(values[:6]) + (", ..." if len(values) > 6 else "")
        part = f"{dimension.split('.')[-1]}: {shown}"
        if part not in parts:  # two tables' plan_type with the same values: said once
            parts.append(part)
    return "; ".join(parts)


def _closest(vocab: Vocabulary, said: str) -> tuple[str, ...]:
    every = sorted({v for values in vocab.levels.values() for v in values})
    return tuple(suggest(said, every))


def unmatched_levels(
    parsed: ParsedQuestion, asked: str, vocab: Vocabulary, *, explicit_only: bool = False
) -> list[UnknownLevel]:
    """Every mention of a level that matches none of the data's (``asked``: the question as
    the user wrote it, quotes and operators included). ``explicit_only``: only comparisons
    (``plan_type = 'nope'``), for questions that ask for reasons, whose other words ("is it
    just noise?") are not values."""
    found: list[UnknownLevel] = []
    for m in _COMPARISON.finditer(asked):
        field, said = m.group(1).strip(), next(g for g in m.group(3, 4, 5) if g is not None)
        if m.group(5) is not None and m.group(2).lower().startswith("is") and _a_word(vocab, said):
            continue  # "which feature is used by the most accounts": a verb, not a value
        dimension = _dimension_named(vocab, field.split()[-1]) or _dimension_named(vocab, field)
        if dimension is not None and not _is_level(vocab, dimension, said):
            found.append(UnknownLevel(said, dimension, tuple(vocab.levels[dimension])))
    if explicit_only:
        return found
    unknown = set(parsed.unknown_words)
    raw, original = parsed.words.raw, parsed.words.original
    found += _named_before_field(parsed, vocab, unknown)
    for i, word in enumerate(raw):
        if word not in unknown or word in _DESCRIBING or any(f.said.lower() == word for f in found):
            continue
        # "the pro plan": an unknown word just before a categorical field's name.
        after = " ".join(raw[i + 1 : i + 3])
        dimension = _dimension_named(vocab, raw[i + 1] if i + 1 < len(raw) else "") or (
            _dimension_named(vocab, after) if i + 2 < len(raw) else None
        )
        first = i  # "the kanban_board feature": a run of unknown words names one value
        while first > 0 and raw[first - 1] in unknown:
            first -= 1
        before = raw[first - 1] if first > 0 else ""
        comparative = word.endswith(("er", "est")) and len(word) > 4  # "cheaper plans"
        if dimension is not None and before in _DETERMINERS and not comparative:
            said = "_".join(raw[first : i + 1]) if first < i else word
            found.append(UnknownLevel(said, dimension, tuple(vocab.levels[dimension])))
            continue
        written = original[i] if i < len(original) else word
        proper = written[:1].isupper() or f"'{word}'" in asked.lower()
        # "churn rate for fintech", "conversion for referral signups": where a value goes.
        rest = [w for w in raw[i + 1 :] if w not in STOPWORDS]
        placed = not rest or _names_rows(vocab, rest[0])
        if before in _STRONG_CUES or (before in _WEAK_CUES and (proper or placed)):
            found.append(UnknownLevel(written, None, _closest(vocab, word), _known(vocab)))
    return found
