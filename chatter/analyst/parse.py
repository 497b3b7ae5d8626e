"""A question's structure: which measures, dimensions, levels (filters), time grain, order and
limit it names, found by matching the vocabulary against its words (after repairing slips of
spelling, ``chatter.analyst.spelling``; the cue words are in ``chatter.analyst.structure_cues``,
the phrase matching in ``chatter.analyst.phrase_matches``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from chatter.analyst.groupings import read_groupings
from chatter.analyst.level_aliases import country_names
from chatter.analyst.ordering import order_and_limit
from chatter.analyst.phrase_matches import Match, find_matches
from chatter.analyst.spelling import expand_acronyms, repair_spelling
from chatter.analyst.structure_cues import (
    DISTINCT_CUES,
    EXCLUDE_CUES,
    FILTER_CUES,
    GRAINS,
    NEW_CUES,
    OVER_TIME,
    PROTECTED,
    RATE_WORDS,
)
from chatter.analyst.time_window import TimeWindow, find_window
from chatter.analyst.vocabulary import Entry, Vocabulary
from chatter.analyst.words import STOPWORDS, Words, clause_ends, plus_marked, singular, stem


@dataclass
class ParsedQuestion:
    words: Words
    measures: list[Match] = field(default_factory=list)
    dimensions: list[Match] = field(default_factory=list)
    levels: list[tuple[Match, bool]] = field(default_factory=list)  # (match, excluded)
    grain: str | None = None
    limit: int | None = None
    descending: bool | None = None
    unknown_after_by: list[tuple[str, list[str]]] = field(default_factory=list)
    unknown_words: list[str] = field(default_factory=list)  # content words we cannot place
    #: Unplaced words of a clause that names nothing we read ("Hello!", "This is for the
    #: board pack:"): said as unused, never counted against the reading.
    asides: list[str] = field(default_factory=list)
    repairs: list[tuple[str, str]] = field(default_factory=list)  # (typed, read as)
    window: TimeWindow | None = None  # the time window the question names
    text: str = ""  # the question as read (after spelling repair)

    def outside_window(self, i: int) -> bool:
        return self.window is None or not self.window.span[0] <= i < self.window.span[1]

    @property
    def measure_names(self) -> list[str]:
        return list(dict.fromkeys(m.entry.name for m in self.measures))

    @property
    def dimension_names(self) -> list[str]:
        return list(dict.fromkeys(m.entry.name for m in self.dimensions))

    def filters(self) -> list[dict[str, Any]]:
        """Level mentions as filters: several levels of one dimension become ``in``."""
        chosen: dict[tuple[str, bool], list[str]] = {}
        for match, excluded in self.levels:
            chosen.setdefault((match.entry.name, excluded), [])
            if match.entry.value not in chosen[(match.entry.name, excluded)]:
                chosen[(match.entry.name, excluded)].append(str(match.entry.value))
        out: list[dict[str, Any]] = []
        for (dim, excluded), values in chosen.items():
            if len(values) == 1:
                out.append({"field": dim, "op": "!=" if excluded else "=", "value": values[0]})
            else:
                out.append({"field": dim, "op": "not_in" if excluded else "in", "value": values})
        return out


def _level_allowed(words: Words, match: Match, generic: set[str]) -> bool:
    """A level counts when a cue introduces it ("for fintech", "only enterprise"), or when its
    word means nothing else to us; short codes ("US") must be written in capitals."""
    said = " ".join(match.entry.raw)  # the level, or the alias matched ("USA" for "US")
    written = tuple(singular(w) for w in words.raw[match.start : match.end])
    if len(match.entry.raw) > 1 and written == tuple(singular(w) for w in match.entry.raw):
        return True  # "automation_run", "paid search", "trade shows": a phrase of its own
    original = words.original[match.start] if match.start < len(words.original) else ""
    before = words.stems[match.start - 1] if match.start > 0 else ""
    if len(said) <= 3 and original.lower() == said.lower() and country_names(said.upper()):
        # "in pk": a country's code in lower case after a filter cue (not "for us")
        return original.isupper() or (
            (before in FILTER_CUES or before == "from") and said.lower() not in STOPWORDS
        )
    if len(said) <= 3 and not (original.isupper() and original.lower() == said.lower()):
        return False
    if len(said) <= 3:
        return True  # a code written in capitals, as the data has it
    if before in FILTER_CUES or before in EXCLUDE_CUES:
        return True
    return not any(s in generic or s in STOPWORDS for s in match.entry.words)


def parse_question(text: str, vocab: Vocabulary, today: dt.date | None = None) -> ParsedQuestion:
    """The structure of ``text``; relative time windows count back from ``today``."""
    counts: dict[str, list[tuple[str, ...]]] = {}
    for e in vocab.entries:  # each count's names, its own name first
        if e.kind == "measure" and e.name in vocab.counts:
            names = counts.setdefault(e.name, [])
            names.insert(0 if e.raw == tuple(e.name.split("_")) else len(names), e.raw)
    text, acronyms = expand_acronyms(text, vocab.known_words, counts)  # "MAU"
    words = Words.of(text)
    bands = plus_marked(text)  # before spelling repair, which rewrites the text as tokens
    ends = clause_ends(text)
    if vocab.known_words:
        repaired, fixes = repair_spelling(text, vocab.known_words, vocab.known_pairs)
        if fixes:
            words = Words.of(repaired)
            text = repaired
    else:
        fixes = []
    fixes = [*acronyms, *fixes]
    window = find_window(words, today or dt.date.today(), bands)
    parsed = ParsedQuestion(words, repairs=fixes, window=window, text=text)
    # The window's words name a period, not a measure, a field, a grain or a limit.
    taken: set[int] = set(range(*window.span)) if window else set()
    text = " ".join(r for i, r in enumerate(words.raw) if parsed.outside_window(i))
    prefer_ratio = bool(RATE_WORDS & set(words.raw))
    everything = find_matches(words, vocab.entries, taken, prefer_ratio, vocab.row_nouns)
    parsed.measures = [m for m in everything if m.entry.kind == "measure"]
    named = [m for m in everything if m.entry.kind != "measure" and not _grain_word(words, m)]
    # "by signup month": a grain word just after a date names that date's grain.
    for m in list(named):
        word = words.raw[m.start] if m.end - m.start == 1 else ""
        after_date = any(d.end == m.start and d.entry.name in vocab.dates for d in named)
        if word in GRAINS and after_date:
            named.remove(m)
            parsed.grain = GRAINS[word]
    for d in named:  # "by signup quarter": a grain word no field is called
        if d.entry.name in vocab.dates and _grain_after(words, d.end) and parsed.grain is None:
            parsed.grain = GRAINS[words.raw[d.end]]
    generic = vocab.generic_words
    dimensions = [
        m for m in named if m.entry.kind == "dimension" and not _row_noun(words, vocab, m)
    ]
    # "how many of them converted": a yes/no dimension not grouped by is the count of yeses.
    for match in list(dimensions):
        flag = vocab.flag_measures.get(match.entry.name.split(".")[-1])
        before = words.raw[match.start - 1] if match.start else ""
        if flag and before not in ("by", "per"):
            dimensions.remove(match)
            parsed.measures.append(Match(Entry((), (), "measure", flag), match.start, match.end))
    parsed.measures.sort(key=lambda m: m.start)
    candidates = [m for m in named if m.entry.kind == "level"]
    for match in candidates:
        # "the growth plan", "the fintech industry": the dimension word vouches for the level.
        vouching = [
            d
            for d in dimensions
            if d.start == match.end and _same_dimension(d.entry.name, match.entry.name)
        ]
        # "starter vs growth": two levels of one dimension set against each other.
        paired = any(
            _same_dimension(m.entry.name, match.entry.name)
            and abs(match.start - m.end if m.start < match.start else m.start - match.end) == 1
            and words.raw[min(m.end, match.end)] in ("vs", "versus", "or", "and")
            for m in candidates
            if m is not match
        )
        # "company size 51+": a band written with its plus is the level, however short.
        banded = str(match.entry.value).endswith("+") and match.end - 1 in bands
        if vouching or paired or banded or _level_allowed(words, match, generic):
            dimensions = [d for d in dimensions if d not in vouching]
            preceding = range(max(0, match.start - 2), match.start)
            excluded = any(words.stems[i] in EXCLUDE_CUES for i in preceding)
            # "excluding podcast and newsletter": the cue reaches every level joined to it.
            if not excluded and parsed.levels:
                last, last_excluded = parsed.levels[-1]
                joined = words.raw[last.end : match.start]
                excluded = (
                    last_excluded and bool(joined) and all(w in ("and", "or") for w in joined)
                )
            parsed.levels.append((match, excluded))
    parsed.dimensions = dimensions
    _compared_levels(parsed)
    known_stems = {stem(w) for w in vocab.known_words}
    parsed.unknown_words = [
        r
        for i, r in enumerate(words.raw)
        if parsed.outside_window(i)
        and r not in vocab.known_words
        and words.stems[i] not in known_stems
        and r not in STOPWORDS
        and r not in PROTECTED
        and words.stems[i] not in EXCLUDE_CUES  # structure words: "excluding social"
        and not (i and words.raw[i - 1] == "not" and r in _AFTER_NOT)  # "not counting"
        and not _counts_once(parsed, vocab, i)  # "distinct users"
        and not r.isdigit()
        and len(r) > 2
        and not _placed(words, r, everything)
    ]
    aside_at = _set_asides_apart(parsed, ends)
    _grain(parsed, text, aside_at)
    parsed.limit, parsed.descending = order_and_limit(words, text)
    _groupings(parsed, vocab, taken)
    return parsed


# Words that may lead a value or a field even in a clause of their own ("Only Titanium.").
_LEADS_VALUE = frozenset(
    ["only", "just", "excluding", "except", "without", "not", "but", "vs", "versus", "by", "per"]
)


def _set_asides_apart(parsed: ParsedQuestion, ends: frozenset[int]) -> frozenset[int]:
    """Move the unknown words of asides to ``parsed.asides``: clauses in which nothing was
    read (no measure, field, level, window or grain) and nothing is written as a name, beside
    a clause that was read ("Hello! ... ? Cheers", "Quick one before standup: how many ...").
    Returns the asides' positions, whose words set no grain ("for the quarterly review")."""
    words = parsed.words
    placed = {
        i
        for m in [*parsed.measures, *parsed.dimensions, *(m for m, _ in parsed.levels)]
        for i in range(m.start, m.end)
    }
    clauses, start = [], 0
    for i in range(len(words.raw)):
        if i in ends or i == len(words.raw) - 1:
            clauses.append(range(start, i + 1))
            start = i + 1
    read = [c for c in clauses if _is_read(parsed, c, placed)]
    if len(clauses) < 2 or not read:
        return frozenset()
    aside_words: set[str] = set()
    aside_at: set[int] = set()
    for clause in clauses:
        if clause in read:
            continue
        said = [words.raw[i] for i in clause]
        named = any(
            (i > clause.start and words.original[i][:1].isupper())
            or (len(words.original[i]) > 1 and words.original[i].isupper())
            for i in clause
        )
        if named or _LEADS_VALUE & set(said) or any(w.isdigit() for w in said):
            continue
        aside_words.update(said)
        aside_at.update(clause)
    parsed.asides = [w for w in parsed.unknown_words if w in aside_words]
    parsed.unknown_words = [w for w in parsed.unknown_words if w not in aside_words]
    return frozenset(aside_at)


def _is_read(parsed: ParsedQuestion, clause: range, placed: set[int]) -> bool:
    """Whether anything in ``clause`` was read: a measure, field, level or window, or a grain
    word that is not an adjective of a noun nothing read ("quarterly review")."""
    raw = parsed.words.raw

    def qualifies(i: int) -> bool:  # a noun follows that nothing read
        after = raw[i + 1] if i + 1 < len(raw) else ""
        return after.isalpha() and i + 1 not in placed and after not in STOPWORDS | PROTECTED

    return any(
        i in placed or not parsed.outside_window(i) or (raw[i] in GRAINS and not qualifies(i))
        for i in clause
    )


_AFTER_NOT = frozenset(["counting", "including", "incl", "considering"])


def _counts_once(parsed: ParsedQuestion, vocab: Vocabulary, i: int) -> bool:
    """ "distinct users", "unique active accounts": a word saying each row counts once, just
    before a count (a word may stand between), is part of that count; so is "new" before a
    count of a table's rows ("new signups", "new customers": each row is new on its date)."""
    word = parsed.words.raw[i]
    counts = (
        vocab.counts if word in DISTINCT_CUES else vocab.row_counts if word in NEW_CUES else set()
    )
    return any(0 < m.start - i <= 2 and m.entry.name in counts for m in parsed.measures)


_SPLITTING = frozenset(["by", "per", "each", "every", "over", "across", "which", "what"])


def _row_noun(words: Words, vocab: Vocabulary, match: Match) -> bool:
    """ "How likely is a meetup signup to convert": a date said by one word that also names a
    row ("signup"), with no word splitting by it before and no grain after, is the row."""
    if match.end - match.start != 1 or match.entry.name not in vocab.dates:
        return False
    before = words.raw[match.start - 1] if match.start else ""
    said = singular(words.raw[match.start])
    rows = any(said in nouns for nouns in vocab.row_nouns)
    return rows and before not in _SPLITTING and not _grain_after(words, match.end)


def _grain_after(words: Words, i: int) -> bool:
    return i < len(words.raw) and words.raw[i] in GRAINS


def _grain_word(words: Words, match: Match) -> bool:
    """ "per month", "by week", "which month": a grain, not the dimension that happens to be
    called month."""
    if match.end - match.start != 1 or words.raw[match.start] not in GRAINS:
        return False
    before = words.raw[match.start - 1] if match.start > 0 else ""
    return before in ("by", "per", "each", "every", "a", "which", "what")


def _placed(words: Words, raw: str, matches: list[Match]) -> bool:
    return any(raw in words.raw[m.start : m.end] for m in matches)


def _compared_levels(parsed: ParsedQuestion) -> None:
    """ "starter vs growth": two levels of one dimension compared side by side are a breakdown
    by that dimension, kept to those levels."""
    by_dim: dict[str, list[Match]] = {}
    for match, excluded in parsed.levels:
        if not excluded:
            by_dim.setdefault(match.entry.name, []).append(match)
    for dim, matches in by_dim.items():
        if len(matches) < 2 or any(_same_dimension(d.entry.name, dim) for d in parsed.dimensions):
            continue
        first, second = matches[0], matches[1]
        between = parsed.words.raw[first.end : second.start]
        if any(w in ("vs", "versus", "compared", "against", "or") for w in between):
            parsed.dimensions.append(Match(Entry((), (), "dimension", dim), first.start, first.end))


def _same_dimension(a: str, b: str) -> bool:
    return a.split(".")[-1] == b.split(".")[-1]


# Nouns after a grain adjective that still say the grain: "on a monthly basis".
_GRAIN_NOUNS = frozenset(["basis", "cadence", "series", "trend", "trends", "level", "granularity"])
# Words after a grain that are no noun it could describe: "weekly instead".
_NOT_NOUNS = frozenset(["instead", "rather", "again", "then", "now", "too", "also", "pls", "ok"])


def _describes_other_noun(parsed: ParsedQuestion, i: int) -> bool:
    """A grain adjective before a noun nothing read ("the quarterly review", "our weekly
    sync"): it says when that happens, not how to group the answer."""
    raw = parsed.words.raw
    if raw[i] not in _GRAIN_ADJECTIVES or i + 1 >= len(raw):
        return False
    after = raw[i + 1]
    placed = any(
        m.start <= i + 1 < m.end
        for m in [*parsed.measures, *parsed.dimensions, *(m for m, _ in parsed.levels)]
    )
    return (
        after.isalpha()
        and not placed
        and parsed.outside_window(i + 1)
        and after not in STOPWORDS | PROTECTED | _GRAIN_NOUNS | _NOT_NOUNS
        and not after.endswith("ly")
    )


_GRAIN_ADJECTIVES = frozenset(
    ["daily", "weekly", "monthly", "quarterly", "yearly", "annual", "annually"]
)


def _grain(parsed: ParsedQuestion, text: str, asides: frozenset[int] = frozenset()) -> None:
    if parsed.grain is not None:
        return
    lowered = text.lower()
    # "monthly recurring revenue", "daily active users": the words of a measure's name.
    named = {i for m in parsed.measures if len(m.entry.raw) > 1 for i in range(m.start, m.end)}
    for i, raw in enumerate(parsed.words.raw):
        grain = GRAINS.get(raw) or GRAINS.get(raw.rstrip("s"))
        if grain is None or not parsed.outside_window(i) or i in named or i in asides:
            continue
        before = parsed.words.raw[i - 1] if i else ""
        if _describes_other_noun(parsed, i):
            continue  # "before the quarterly review": when something else happens
        if raw in (
            "daily",
            "weekly",
            "monthly",
            "quarterly",
            "yearly",
            "annual",
            "annually",
        ) or before in ("by", "per", "each", "every", "a", "over", "which", "what"):
            parsed.grain = grain
            return
    if any(cue in lowered for cue in OVER_TIME):
        parsed.grain = "month"


def _groupings(parsed: ParsedQuestion, vocab: Vocabulary, taken: set[int]) -> None:
    """A word after "by"/"per" no phrase matched: a field said by its last word ("events by
    type"), else a word naming nothing we know, remembered with suggestions."""
    counted = [m.entry for m in parsed.measures]
    fields, parsed.unknown_after_by = read_groupings(parsed.words, vocab, taken, counted)
    for entry, at in fields:
        parsed.dimensions.append(Match(entry, at, at + 1))
        taken.add(at)
    parsed.dimensions.sort(key=lambda m: m.start)
