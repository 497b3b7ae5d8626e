"""Unknown words said where only a value goes, with no field named: "perfumery's churn rate",
"falconry-only conversion", "Within cartography, what's our MRR?", "customers on magpie: ...",
"How did shipbuilding do on conversion?", "Did toucan convert better than wren?". Answering
without the word would answer for every value instead of the one asked for, so each is asked
back, naming the values there are."""

from __future__ import annotations

import re

from chatter.analyst.level_names import UnknownLevel, of_no_field
from chatter.analyst.level_shapes import comparative, verb_like
from chatter.analyst.parse import ParsedQuestion
from chatter.analyst.vocabulary import Vocabulary

__all__ = ["unknown_in_value_slots"]

# Words before a value that closes its clause: "within cartography,", "customers on magpie:".
_CLAUSE_VALUE_CUES = frozenset(["for", "in", "from", "among", "within", "on", "at"])
# "How did X do", "does X convert": X is the subject of a verb of the measures.
_SUBJECT_OF = frozenset(["did", "does", "do"])
_DOING = frozenset(["do", "perform", "fare", "go", "look"])


def unknown_in_value_slots(
    parsed: ParsedQuestion, asked: str, vocab: Vocabulary, found: list[UnknownLevel]
) -> list[UnknownLevel]:
    """Unknown words in one of the slots above (``asked``: the question as typed)."""
    raw, original = parsed.words.raw, parsed.words.original
    counted = {i for m in parsed.measures for i in range(m.start, m.end)}
    said_already = {f.said.lower() for f in found}
    typed = asked.lower()
    out: list[UnknownLevel] = []
    for i, word in enumerate(raw):
        if word not in parsed.unknown_words or word in said_already or comparative(word):
            continue
        before = raw[i - 1] if i else ""
        possessive = original[i].lower().endswith(("'s", "\u2019s")) and i + 1 in counted
        only = re.search(rf"\b{re.escape(word)}-only\b", typed) is not None
        closes = (
            before in _CLAUSE_VALUE_CUES
            and not verb_like(word)
            and re.search(rf"\b{before}\s+{re.escape(word)}\s*[,:;.!?]", typed) is not None
        )
        subject = (
            before in _SUBJECT_OF
            and i + 1 < len(raw)
            and (i + 1 in counted or raw[i + 1] in _DOING)
        )
        if possessive or only or closes or subject:
            out.append(of_no_field(vocab, original[i].split("'")[0].split("\u2019")[0]))
            said_already.add(word)
    return out
