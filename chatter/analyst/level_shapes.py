"""Shapes of a sentence in which a word can only be a value, used to catch values the data
lacks: a number band before a field ("the 5000+ size band"), a word set against a level ("retail
vs education"), and a word just before the rows counted ("Healthcare customers' churn")."""

from __future__ import annotations

import re

from chatter.analyst.level_aliases import aliases, countries_in
from chatter.analyst.level_names import (
    UnknownLevel,
    dimension_named,
    names_rows,
    of_field,
    of_no_field,
)
from chatter.analyst.parse import ParsedQuestion
from chatter.analyst.structure_cues import EXCLUDE_CUES, FILTER_CUES
from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import tokens

# "5000+", "1,000-5,000", "50 to 200", followed by the field's name ("size", "employees").
_BAND = re.compile(
    r"(?<![\w.])(\d[\d,]*\s*\+|\d[\d,]*\s*(?:-|\u2013|to)\s*\d[\d,]*\+?)\s+([a-z_]+)(?:\s+([a-z_]+))?",
    re.IGNORECASE,
)
_AGAINST = frozenset(["vs", "versus", "or", "and"])


def _band_key(text: str) -> str:
    return re.sub(r"\s+|,", "", text.lower().replace("\u2013", "-")).replace("to", "-")


def _is_band(level: str) -> bool:
    return bool(re.fullmatch(r"\d[\d,]*\s*(\+|-\s*\d[\d,]*)", level.strip()))


def unknown_bands(asked: str, vocab: Vocabulary) -> list[UnknownLevel]:
    """Number bands said of a field none of whose levels they are: "the 5000+ size band" when
    the sizes are 1-10 ... 1001+, "company size 10000+", "for 10000+". A band the field has is
    a level and is read as one."""
    banded = [d for d, values in vocab.levels.items() if any(_is_band(v) for v in values)]
    said: list[tuple[str, str]] = []  # (band, dimension)
    for m in _BAND.finditer(asked):
        band, first, second = m.group(1), m.group(2), m.group(3)
        dimension = dimension_named(vocab, first) or (
            dimension_named(vocab, f"{first} {second}") if second else None
        )
        if dimension is None and names_rows(vocab, first, fields=False) and len(banded) == 1:
            dimension = banded[0]  # "5000+ companies": the one field of bands
        if dimension is not None:
            said.append((band, dimension))
    for m in _LONE_BAND.finditer(asked):
        before = tokens(asked[: m.start()])[-4:]
        dimension = _field_ending(vocab, before)  # "company size 10000+", "size is 50-200"
        if dimension is None and m.group(0).endswith("+") and len(banded) == 1:
            # "conversion for 10000+": a count band after a filter cue, the one field of bands
            dimension = banded[0] if before and before[-1] in _BAND_CUES else None
        if dimension is not None:
            said.append((m.group(0), dimension))
    found: list[UnknownLevel] = []
    for band, dimension in said:
        levels = vocab.levels[dimension]
        if not any(any(ch.isdigit() for ch in level) for level in levels):
            continue  # not a field of bands: "3 to 5 plans" counts plans
        known = {_band_key(level) for level in levels}
        if _band_key(band) not in known and all(f.said != band.strip() for f in found):
            found.append(of_field(vocab, band.strip(), dimension))
    return found


# A band standing alone: "10000+", "50-200" (not a date's "2024-01-15", nor "Q1-2").
_LONE_BAND = re.compile(
    r"(?<![\w.+\-\u2013/])\d[\d,]*(?:\s*\+|\s*(?:-|\u2013)\s*\d[\d,]*\+?)(?![\w\-\u2013/])"
)
_BAND_CUES = frozenset(["for", "only", "in", "among", "with", "at", "from", "of"])
# Words between a field's name and its value: "size is 50-200", "size band 10000+".
_BETWEEN = frozenset(["is", "of", "equals", "band", "bands", "in", "the", "a"])


def _field_ending(vocab: Vocabulary, words: list[str]) -> str | None:
    """The categorical field the last words name ("company size", "size band"), if any."""
    while words:
        for n in (3, 2, 1):
            if len(words) >= n:
                dimension = dimension_named(vocab, " ".join(words[-n:]))
                if dimension is not None:
                    return dimension
        if words[-1] not in _BETWEEN:
            return None
        words = words[:-1]
    return None


def against_level(
    parsed: ParsedQuestion, vocab: Vocabulary, said: str, first: int, last: int
) -> UnknownLevel | None:
    """``said`` (the words ``first..last``) set against a level ("retail vs education",
    "telecom or retail"): another value of that level's field, asked back as one."""
    raw = parsed.words.raw
    for match, _ in parsed.levels:
        beside = (match.end + 1 == first and raw[match.end] in _AGAINST) or (
            last + 2 == match.start and raw[last + 1] in _AGAINST
        )
        if beside and match.entry.name in vocab.levels:
            return of_field(vocab, said, match.entry.name)
    return None


def before_rows(parsed: ParsedQuestion, vocab: Vocabulary, last: int) -> bool:
    """Whether the word after ``last`` names the rows counted: "Healthcare customers' churn",
    "conversion of solar companies" (a value qualifying whom the number is about)."""
    raw = parsed.words.raw
    return last + 1 < len(raw) and names_rows(vocab, raw[last + 1], fields=False)


# Words that compare rather than name: "the cheaper plans", "larger companies".
_COMPARATIVES = frozenset(
    [
        "cheaper",
        "pricier",
        "costlier",
        "bigger",
        "larger",
        "smaller",
        "higher",
        "lower",
        "better",
        "worse",
        "newer",
        "older",
        "faster",
        "slower",
        "longer",
        "shorter",
        "greater",
        "lesser",
        "fewer",
        "richer",
        "poorer",
        "stronger",
        "weaker",
        "busier",
        "heavier",
        "lighter",
        "earlier",
        "later",
        "wider",
        "narrower",
        "deeper",
        "safer",
        "riskier",
        "healthier",
        "happier",
        "more",
        "less",
    ]
)


_SUPERLATIVES = frozenset(
    tokens(
        "cheapest priciest costliest biggest largest smallest highest lowest newest oldest fastest "
        "slowest longest shortest greatest strongest weakest busiest heaviest lightest earliest "
        "latest widest deepest safest riskiest healthiest happiest richest poorest best worst most "
        "least fewest"
    )
)


def comparative(word: str) -> bool:
    """A comparative or superlative ("cheaper", "largest"), not a name ending so ("starter",
    "Forest")."""
    return word in _COMPARATIVES or word in _SUPERLATIVES


def level_of_another_field(parsed: ParsedQuestion, vocab: Vocabulary) -> list[UnknownLevel]:
    """A level of one field said as another's: "the galaxy industry" when galaxy is a plan,
    "the newsletter plan" when newsletter is a channel (the article makes it a name)."""
    raw = parsed.words.raw
    out = []
    for match, _ in parsed.levels:
        if match.start == 0 or raw[match.start - 1] not in ("the", "a", "an", "our", "their"):
            continue
        after = raw[match.end] if match.end < len(raw) else ""
        field = dimension_named(vocab, after)
        own = match.entry.name.split(".")[-1]
        if field is None or field.split(".")[-1] == own or match.entry.value is None:
            continue
        if match.entry.value not in vocab.levels[field]:
            out.append(of_field(vocab, match.entry.value, field))
    return out


# Words after a field's name that say how its values are shown, or speak of them all, not
# which: "country code", "plan level", "the plan mix", "channel performance", "by channel YoY".
_FIELD_NOUNS = frozenset(
    tokens(
        "code codes name names id ids type types kind kinds group groups level levels band bands "
        "bucket buckets tier tiers category categories segment segments label labels option "
        "options wise basis sorted ordered descending ascending alphabetically mix distribution "
        "performance summary overview analysis details metrics kpis yoy mom qoq wow "
        # verbs that go on to say how ("by plan including trials"), where a value could end
        # so too ("industry fishing")
        "including included starting beginning ending going based combined listed shown "
        "showing displayed having"
    )
)
# Words before a field that make it a clause's subject: "which plan brings in the most".
_ASKING = frozenset(["which", "what", "whose", "each", "every", "any"])
_ARTICLES = frozenset(["the", "a", "an", "our", "their", "my", "this", "that", "its"])


def after_field(
    parsed: ParsedQuestion,
    vocab: Vocabulary,
    candidates: set[str],
    used: set[int],
    *,
    names_only: bool = False,
) -> list[UnknownLevel]:
    """ "plan choir", "industry biotech", "channel tik tok": the words just after a categorical
    field's name that the parse could not place (``candidates``, none of ``used``) are a value
    of that field the data lacks. ``names_only``: only words written as names ("plan Choir"),
    for questions asking why, where a verb may follow ("why does channel matter")."""
    raw, original = parsed.words.raw, parsed.words.original
    levels_at = {i for m, _ in parsed.levels for i in range(m.start, m.end)}
    out = []
    for d in parsed.dimensions:
        lead = d.start - 1
        # "which plan brings in the most", "did the partner program channel bring in": the
        # field heads a clause's subject, the value (if any) said before it.
        heads = lead >= 0 and (
            raw[lead] in _ASKING | _ARTICLES or lead in levels_at or raw[lead] in candidates
        )
        if d.entry.name not in vocab.levels or heads:
            continue
        end = d.end
        while (
            end < len(raw)
            and raw[end] in candidates
            and len(raw[end]) > 2  # "(p < 0.001)"
            and end not in used
            and parsed.outside_window(end)
            and raw[end] not in _FIELD_NOUNS
            and parsed.words.stems[end] not in FILTER_CUES | EXCLUDE_CUES  # "size, not ..."
            and not comparative(raw[end])
            and not raw[end].endswith("ly")  # "by plan respectively"
        ):
            end += 1
        said = " ".join(original[d.end : end])
        if end > d.end and (not names_only or said[:1].isupper()):
            out.append(of_field(vocab, said, d.entry.name))
    return out


def verb_like(word: str) -> bool:
    """A word shaped like a verb or an adverb ("keeping", "returned", "mostly")."""
    return word.endswith(("ing", "ed", "ly"))


def _country_fields(vocab: Vocabulary) -> list[str]:
    return [d for d, values in vocab.levels.items() if aliases(values)]


def unknown_countries(
    parsed: ParsedQuestion, vocab: Vocabulary, found: list[UnknownLevel]
) -> list[UnknownLevel]:
    """Countries named that the data's country field lacks: "customers in the United States"
    when no account is in the US, "country JP"."""
    fields = _country_fields(vocab)
    if not fields:
        return []
    levels_at = {i for m, _ in parsed.levels for i in range(m.start, m.end)}
    said_before = {f.said.lower() for f in found}
    out = []
    for start, end, code in countries_in(parsed.words.raw, parsed.words.original):
        if levels_at & set(range(start, end)):
            continue  # a level of the data, read as one
        field = fields[0]
        named = set(vocab.levels[field]) | set(aliases(vocab.levels[field]).values())
        said = " ".join(parsed.words.original[start:end])
        if code not in named and said.lower() not in said_before:
            out.append(of_field(vocab, said, field))
    return out


_IDENTIFIER = re.compile(r"(?<!\w)([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)(?!\w)")


def unknown_identifiers(
    parsed: ParsedQuestion, asked: str, vocab: Vocabulary, found: list[UnknownLevel]
) -> list[UnknownLevel]:
    """A name written as an identifier ("gantt_view") that the parse could not place: a value
    the data lacks (a field's name would have been placed, a slip in one repaired)."""
    unknown = set(parsed.unknown_words)
    said_before = {f.said.lower() for f in found}
    out = []
    for m in _IDENTIFIER.finditer(asked):
        ident = m.group(1)
        parts = ident.lower().split("_")
        if any(p in unknown for p in parts) and ident.lower() not in said_before:
            out.append(of_no_field(vocab, ident))
    return out
