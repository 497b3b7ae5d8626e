"""API keys: who a bearer token is. ``CHATTER_API_KEYS`` names a JSON file
``{"<key>": {"user": "alice", "role": "analyst"}}``; with none configured, one admin key is made,
kept under CHATTER_HOME (readable by its owner only) and printed at start-up, the way a notebook
server prints its token.

Every key is held to the strength rule of :mod:`chatter.api.key_strength` when it is loaded (a
weak one stops the start-up, naming its user, never the key), and is a known secret from then
on: a message, a parameter or a log line that holds it is refused or redacted."""

from __future__ import annotations

import hmac
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatter.api.key_strength import new_key, weakness
from chatter.errors import BadInputError, NotAuthenticatedError
from chatter.governance.permissions import ROLE_DEFAULTS
from chatter.sensitive import remember_secrets
from chatter.settings import Settings

GENERATED_KEY_FILE = "api_key.json"
_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Principal:
    """The caller an API key stands for."""

    user: str
    role: str


class KeyFileError(BadInputError):
    code = "invalid_api_keys"


def check_role(role: object, user: object) -> str:
    """``role`` if it is a role name, else a KeyFileError naming the user."""
    if not isinstance(role, str) or not _ROLE.match(role):
        raise KeyFileError(
            f"Role {role!r} of user {user!r} is not a role name (built in: "
            f"{', '.join(ROLE_DEFAULTS)}; other roles get only what is granted to them)."
        )
    return role


@dataclass
class KeyRing:
    #: Never in a repr: a KeyRing in a log line or a traceback must not show its keys.
    keys: dict[str, Principal] = field(repr=False)
    #: The key made because none was configured (printed at start-up), else None.
    generated: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        screen(self.keys)  # from now on, a key in any input is refused or redacted

    def who(self, token: str | None) -> Principal:
        """The principal of ``token``; compared in constant time so timing says nothing."""
        if not token:
            raise NotAuthenticatedError(
                "Missing API key: send the header 'Authorization: Bearer <api key>'."
            )
        found = None
        for key, principal in self.keys.items():
            if hmac.compare_digest(key.encode(), token.encode("utf-8", "surrogateescape")):
                found = principal
        if found is None:
            raise NotAuthenticatedError("Unknown API key.")
        return found


def load_keys(settings: Settings) -> KeyRing:
    """The server's keys: the configured file's, else the generated admin key (made on the
    first start). Raises KeyFileError (exit code 2) for a file that is unreadable, malformed
    or holds a weak key."""
    _remember_llm_key(settings)
    if settings.api_keys is not None:
        return KeyRing(_read(settings.api_keys))
    path = settings.home / GENERATED_KEY_FILE
    if path.exists():
        keys = _read(path, fix="delete the file to have a new key made at the next start")
        return KeyRing(keys, generated=next(iter(keys)))
    key = new_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({key: {"user": "admin", "role": "admin"}}, out)
    return KeyRing({key: Principal("admin", "admin")}, generated=key)


def screen_configured_keys(settings: Settings) -> None:
    """Make the keys this data directory knows (the configured file's, the generated one)
    known secrets of this process, without refusing weak ones: for the commands that read data
    but serve nothing (``chatter ask``, ``run``, ``chat``), so a key in a question is refused
    there too. A file that cannot be read is skipped; ``chatter serve`` reports it."""
    _remember_llm_key(settings)
    for path in (settings.api_keys, settings.home / GENERATED_KEY_FILE):
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8")) if path else None
        except (OSError, ValueError):
            continue
        if isinstance(raw, dict):
            screen(k for k in raw if isinstance(k, str))


def screen(keys: Iterable[str]) -> None:
    """Make the strong ones of ``keys`` known secrets of this process. A weak key (only a key
    ring made in code can hold one: files are checked) is left out, since a string like
    ``aaaa…`` would refuse ordinary text."""
    remember_secrets(k for k in keys if weakness(k, user="") is None)


def _remember_llm_key(settings: Settings) -> None:
    """The LLM's key (OPENAI_API_KEY) is a configured secret too, whatever its shape (a
    placeholder such as ``sk-no-key`` for a local server is not: it is weak)."""
    if settings.openai_api_key:
        screen([settings.openai_api_key])


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, refusing a key listed twice (JSON would keep the last)."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out and isinstance(value, dict):
            users = [v.get("user") if isinstance(v, dict) else None for v in (out[name], value)]
            raise KeyFileError(f"one key is listed twice (users {users[0]!r} and {users[1]!r})")
        if name in out:  # never named: it might be a key
            raise KeyFileError("a member is listed twice in one entry")
        out[name] = value
    return out


def _read(path: Path, fix: str = "") -> dict[str, Principal]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=_pairs)
    except KeyFileError as err:
        raise KeyFileError(f"{path}: {err.message}") from None
    except (OSError, ValueError) as err:
        raise KeyFileError(f"Cannot read the API keys file {path}: {err}.") from None
    if not isinstance(raw, dict) or not raw:
        raise KeyFileError(f'{path} must be a JSON object {{"<key>": {{"user", "role"}}}}.')
    keys: dict[str, Principal] = {}
    weak: list[str] = []
    for key, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("user"), str):
            raise KeyFileError(f"{path}: each key needs an object with a string 'user'.")
        user = entry["user"]
        try:
            role = check_role(entry.get("role", "viewer"), user)
        except KeyFileError as err:
            raise KeyFileError(f"{path}: {err.message}") from None
        why = weakness(key, user=user, role=role)
        if why:  # naming a user whose key is their name would say the key
            who = "a user" if key.lower() == user.lower() else f"user {user!r}"
            weak.append(f"the key of {who} is too weak: {why}")
        keys[key] = Principal(user, role)
    if weak:
        advice = fix or "make strong ones with `chatter keys create --user NAME --role ROLE`"
        raise KeyFileError(
            f"{path}: {'; '.join(weak)}. Keys need at least 24 characters and about 100 bits "
            f"of estimated entropy (docs/api.md); {advice}."
        )
    return keys
