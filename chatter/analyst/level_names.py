"""What the analyst knows of a field's levels, for mentions of a level the data lacks: the
value asked back about (``UnknownLevel``), and lookups of fields, levels and row nouns."""

from __future__ import annotations

from dataclasses import dataclass

from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import STOPWORDS, phrase
from chatter.errors import suggest


@dataclass(frozen=True)
class UnknownLevel:
    said: str
    dimension: str | None  # the field it was said of, when the question names one
    choices: tuple[str, ...]  # that field's levels, or the closest levels of any field
    known: str = ""  # every field's values, when neither names what was meant
    # False where the words could also describe ("the big accounts"): an LLM's reading that
    # places them may answer; without one the analyst asks back.
    certain: bool = True

    def question(self) -> str:
        """What to ask back: what is not there, and what is."""
        listed = ", ".join(self.choices[:20]) + (" ..." if len(self.choices) > 20 else "")
        if self.dimension is not None:
            name = self.dimension.split(".")[-1]
            return f"No {name} is called {self.said!r} in the data. Its values: {listed}."
        if self.choices:
            return f"Nothing in the data is called {self.said!r}. Did you mean {listed}?"
        return f"Nothing in the data is called {self.said!r}. Its values are {self.known}."


def of_field(vocab: Vocabulary, said: str, dimension: str) -> UnknownLevel:
    """``said`` asked back as a value of ``dimension``, naming that field's values."""
    return UnknownLevel(said, dimension, tuple(vocab.levels[dimension]))


def of_no_field(vocab: Vocabulary, said: str, *, certain: bool = True) -> UnknownLevel:
    """``said`` asked back as a value of no field in particular: the closest values, or all."""
    return UnknownLevel(said, None, _closest(vocab, said.lower()), _known(vocab), certain)


def is_level(vocab: Vocabulary, dimension: str, said: str) -> bool:
    wanted = phrase(said)
    return any(
        e.kind == "level" and e.name == dimension and tuple(e.words) == wanted
        for e in vocab.entries
    )


def a_word(vocab: Vocabulary, said: str) -> bool:
    """A word the analyst knows (a name, a synonym, a template's word) or a function word."""
    lowered = said.lower()
    return lowered in vocab.known_words or lowered in STOPWORDS


def dimension_named(vocab: Vocabulary, text: str) -> str | None:
    """The categorical dimension ``text`` names (by name or synonym), if one does."""
    wanted = phrase(text)
    for e in vocab.entries:
        if e.kind == "dimension" and tuple(e.words) == wanted and e.name in vocab.levels:
            return e.name
    return None


def names_rows(vocab: Vocabulary, word: str, *, fields: bool = True) -> bool:
    """Whether ``word`` names the rows counted ("signups", "accounts") or (``fields``) a field."""
    stem = phrase(word)
    return any(
        tuple(e.words) == stem
        and ((fields and e.kind == "dimension") or e.name in vocab.row_counts)
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
