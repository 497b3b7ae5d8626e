"""Mentions of a level the data does not have: ``plan_type = 'nope'``, "the pro plan" (when no
plan is called pro), "only zzzz". Such a question is asked back, naming the valid levels; the
mention is never dropped (the answer would be about every plan instead of the one asked for)."""

from __future__ import annotations

import re

from chatter.analyst.level_bands import unknown_bands
from chatter.analyst.level_names import (
    UnknownLevel,
    a_word,
    dimension_named,
    is_level,
    names_rows,
    of_field,
    of_no_field,
)
from chatter.analyst.level_shapes import (
    after_field,
    against_level,
    before_rows,
    comparative,
    level_of_another_field,
    speaks_of_all,
    unknown_countries,
    unknown_identifiers,
    verb_like,
)
from chatter.analyst.level_slots import unknown_in_value_slots
from chatter.analyst.parse import ParsedQuestion
from chatter.analyst.structure_cues import PROTECTED
from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import STOPWORDS, tokens

__all__ = ["UnknownLevel", "unmatched_levels"]

# "plan_type = 'nope'", "plan is nope", "industry equals 'x'", "channel != x".
_COMPARISON = re.compile(
    r"\b([a-z][a-z_ ]{1,40}?)\s*(==|=|!=|<>|\bis not\b|\bis\b|\bequals\b)\s*"
    r"(?:'([^']{1,80})'|\"([^\"]{1,80})\"|([a-z0-9][\w-]{0,40}))",
    re.IGNORECASE,
)
# Cues after which a word can only be a level.
_STRONG_CUES = frozenset(["only", "excluding", "except", "without", "exclude"])
_WEAK_CUES = frozenset(["for", "in", "from", "among", "within", "at", "through", "via"])
# Words before "<name> plan" that make the name a level's: "the pro plan", "on our pro plan".
_DETERMINERS = frozenset(
    ["the", "our", "a", "an", "their", "my", "for", "on", "in", "only", "of", "among", "from"]
)
_GROUPING = frozenset(["by", "per", "with", "at", "to", "under", "vs", "versus"])
# Words of quantity before the rows counted: "how many kayak plan signups".
_QUANTITY = frozenset(["many", "much", "number", "count", "total", "all"])


_ARTICLES = frozenset(["the", "our", "a", "an", "their", "my"])
# Words after which a phrase is a clause's subject: "why do Healthcare customers churn".
_SUBJECT_LEADS = frozenset(
    ["of", "do", "does", "did", "are", "is", "were", "was", "have", "has", "many", "much"]
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
        "unique",
        "distinct",
        "individual",
        "existing",
        "recent",
        "returning",
        "typical",
        "such",
    ]
)


def _named_before_field(
    parsed: ParsedQuestion, vocab: Vocabulary, unknown: set[str]
) -> list[UnknownLevel]:
    """ "ARPU for the growth tier" where no plan is called growth: a word the analyst knows for
    something else, said where a level of the field after it goes (a determiner before it),
    is a value the data lacks, not a word to drop."""
    raw = parsed.words.raw
    used = _used(parsed)
    counted = _counted(parsed)
    found = []
    for i in range(1, len(raw) - 1):
        word = raw[i]
        if i in used or word in unknown or word in STOPWORDS or word in _DESCRIBING:
            continue
        if raw[i - 1] not in _DETERMINERS or comparative(word) or word.isdigit():
            continue
        dimension = None if i + 1 in counted else dimension_named(vocab, raw[i + 1])
        if dimension is not None and not is_level(vocab, dimension, word):
            found.append(of_field(vocab, word, dimension))
    return found


def unmatched_levels(
    parsed: ParsedQuestion, asked: str, vocab: Vocabulary, *, explicit_only: bool = False
) -> list[UnknownLevel]:
    """Every mention of a level that matches none of the data's (``asked``: the question as
    the user wrote it, quotes and operators included). ``explicit_only``: only the shapes in
    which a word can only be a value (``plan_type = 'nope'``, "the pro plan", "retail vs
    education", "Healthcare customers"), for questions that ask for reasons, whose words after
    a cue ("is it just noise?", "only in winter") need not be values."""
    found: list[UnknownLevel] = []
    for m in _COMPARISON.finditer(asked):
        field, said = m.group(1).strip(), next(g for g in m.group(3, 4, 5) if g is not None)
        if m.group(5) is not None and m.group(2).lower().startswith("is") and a_word(vocab, said):
            continue  # "which feature is used by the most accounts": a verb, not a value
        if m.group(5) is not None and (said.lower() in _DESCRIBING or comparative(said)):
            continue  # "which channel is worst": a ranking, not a value
        dimension = dimension_named(vocab, field.split()[-1]) or dimension_named(vocab, field)
        if dimension is not None and not is_level(vocab, dimension, said):
            found.append(of_field(vocab, said, dimension))
    found += unknown_bands(asked, vocab)
    found += unknown_countries(parsed, vocab, found)
    found += unknown_identifiers(parsed, asked, vocab, found)
    found += level_of_another_field(parsed, vocab)
    found += unknown_in_value_slots(parsed, asked, vocab, found)
    unknown = set(parsed.unknown_words)
    raw, original = parsed.words.raw, parsed.words.original
    found += _named_before_field(parsed, vocab, unknown)
    used = _used(parsed)
    counted = _counted(parsed)
    level_words = {w for values in vocab.levels.values() for v in values for w in tokens(v)}
    candidates = unknown | {
        w
        for i, w in enumerate(raw)
        if _unplaced(w, i, used)
        and parsed.words.stems[i] not in vocab.naming_words
        and w not in level_words  # "dashboard usage": a word of the level dashboard_view
    }
    levels_at = {i for m, _ in parsed.levels for i in range(m.start, m.end)}
    for i, word in enumerate(raw):
        if (
            word not in candidates
            or word in _DESCRIBING
            or any(f.said.lower() == word for f in found)
        ):
            continue
        # "the pro plan": an unknown word just before a categorical field's name.
        dimension, field_end = None, i + 2
        if i + 1 not in counted:  # "product events": a count, not the field "event"
            dimension = dimension_named(vocab, raw[i + 1] if i + 1 < len(raw) else "")
            if dimension is None and i + 2 < len(raw):
                dimension, field_end = dimension_named(vocab, " ".join(raw[i + 1 : i + 3])), i + 3
        # "the kanban_board feature", "real estate customers": the unknown word and the
        # unplaced words just before it name one value.
        first = i
        while first > 0 and (
            raw[first - 1] in unknown or _unplaced(raw[first - 1], first - 1, used)
        ):
            first -= 1
        before = raw[first - 1] if first > 0 else ""
        compares = comparative(word)  # "the cheaper plans"
        # "signups choir plan", "conversion by choir plan": after a grouping, or a measure or
        # field read (not a level: "the partner program channel" may name the level partner).
        read = first - 1 in used and first - 1 not in levels_at
        # "how many kayak plan signups", "kayak plan customers": after a word of quantity, or
        # a word known for nothing at all when the rows counted follow the field (not "wich
        # features keep ...", nor "the country code": a word for all the values follows).
        plain = not verb_like(word) and not speaks_of_all(raw, field_end)
        rows_after = field_end < len(raw) and names_rows(vocab, raw[field_end], fields=False)
        # "podcast channel conversion": a word known for nothing, leading the question, before
        # the field and a measure read after it
        measured = first == 0 and field_end in counted
        led = (
            before in _DETERMINERS
            or ((before in _GROUPING or read) and word in unknown and not verb_like(word))
            or (plain and (before in _QUANTITY or (word in unknown and (rows_after or measured))))
        )
        if dimension is not None and led and not compares:
            said = "_".join(raw[first : i + 1]) if first < i else word
            found.append(of_field(vocab, said, dimension))
            continue
        written = " ".join(original[first : i + 1]) if i < len(original) else word
        against = against_level(parsed, vocab, written, first, i)  # "retail vs education"
        if against is not None:
            found.append(against)
            continue
        proper = written[:1].isupper() or f"'{word}'" in asked.lower()
        # "churn rate for fintech", "conversion for referral signups": where a value goes.
        # (the window's words are no value: "active users in logistics last month")
        rest = [
            w
            for j, w in enumerate(raw[i + 1 :], i + 1)
            if w not in STOPWORDS and parsed.outside_window(j)
        ]
        placed = not rest or names_rows(vocab, rest[0])
        end = _value_end(parsed, vocab, i, used) if word in unknown else i
        written = " ".join(original[first : end + 1]) if end > i else written
        # "Healthcare customers' conversion", "the solar companies": whom the number is about.
        qualifies_rows = (
            before_rows(parsed, vocab, end)
            and not compares
            and (
                first == 0
                or before in _ARTICLES | _SUBJECT_LEADS
                or (
                    before in _DETERMINERS | _WEAK_CUES
                    and not verb_like(word)  # "for keeping people"
                )
            )
        )
        after_cue = before in _STRONG_CUES or (before in _WEAK_CUES and (proper or placed))
        if after_cue and not explicit_only:
            found.append(of_no_field(vocab, written))
        elif qualifies_rows and (used - {end + 1} or parsed.window):
            # something else was read ("<x> customers' churn"): not a line of noise
            found.append(of_no_field(vocab, written, certain=proper))
    # "plan choir", "industry biotech": an unplaced word just after a field's name.
    found += after_field(parsed, vocab, candidates - _DESCRIBING, used, names_only=explicit_only)
    return found


def _value_end(parsed: ParsedQuestion, vocab: Vocabulary, i: int, used: set[int]) -> int:
    """The last word of a value of several words that an unknown word at ``i`` begins, when
    unplaced words go on from it to the rows counted ("facebook ads signups"), else ``i``."""
    raw = parsed.words.raw
    last = i
    while last + 1 < len(raw) and last - i < 2 and _unplaced(raw[last + 1], last + 1, used):
        last += 1
        if before_rows(parsed, vocab, last):
            return last
    return i


def _used(parsed: ParsedQuestion) -> set[int]:
    """Positions of the words the parse placed (measures, fields, levels)."""
    return {
        i
        for m in [*parsed.measures, *parsed.dimensions, *(m for m, _ in parsed.levels)]
        for i in range(m.start, m.end)
    }


def _counted(parsed: ParsedQuestion) -> set[int]:
    """Positions of the words read as measures."""
    return {i for m in parsed.measures for i in range(m.start, m.end)}


def _unplaced(word: str, i: int, used: set[int]) -> bool:
    """A content word the parse did not place (a known word, not a function word)."""
    return (
        i not in used
        and word.isalpha()
        and word not in STOPWORDS
        and word not in PROTECTED
        and word not in _DESCRIBING
        and word not in _STRONG_CUES
        and word not in _WEAK_CUES
    )
