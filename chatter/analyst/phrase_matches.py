"""The vocabulary's phrases found in a question's words: longest first, without overlaps, as
written before through stems, and a measure named by a describing word and a noun also when
said as a predicate ("users were active")."""

from __future__ import annotations

from dataclasses import dataclass

from chatter.analyst.vocabulary import Entry
from chatter.analyst.words import Words, singular


@dataclass
class Match:
    entry: Entry
    start: int
    end: int  # exclusive


def find_matches(
    words: Words,
    entries: list[Entry],
    taken: set[int],
    prefer_ratio: bool = False,
    row_nouns: list[frozenset[str]] | None = None,
) -> list[Match]:
    """Longest-first, non-overlapping matches of the entries' phrases in the question; at equal
    length a phrase written exactly as in the vocabulary wins over one met through stems
    ("conversions" names converted users before it names the conversion rate), and a ratio
    wins when the question asks for a share or a rate (``row_nouns``: the words naming each
    table's rows, any of which may stand for another in "users were active")."""
    found: list[Match] = []
    ordered = sorted(entries, key=lambda e: (-len(e.words), not (prefer_ratio and e.ratio)))
    singulars = tuple(singular(w) for w in words.raw)
    # First the phrases as written, longest first, each exactly before with plurals loosened
    # ("event counts" is the measure "event count" before "event" is a field); then through
    # stems, which change a word's kind ("trials converted" is not "trial conversion").
    lengths = sorted({len(e.words) for e in ordered}, reverse=True)
    passes = [(n, x) for n in lengths for x in ("exact", "plural")]
    # "users were active" spans three words: matched before the two-word phrases.
    at = next((i for i, (n, _) in enumerate(passes) if n < 3), len(passes))
    passes[at:at] = [(2, "predicate")]
    passes.append((0, "stems"))
    for n_words, how in passes:
        if how == "predicate":
            found += _predicates(words, ordered, taken, row_nouns or [])
            continue
        for entry in (e for e in ordered if how == "stems" or len(e.words) == n_words):
            if how == "stems":
                target, haystack = entry.words, words.stems
            elif how == "plural":
                target, haystack = tuple(singular(w) for w in entry.raw), singulars
            else:
                target, haystack = entry.raw, words.raw
            n = len(target)
            for start in range(len(haystack) - n + 1 if n else 0):
                if haystack[start : start + n] != target:
                    continue
                span = set(range(start, start + n))
                if not span & taken:
                    found.append(Match(entry, start, start + n))
                    taken |= span
    return sorted(found, key=lambda m: m.start)


_BE = frozenset(["is", "are", "was", "were", "been", "being"])
_RELATIVE = frozenset(["who", "that", "which"])


def _predicates(
    words: Words, entries: list[Entry], taken: set[int], row_nouns: list[frozenset[str]]
) -> list[Match]:
    """A measure named by a describing word and a noun ("active users", "billed accounts"),
    said as the noun, or another word for the same rows, and a predicate: "users were
    active", "customers that were billed"."""
    found: list[Match] = []
    raw = words.raw
    for entry in entries:
        if entry.kind != "measure" or len(entry.raw) != 2:
            continue
        describing, noun = entry.raw
        nouns = {singular(noun)}.union(*(n for n in row_nouns if singular(noun) in n))
        for start in range(len(raw) - 2):
            at = start + 1 + (raw[start + 1] in _RELATIVE)
            if (
                singular(raw[start]) not in nouns
                or at + 1 >= len(raw)
                or raw[at] not in _BE
                or raw[at + 1] != describing
            ):
                continue
            span = set(range(start, at + 2))
            if not span & taken:
                found.append(Match(entry, start, at + 2))
                taken |= span
    return found
