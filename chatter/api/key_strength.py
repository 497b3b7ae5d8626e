"""How strong an API key is, and the rule ``chatter serve`` holds every key to at start-up.

The rule: 24 to 1,000 printable ASCII characters without spaces (they travel in an HTTP
header), not the user's name, and an estimated entropy of at least 100 bits. The estimate is
what it costs to describe the key to someone who knows how people make weak ones: the cheapest
of several descriptions, character by character (a minimum description length, the way
zxcvbn scores passwords):

- a character nobody could guess costs log2 of the pool of its kind: 26 lower-case letters,
  26 upper-case, 10 digits and 32 symbols for each kind the key uses (a key of hexadecimal
  digits only has a pool of 16);
- a run of one character (``aaaa``), a sequence (``abcd``, ``9876``) or a keyboard row
  (``qwerty``) costs one character and its length;
- a part seen earlier in the key (``passwordpassword``) costs where it was and how long;
- the user's name, the role and common words (``password``, ``secret``, ``admin``…) cost a
  few bits;
- a pronounceable run of five letters or more (``Horse``, ``battery``) costs 2.5 bits a letter,
  about what a letter carries in English words;
- and the whole key never costs more than choosing its distinct characters and then each
  character among those.

A key of ``secrets.token_urlsafe(32)`` (what :func:`new_key` makes) scores about 300 bits. For
random keys the estimate leans low: one of 24 letters and digits may score a little under 100.
It has no dictionary, so a long passphrase of short words can pass.

>>> weakness("chk_" + "a" * 43, user="alice")
'its estimated entropy is about 35 bits, below 100 (it is mostly repeated characters)'
>>> weakness(new_key(), user="alice") is None
True
"""

from __future__ import annotations

import math
import re
import secrets
import string
from dataclasses import dataclass

MIN_LENGTH, MAX_LENGTH, MIN_BITS = 24, 1000, 100.0
#: Only the start of a longer key is estimated (its bits can only grow with the rest).
ESTIMATED = 256
PREFIX = "chk_"  # marks chatter's own keys, so the secret scanner knows them by their shape

_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation)
_HEX = re.compile(r"[0-9a-f:-]+|[0-9A-F:-]+")
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "!@#$%^&*()")
_WORDISH = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")  # "Horse", "battery", "EMEA"
_UNPRONOUNCEABLE = re.compile(r"[^aeiouy]{4}|[aeiouy]{4}")
WORD_BITS = 2.5
COMMON_WORDS = frozenset((
    "password", "passwd", "passphrase", "secret", "secrets", "token", "apikey", "api", "key",
    "keys", "admin", "administrator", "root", "user", "username", "login", "logon", "access",
    "auth", "bearer", "chatter", "analyst", "viewer", "test", "testing", "demo", "example",
    "sample", "default", "changeme", "letmein", "welcome", "master", "hello", "dragon", "monkey",
    "shadow", "sunshine", "princess", "football", "baseball", "superman", "batman", "trustno1",
    "iloveyou", "qwerty", "azerty", "abc", "abcd", "local", "localhost", "prod", "production",
    "staging", "stage", "dev", "develop", "development", "server", "service", "company", "team",
    "data", "database", "report", "private", "public", "temp", "temporary", "guest", "office",
))  # fmt: skip
_WORD_COST = math.log2(len(COMMON_WORDS)) + 1  # which word, and its capitals


@dataclass(frozen=True)
class Strength:
    """An estimate: bits, and the kinds of pattern that made the key predictable (named,
    never quoted, so that a message about a key never carries a piece of it)."""

    bits: float
    patterns: tuple[str, ...]
    #: The bits are those of choosing the key's few distinct characters, then each among them.
    few_distinct: bool = False


def new_key() -> str:
    """A new API key: chatter's prefix and 32 random bytes, URL-safe (256 bits)."""
    return PREFIX + secrets.token_urlsafe(32)


def _pool(text: str) -> int:
    if _HEX.fullmatch(text) and any(c.isalnum() for c in text):
        return 16 + len(set(text) & set(":-"))
    return sum(len(chars) for chars in _CLASSES if any(c in chars for c in text)) or 1


def _kind(char: str) -> int:
    return next((i for i, chars in enumerate(_CLASSES) if char in chars), -1)


def estimate(key: str, *, user: str = "", role: str = "") -> Strength:
    """The estimated entropy of ``key`` in bits (see the module docstring)."""
    text = key[:ESTIMATED]
    n = len(text)
    if n == 0:
        return Strength(0.0, ())
    lower = text.lower()
    fresh = math.log2(_pool(text))
    best = [0.0] + [math.inf] * n
    how: list[tuple[int, str]] = [(0, "")] * (n + 1)  # (start of the last part, its kind)
    known = [(w, _WORD_COST, "common words") for w in COMMON_WORDS]
    known += [(user.lower(), 1.0, "the user's name"), (role.lower(), 2.0, "the role name")]
    spans: dict[int, list[tuple[int, float, str]]] = {}
    for m in _WORDISH.finditer(text):
        word = m.group().lower()
        if len(word) >= 5 and not _UNPRONOUNCEABLE.search(word):
            spans.setdefault(m.start(), []).append((m.end(), WORD_BITS * len(word), "words"))

    def relax(start: int, end: int, cost: float, kind: str) -> None:
        if best[start] + cost < best[end]:
            best[end], how[end] = best[start] + cost, (start, kind)

    for i in range(n):
        relax(i, i + 1, fresh, "")
        j = i + 1
        while j < n and text[j] == text[i]:
            j += 1
        for end in range(i + 3, j + 1):
            relax(i, end, fresh + math.log2(end - i), "repeated characters")
        for step in (1, -1):
            j = i + 1
            while (
                j < n
                and ord(text[j]) - ord(text[j - 1]) == step
                and _kind(text[j]) == _kind(text[i])
            ):
                j += 1
            for end in range(i + 3, j + 1):
                relax(i, end, fresh + math.log2(end - i) + 1, "sequences")
        for row in _KEYBOARD:
            for line in (row, row[::-1]):
                length = 0
                while i + length < n and lower[i : i + length + 1] in line:
                    length += 1
                for end in range(i + 4, i + length + 1):
                    relax(i, end, fresh + math.log2(end - i) + 3, "keyboard rows")
        length = 3  # a part seen earlier (it may overlap itself, as in "abababab")
        while i and i + length <= n and text.find(text[i : i + length], 0, i + length - 1) >= 0:
            relax(i, i + length, math.log2(i) + math.log2(length) + 1, "repeats of an earlier part")
            length += 1
        for word, cost, kind in known:
            if len(word) >= 3 and lower.startswith(word, i):
                relax(i, i + len(word), cost, kind)
        for end, cost, kind in spans.get(i, ()):
            relax(i, end, cost, kind)

    kinds: dict[str, int] = {}
    end = n
    while end:
        start, kind = how[end]
        if kind:
            kinds[kind] = kinds.get(kind, 0) + end - start
        end = start
    patterns = tuple(sorted(kinds, key=lambda k: -kinds[k]))
    distinct = len(set(text))
    cap = _log2_comb(max(_pool(text), distinct), distinct) + n * math.log2(distinct)
    return Strength(min(best[n], cap), patterns, few_distinct=cap < best[n])


def _log2_comb(n: int, k: int) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2)


def weakness(key: str, *, user: str, role: str = "") -> str | None:
    """Why ``key`` is too weak to be ``user``'s API key, or None when it meets the rule.
    The reason never quotes the key."""
    if len(key) < MIN_LENGTH:
        return f"it is {len(key)} characters long; at least {MIN_LENGTH} are needed"
    if len(key) > MAX_LENGTH:
        return f"it is {len(key):,} characters long; at most {MAX_LENGTH:,} fit in a header"
    if not all("!" <= c <= "~" for c in key):
        return "it has spaces, control or non-ASCII characters, which an HTTP header cannot carry"
    if user and key.lower() == user.lower():
        return "it is the user's name"
    found = estimate(key, user=user, role=role)
    if found.bits >= MIN_BITS:
        return None
    why = ["it is mostly " + " and ".join(found.patterns[:2])] if found.patterns else []
    if found.few_distinct:
        distinct = len(set(key[:ESTIMATED]))
        why.append(f"it has only {distinct} distinct character{'s' * (distinct > 1)}")
    said = "; ".join(why) or "too few kinds of characters for its length"
    return f"its estimated entropy is about {found.bits:.0f} bits, below {MIN_BITS:.0f} ({said})"
