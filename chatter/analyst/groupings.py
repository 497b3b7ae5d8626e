"""The word after "by" or "per" that no phrase of the vocabulary matched: a field said by the
last word of its name when the words before name what is counted ("events by type": the event
type, "signups by date": the signup date), else a word naming no field, kept with the fields
it is closest to (asked back when nothing else groups the question)."""

from __future__ import annotations

from collections.abc import Sequence

from chatter.analyst.structure_cues import GRAINS
from chatter.analyst.vocabulary import Entry, Vocabulary
from chatter.analyst.words import STOPWORDS, Words
from chatter.errors import suggest


def field_by_last_word(
    words: Words, vocab: Vocabulary, at: int, counted: Sequence[Entry]
) -> Entry | None:
    """The one field whose name is a counted measure's words and then the word at ``at``
    ("event type" for "events by type"), if exactly one field is so named."""
    last = words.stems[at]
    found = {
        e.name: e
        for e in vocab.of_kind("dimension")
        if len(e.words) > 1
        and e.words[-1] == last
        and any(tuple(m.words[: len(e.words) - 1]) == e.words[:-1] for m in counted if m.words)
    }
    return next(iter(found.values())) if len(found) == 1 else None


def read_groupings(
    words: Words, vocab: Vocabulary, taken: set[int], counted: Sequence[Entry]
) -> tuple[list[tuple[Entry, int]], list[tuple[str, list[str]]]]:
    """The fields said after "by"/"per" by their last word (each with its position), and the
    words there that name no field, each with the fields it is closest to."""
    names = sorted({" ".join(e.words) for e in vocab.of_kind("dimension")})
    fields: list[tuple[Entry, int]] = []
    unknown: list[tuple[str, list[str]]] = []
    for i, raw in enumerate(words.raw[:-1]):
        if raw not in ("by", "per") or i + 1 in taken:
            continue
        nxt = words.raw[i + 1]
        if nxt in STOPWORDS or nxt in GRAINS or nxt.rstrip("s") in GRAINS or nxt.isdigit():
            continue
        field = field_by_last_word(words, vocab, i + 1, counted)
        if field is not None:
            fields.append((field, i + 1))
            continue
        close = suggest(words.stems[i + 1], names)
        dims = sorted({e.name for e in vocab.of_kind("dimension") if " ".join(e.words) in close})
        unknown.append((nxt, dims))
    return fields, unknown
