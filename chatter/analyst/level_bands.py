"""Number bands said as a value of a field of bands that the field lacks: "the 5000+ size
band" when the sizes end at 1001+, "company size 10000+", "for 10000+", "the 2-9 band",
"30-149 vs 50-99" (and not ranges of something else: "in 2023-2024", "the last 3-6 months")."""

from __future__ import annotations

import re

from chatter.analyst.level_names import UnknownLevel, dimension_named, names_rows, of_field
from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import tokens

# "5000+", "1,000-5,000", "50 to 200", followed by the field's name ("size", "employees").
_BAND = re.compile(
    r"(?<![\w.])(\d[\d,]*\s*\+|\d[\d,]*\s*(?:-|\u2013|to)\s*\d[\d,]*\+?)\s+([a-z_]+)(?:\s+([a-z_]+))?",
    re.IGNORECASE,
)


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
        if dimension is None and len(banded) == 1:
            # "conversion for 10000+", "the 2-9 band", "30-149 vs 50-99": the one field of bands
            rest = asked[m.end() :]
            dimension = banded[0] if _said_as_band(vocab, m.group(0), before, rest) else None
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
_BAND_CUES = frozenset(
    ["for", "only", "in", "among", "with", "at", "from", "of", "vs", "versus", "or"]
)
_AGAINST_BAND = frozenset(["vs", "versus", "or"])
# Words for a value of a field of bands: "the 2-9 band", "the 10000+ segment".
_BAND_NOUNS = frozenset(
    tokens(
        "band bands segment segments tier tiers bucket buckets size sizes group groups range "
        "ranges bracket brackets category class cohort"
    )
)
# Words a range of something other than a band is counted in: "the last 3-6 months".
_UNITS = frozenset(
    tokens(
        "day days week weeks month months quarter quarters year years hour hours minute minutes "
        "times percent pct points"
    )
)
_LEADING = frozenset(["the", "our", "a", "an", "their", "my", "this", "that"])
# Words between a field's name and its value: "size is 50-200", "size band 10000+".
_BETWEEN = frozenset(["is", "of", "equals", "band", "bands", "in", "the", "a"])


def _said_as_band(vocab: Vocabulary, band: str, before: list[str], rest: str) -> bool:
    """Whether a band standing alone (``before`` it the last words, ``rest`` the text after)
    is said as a value: before a word for one ("the 2-9 band", "the 10000+ segment"), after a
    filter cue ("for 10000+", "from the 1000+ band") or set against another ("30-149 vs
    50-99"); not a range of something else ("in 2023-2024", "the last 3-6 months", "for 3-5
    plans", "10-20%")."""
    after = tokens(rest)[:1]
    nxt = after[0] if after else ""
    if nxt in _BAND_NOUNS:
        return True
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", band)]
    if len(numbers) == 2 and (
        numbers[1] <= numbers[0] or all(1900 <= n <= 2100 for n in numbers)  # years
    ):
        return False
    if rest.lstrip().startswith("%") or nxt in _UNITS:
        return False
    if nxt and (names_rows(vocab, nxt, fields=False) or dimension_named(vocab, nxt) is not None):
        return False  # "3-5 plans", "5-10 events": counts of other things
    lead = list(before)
    while lead and lead[-1] in _LEADING:
        lead.pop()
    return bool(lead and lead[-1] in _BAND_CUES) or nxt in _AGAINST_BAND


def _field_ending(vocab: Vocabulary, words: list[str]) -> str | None:
    """The categorical field the last words name ("company size", "size band"), if any."""
    while words:
        for n in (3, 2, 1):
            if len(words) >= n:
                dimension = dimension_named(vocab, " ".join(words[-n:]))
                if dimension is not None:
                    return dimension
        if words[-1].endswith("ed"):  # "companies sized 51-200": the field's name as a verb
            for base in (words[-1][:-1], words[-1][:-2]):
                dimension = dimension_named(vocab, base)
                if dimension is not None:
                    return dimension
        if words[-1] not in _BETWEEN:
            return None
        words = words[:-1]
    return None
