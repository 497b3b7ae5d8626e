"""Find secrets in tool parameters by their value, and redact them from anything we log.

What is caught: this process's own API keys, exactly, wherever they appear (see
:func:`remember_secrets`), and chatter's key format (``chk_`` and 43 URL-safe characters);
well-known public token formats (AWS access key ids, GitHub, OpenAI, Anthropic, Slack, Stripe and
Google API keys, JWTs, PEM private keys, ``Bearer`` tokens, URLs with a password,
``password=...``-style assignments inside a string) and random-looking tokens (``high_entropy``:
at least 24 characters, >= 4.0 bits/char, >= 3 of lower/upper/digit/symbol, not mostly words).

What is not: key names are never looked at (a key called ``password`` holding ``plan_type`` is
fine; a key called ``segment`` holding an AWS key is not), so ``{"password": "hunter2"}`` passes.
Pure-hex values (hashes, commit shas, UUIDs, trace ids) are never ``high_entropy``: hex carries at
most 4 bits/char and cannot be told from a sha256 by looking, so hex-only vendor keys are missed.
Short secrets (< 24 chars, e.g. ``hunter2``) are only caught with a format or an assignment. About
5% of random 24-char tokens, 1% of 32-char and 0.1% of 40-char ones fall under the entropy bar.

Refusing a call whose parameters match is the guarantee; redaction is best effort (it only knows
what :func:`scan` knows, and text beyond the first 100,000 characters is cut, not scanned).

>>> [m.kind for m in scan({"segment": "AKIAIOSFODNN7EXAMPLE", "password": "plan_type"})]
['aws_access_key']
>>> redact_text("postgres://ana:hunter22@db:5432/x")
'postgres://ana:[REDACTED:basic_auth_url]@db:5432/x'
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, TypeVar, cast

from pydantic import BaseModel

T = TypeVar("T")

MAX_SCAN = 100_000  # longer strings are scanned (and kept, when redacting) up to here only
# high_entropy thresholds. MAX_WORDY sits in the gap of the test corpus: its random secrets have
# at most 0.66 of their characters in word-like runs, its long identifiers at least 0.79.
MIN_TOKEN, MIN_BITS, MIN_CLASSES, MAX_WORDY = 24, 4.0, 3, 0.75

_NOT_REDACTED = r"(?![\"']?\[REDACTED:)"  # so scanning already-redacted text finds nothing
# Most-specific first: when two matches overlap, the earlier pattern wins (a JWT after "Bearer"
# is reported as a JWT, an "sk-ant-" key as Anthropic). Group ``s`` is the part that is redacted.
# Each pattern starts with a literal so that the regex engine can skip ahead to it (a leading
# lookbehind or alternation makes it try every position, ~30x slower); the lookbehind after the
# literal anchors the match at a token start, so "task-management" is not "sk-…" and a run like
# "eyJeyJeyJ…" stays linear instead of quadratic.
_TABLE = (
    ("api_key", "a chatter API key", r"chk_(?<![A-Za-z0-9_-]chk_)[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
    ("private_key", "a private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[\s\S]*)"),
    ("aws_access_key", "an AWS access key id", r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"),
    ("github_token", "a GitHub token", r"gh[pousr]_[A-Za-z0-9]{36,}"),
    ("github_token", "a GitHub token", r"github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{22,}"),
    ("anthropic_key", "an Anthropic API key", r"sk-ant-(?<![A-Za-z0-9_-]sk-ant-)[A-Za-z0-9_-]{20,}"),
    ("openai_key", "an OpenAI API key", r"sk-(?<![A-Za-z0-9_-]sk-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    ("slack_token", "a Slack token", r"xox[abposr]-(?<![A-Za-z0-9-]xox.-)[A-Za-z0-9-]{10,}"),
    ("stripe_key", "a Stripe key", r"sk_(?<![A-Za-z0-9]sk_)(?:live|test)_[A-Za-z0-9]{16,}"),
    ("stripe_key", "a Stripe key", r"rk_(?<![A-Za-z0-9]rk_)(?:live|test)_[A-Za-z0-9]{16,}"),
    ("google_api_key", "a Google API key", r"AIza[0-9A-Za-z_-]{35}"),
    ("jwt", "a JSON Web Token", r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("bearer_token", "a bearer token", rf"(?i:bearer)\s+{_NOT_REDACTED}(?P<s>[A-Za-z0-9._~+/=-]{{20,}})"),
    ("basic_auth_url", "a URL with a password in it", rf"(?i)[a-z][a-z0-9+.-]{{0,30}}://[^/\s:@]*:{_NOT_REDACTED}(?P<s>[^/\s@]+)@"),
    ("password_assignment", "a password or key assignment", rf"(?i:password|passwd|pwd|secret|api[_-]?key|token)[\"']?\s*[:=]\s*{_NOT_REDACTED}[\"']?(?P<s>\S{{6,}})"),
)  # fmt: skip
_PATTERNS = tuple((kind, re.compile(rx)) for kind, _, rx in _TABLE)
_LABELS = {kind: label for kind, label, _ in _TABLE} | {"high_entropy": "a random-looking secret"}
# The last three cannot start with a literal; they only run when the text can hold a match.
_HINTS: dict[str, tuple[str, ...]] = {"bearer_token": ("bearer",), "basic_auth_url": ("://",)}
_HINTS["password_assignment"] = ("pass", "pwd", "secret", "key", "token")
_TOKEN = re.compile(rf"[A-Za-z0-9+/=_\-.]{{{MIN_TOKEN},}}")
_HEX = re.compile(r"[0-9a-f+/=_\-.]+|[0-9A-F+/=_\-.]+")  # hashes, shas, UUIDs: see the docstring
# Runs that read as words or numbers: "Revenue", "plan", "EMEA", "2025". Random strings flip case
# and letter/digit every couple of characters, so few of their characters fall in such runs.
_WORDS = re.compile(r"[A-Z]?[a-z]{3,}|[A-Z]{3,}(?![a-z])|[0-9]{2,}")
_CLASSES = (str.islower, str.isupper, str.isdigit, lambda c: c in "+/=_-.")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Payment platforms' public object ids (a customer, a subscription, an invoice) look random but
# are what an analyst filters on; their secret keys (sk_/rk_) are caught by the patterns above.
_PUBLIC_ID = re.compile(
    r"(?:cus|sub|si|pi|ch|in|ii|il|prod|price|evt|acct|txn|po|re|seti|src|card|pm|cs|py|tr)"
    r"_[A-Za-z0-9]{8,40}"
)


class _KnownSecrets:
    """The exact secrets this process holds (its API keys): found wherever they appear, whatever
    their shape (a hex key looks like a hash to every pattern above)."""

    def __init__(self) -> None:
        self._values: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        # Each also as JSON writes it inside a string (a key with a quote or a backslash), since
        # parameters are often redacted as JSON text.
        values = [w for v in values if len(v) >= MIN_KNOWN for w in (v, json.dumps(v)[1:-1])]
        with self._lock:
            new = set(values) - set(self._values)
            if new:  # longest first, so a key that contains another is redacted whole
                self._values = tuple(sorted({*self._values, *new}, key=lambda v: (-len(v), v)))
                _find_short.cache_clear()  # what was clean may hold a key now

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = []
        for value in self._values:  # str.find: a fast substring search, no regex to build
            start = text.find(value)
            while start >= 0:
                found.append((start, start + len(value)))
                start = text.find(value, start + len(value))
        return found


#: Shorter strings are not remembered: refusing every text that holds them would refuse words.
MIN_KNOWN = 16
# Process-wide, like the log configuration that redacts with it: an error body, a log line or
# an audit copy is redacted by code that has no services object to ask. It only grows, and each
# entry is a strong key, so screening a key of another data directory in this process is right.
_KNOWN = _KnownSecrets()


def remember_secrets(values: Iterable[str]) -> None:
    """Treat each of ``values`` (16 characters or more) as a secret from now on, in this
    process: scanned for, refused and redacted like a known token format (kind ``api_key``).

    >>> import secrets
    >>> key = secrets.token_hex(16)  # hex: no pattern knows it
    >>> scan(f"by plan {key}")
    []
    >>> remember_secrets([key])
    >>> redact_text(f"by plan {key}")
    'by plan [REDACTED:api_key]'
    """
    _KNOWN.add(values)


@dataclass(frozen=True)
class SecretMatch:
    """One suspected secret: where it is, what it looks like, and a 4-character preview."""

    path: str
    kind: str
    preview: str


def _random_looking(token: str) -> bool:
    if _HEX.fullmatch(token) or _PUBLIC_ID.fullmatch(token):
        return False
    if sum(any(map(test, token)) for test in _CLASSES) < MIN_CLASSES:
        return False
    n = len(token)
    if -sum(c / n * math.log2(c / n) for c in Counter(token).values()) < MIN_BITS:
        return False
    alnum = sum(ch.isalnum() for ch in token)
    return sum(map(len, _WORDS.findall(token))) < MAX_WORDY * alnum


def _find(text: str) -> Sequence[tuple[int, int, str, str]]:
    """Non-overlapping ``(start, end, kind, preview)`` of the redactable spans, in text order."""
    # Parameters repeat (measure names, levels, dates) and every call is scanned, then its
    # audit copy redacted: short strings are remembered.
    return _find_short(text) if len(text) <= 512 else _find_all(text)


@functools.lru_cache(maxsize=8192)
def _find_short(text: str) -> tuple[tuple[int, int, str, str], ...]:
    return tuple(_find_all(text))


def _find_all(text: str) -> list[tuple[int, int, str, str]]:
    text = text[:MAX_SCAN]
    hits: list[tuple[int, int, str, str]] = []  # kept sorted and disjoint

    def free(start: int, end: int) -> bool:  # only the neighbours can overlap
        i = bisect.bisect_left(hits, (start,))
        return not (i and hits[i - 1][1] > start) and not (i < len(hits) and hits[i][0] < end)

    for start, end in _KNOWN.spans(text):  # first: no preview, the key's start is secret too
        if free(start, end):
            bisect.insort(hits, (start, end, "api_key", "…"))
    lower = text.lower()
    for kind, rx in _PATTERNS:
        if not any(hint in lower for hint in _HINTS.get(kind, ("",))):
            continue
        for m in rx.finditer(text):
            start, end = m.span("s") if "s" in rx.groupindex else m.span()
            if free(start, end):  # the preview starts at the match, e.g. "pass…", not the value
                bisect.insort(hits, (start, end, kind, m.group()[:4] + "…"))
    # Tokens never overlap each other, so they are only checked against the pattern hits.
    tokens = [m for m in _TOKEN.finditer(text) if free(*m.span()) and _random_looking(m.group())]
    hits += [(*m.span(), "high_entropy", m.group()[:4] + "…") for m in tokens]
    return sorted(hits)


def _child(path: str, key: object) -> str:
    if isinstance(key, str):
        key = redact_text(key)  # a path must never carry the secret it points at
        if _IDENT.fullmatch(key):
            return f"{path}.{key}" if path else key
        return f"{path}[{json.dumps(key, ensure_ascii=False)}]"
    return f"{path}[{key}]"


def _plain(value: object) -> object:
    """Models and dataclasses as dicts, so that one walk covers them all."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return value


def _items(value: object) -> list[tuple[object, object]] | None:
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list | tuple):
        return list(enumerate(value))
    if isinstance(value, set | frozenset):  # sorted, so that results are deterministic
        return list(enumerate(sorted(value, key=repr)))
    return None


def scan(value: object, *, path: str = "") -> list[SecretMatch]:
    """Every suspected secret in ``value`` (strings, dict keys and values, sequences, models)."""
    found: list[SecretMatch] = []

    def walk(value: object, path: str, active: frozenset[int]) -> None:
        if isinstance(value, str):
            found.extend(SecretMatch(path, kind, preview) for _, _, kind, preview in _find(value))
            return
        value = _plain(value)
        items = _items(value)
        if items is None or id(value) in active:  # numbers, None, other objects; cycles
            return
        active |= {id(value)}
        for key, item in items:
            child = _child(path, key)
            if isinstance(value, Mapping) and isinstance(key, str):
                walk(key, child, active)
            walk(item, child, active)

    walk(value, path, frozenset())
    return found


def redact_text(text: str) -> str:
    """``text`` with each suspected secret replaced by ``[REDACTED:<kind>]``."""
    parts, pos = [], 0
    for start, end, kind, _ in _find(text):
        parts += [text[pos:start], f"[REDACTED:{kind}]"]
        pos = end
    parts.append(text[pos:MAX_SCAN])
    if len(text) > MAX_SCAN:
        parts.append(f"…[TRUNCATED: {len(text) - MAX_SCAN} characters not scanned]")
    return "".join(parts)


def redact(value: T) -> T:
    """A redacted deep copy. Containers come back as their base type (dict, list, tuple, set,
    frozenset); pydantic models and dataclasses as (redacted) dicts; other values as they are."""

    def copy(value: object, active: frozenset[int]) -> object:
        if isinstance(value, str):
            return redact_text(value)
        value = _plain(value)
        items = _items(value)
        if items is None:
            return value
        if id(value) in active:
            return "[CYCLE]"
        active |= {id(value)}
        if isinstance(value, Mapping):  # only str keys: a redacted model is no longer hashable
            return {redact_text(k) if isinstance(k, str) else k: copy(v, active) for k, v in items}
        new = [copy(v, active) for _, v in items]
        return next(t(new) for t in (list, tuple, frozenset, set) if isinstance(value, t))

    return cast(T, copy(value, frozenset()))


def describe(matches: list[SecretMatch]) -> str:
    """A reason to show the user, naming up to three matches."""
    said = ", ".join(
        f"{'parameter ' + m.path if m.path else 'the value'} looks like "
        f"{_LABELS.get(m.kind, m.kind)} ({m.preview})"
        for m in matches[:3]
    ) + (f" +{len(matches) - 3} more" if len(matches) > 3 else "")
    tail = "; secrets are never sent to the database, logs or an LLM — remove it and ask again."
    return said + tail if matches else ""


def structlog_redactor(
    logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: redacts every string in the event (keys too), at any depth."""
    return redact(dict(event_dict))
