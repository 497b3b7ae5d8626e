"""Sentences around the question that only say why it is asked.

"How many customers churned in 2023? Trying to get a feel for the retention problem before our
offsite." asks one thing; the second sentence says why. Read as part of the question, its words
("retention", "sales", "usage numbers") change the reading or, unplaced, lower the confidence
until the analyst asks back a question it could answer. When exactly one sentence asks (ends
with "?") and is answered when read alone, the other sentences are context if they name nothing
the answer could be about and ask for no analysis: no field, level, time window, grain, number
or name, no word where a level goes, no cue for a test ("is that correlated"). Their words are
then reported as unused, never read; otherwise the whole message is read as one question.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from chatter.analyst.cues import analysis_cues
from chatter.analyst.level_mentions import UnknownLevel, unmatched_levels
from chatter.analyst.parse import ParsedQuestion, parse_question
from chatter.analyst.structure_cues import FREQUENCY_WORDS
from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import STOPWORDS

__all__ = ["set_context_apart"]

# A sentence ends at ". ", "! " or "? " (not inside "1.5" or "e.g.x").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_ARTICLES = frozenset(["the", "our", "a", "an", "my", "their"])
_PURPOSE_CUES = frozenset(["for", "before", "after"])
_PRONOUN_I = re.compile(r"^I(?:'[a-z]+|\u2019[a-z]+)?$")


def set_context_apart(
    text: str, vocab: Vocabulary, today: dt.date | None, stands: Callable[[str], bool]
) -> tuple[str, list[str]]:
    """The sentence to read and the words of the context set apart (``(text, [])`` when the
    message is one question, or its other sentences may say what the answer is about).
    ``stands`` says whether a sentence, read alone, is answered without asking back."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    asking = [s for s in sentences if s.rstrip().endswith("?")]
    if len(sentences) < 2 or len(asking) != 1:
        return text, []
    question = asking[0]
    asked = parse_question(question, vocab, today)
    # "the most common event type" is measured too: by how often each occurs
    measured = bool(asked.measures) or bool(FREQUENCY_WORDS & set(asked.words.raw))
    context: list[str] = []
    for sentence in sentences:
        if sentence is question:
            continue
        parsed = parse_question(sentence, vocab, today)
        if _says_what(parsed, sentence, vocab) or (parsed.measures and not measured):
            return text, []  # "Conversion has been slipping. Which channel is worst?"
        said = re.findall(r"[a-z]+", sentence.lower().replace("'", ""))
        context += [w for w in said if w not in STOPWORDS]
    if not stands(question):
        return text, []
    return question, list(dict.fromkeys(context))


def _says_what(parsed: ParsedQuestion, sentence: str, vocab: Vocabulary) -> bool:
    """Whether ``sentence`` names something the answer could be about."""
    if analysis_cues(sentence, parsed):  # "... is that correlated": it asks for a test
        return True
    if parsed.levels or parsed.dimensions or parsed.window or parsed.grain or parsed.limit:
        return True
    original = parsed.words.original
    if any(w.isdigit() for w in parsed.words.raw):
        return True
    named = any(
        (i > 0 and w[:1].isupper() and not _PRONOUN_I.match(w)) or (len(w) > 1 and w.isupper())
        for i, w in enumerate(original)
    )
    return named or any(
        not _purpose(level, parsed) for level in unmatched_levels(parsed, sentence, vocab)
    )


def _purpose(level: UnknownLevel, parsed: ParsedQuestion) -> bool:
    """An unknown word after "for the" and no field's name ("usage numbers for the roadmap"):
    in a sentence that asks nothing it says what the figure is for, not whom it is about."""
    raw = parsed.words.raw
    first = level.said.split("_")[0].split()[0].lower()
    return level.dimension is None and any(
        raw[i] == first and i >= 2 and raw[i - 1] in _ARTICLES and raw[i - 2] in _PURPOSE_CUES
        for i in range(len(raw))
    )
