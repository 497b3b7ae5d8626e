"""Words of a question: normalised tokens, a light stemmer, and phrase matching.

Deliberately small and deterministic: the router's vocabulary comes from the semantic model and
the templates, and both sides go through the same normalisation, so "signups", "sign-ups" and
"signed up" meet "signup" without a list of known sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CURLY_APOSTROPHE = "\u2019"
_IRREGULAR = {
    "did": "do",
    "does": "do",
    "done": "do",
    "went": "go",
    "better": "good",
    "best": "good",
    "worse": "bad",
    "worst": "bad",
    "lower": "low",
    "lowest": "low",
    "higher": "high",
    "highest": "high",
    "more": "many",
    "most": "many",
    "fewer": "few",
    "fewest": "few",
    "less": "little",
    "least": "little",
    "people": "person",
    "companies": "company",
    "is": "be",
    "are": "be",
    "was": "be",
    "were": "be",
    "'s": "be",
}
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "per",
        "with",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "what",
        "whats",
        "which",
        "who",
        "whom",
        "whose",
        "whole",
        "how",
        "why",
        "when",
        "where",
        "do",
        "does",
        "did",
        "doing",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "me",
        "my",
        "we",
        "our",
        "us",
        "you",
        "your",
        "i",
        "show",
        "give",
        "tell",
        "list",
        "get",
        "find",
        "see",
        "please",
        "let",
        "lets",
        "there",
        "their",
        "them",
        "they",
        "than",
        "then",
        "as",
        "from",
        "into",
        "over",
        "about",
        "up",
        "down",
        "out",
        "all",
        "any",
        "each",
        "every",
        "some",
        "much",
        "many",
        "just",
        "only",
        "also",
        "too",
        "very",
        "really",
        "vs",
        "versus",
        "across",
        "between",
        "within",
    ]
)


def normalise(text: str) -> str:
    """Lower case, unified quotes and separators: "Sign-ups" -> "sign ups"."""
    text = text.lower().replace(_CURLY_APOSTROPHE, "'")
    # "what's" -> "what", "don't" -> "dont": possessives and contractions read as the word.
    text = re.sub(r"'s\b", "", text).replace("'", "")
    text = text.replace("_", " ").replace("-", " ").replace("/", " ")
    return re.sub(r"\s+", " ", text).strip()


def stem(word: str) -> str:
    """A light English stemmer: enough to meet plurals and verb forms, never clever."""
    word = _IRREGULAR.get(word, word)
    if word in _ING_NOUNS:
        return word
    for suffix, replacement, minimum in (
        ("ies", "y", 4),
        ("ied", "y", 4),
        ("sses", "ss", 5),
        ("ing", "", 5),
        ("ed", "", 4),
        ("es", "e", 4),
        ("s", "", 3),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= minimum - len(replacement):
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            word = word[: len(word) - len(suffix)] + replacement
            break
    if word.endswith("ion") and len(word) > 6:  # conversion -> convers, convert -> convert
        word = word[:-3]
    if word.endswith("t") and len(word) > 6 and word[:-1].endswith("er"):  # convert -> conver
        word = word[:-1]
    if word.endswith("s") and len(word) > 6 and word[:-1].endswith("er"):  # convers -> conver
        word = word[:-1]
    return word


def singular(word: str) -> str:
    """A plural's last "s" dropped, nothing cleverer: "accounts" -> "account"."""
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def tokens(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


# Nouns of their own that end like a verb's "-ing": "accounting" is not a form of "account",
# nor "marketing" of "market" or "planning" of "plan" (industries, channels and levels are
# often called so), so they keep their ending when stemmed.
_ING_NOUNS = frozenset(
    tokens(
        "accounting advertising banking branding catering clothing coaching computing consulting "
        "engineering farming fishing funding gaming housing landscaping learning lending "
        "manufacturing marketing mining networking nursing packaging planning plumbing printing "
        "publishing recruiting roofing shipping staffing streaming ticketing trading training "
        "tutoring"
    )
)


def plus_marked(text: str) -> frozenset[int]:
    """Positions of the tokens written with a plus after them ("2000+ companies"): a band of
    a count, never a year."""
    normal = normalise(text)
    return frozenset(
        i for i, m in enumerate(_WORD.finditer(normal)) if normal[m.end() : m.end() + 1] == "+"
    )


_CLAUSE_END = re.compile(r"[.!?:;]+(?=\s|$)")


def clause_ends(text: str) -> frozenset[int]:
    """Positions of the tokens that end a sentence or a clause ("Hello!", "Quick one:"), read
    before spelling repair rewrites the text as tokens."""
    normal = normalise(text)
    ends = [m.start() for m in _CLAUSE_END.finditer(normal)]
    out = set()
    for i, m in enumerate(_WORD.finditer(normal)):
        if any(m.end() <= at and not _WORD.search(normal, m.end(), at) for at in ends):
            out.add(i)
    return frozenset(out)


@dataclass(frozen=True)
class Words:
    """A question as raw tokens, their stems, and the original casing (for codes like "US")."""

    raw: tuple[str, ...]
    stems: tuple[str, ...]
    original: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Words:
        raw = tuple(tokens(text))
        plain = text.replace(_CURLY_APOSTROPHE, "'").replace("_", " ").replace("-", " ")
        original = tuple(re.findall(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?", plain.replace("/", " ")))
        if len(original) != len(raw):
            original = raw
        return cls(raw, tuple(stem(t) for t in raw), original)

    def find(self, phrase: Sequence[str], start: int = 0) -> int:
        """Index where the stemmed ``phrase`` occurs in the stems, or -1."""
        n = len(phrase)
        for i in range(start, len(self.stems) - n + 1):
            if self.stems[i : i + n] == tuple(phrase):
                return i
        return -1

    def content(self) -> list[str]:
        return [s for s, r in zip(self.stems, self.raw, strict=True) if r not in STOPWORDS]


def phrase(text: str) -> tuple[str, ...]:
    """A vocabulary phrase in the stemmed form questions are matched in."""
    return tuple(stem(t) for t in tokens(text))
