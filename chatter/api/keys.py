"""API keys: who a bearer token is. ``CHATTER_API_KEYS`` names a JSON file
``{"<key>": {"user": "alice", "role": "analyst"}}``; with none configured, one admin key is made,
kept under CHATTER_HOME (readable by its owner only) and printed at start-up, the way a notebook
server prints its token."""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from chatter.errors import BadInputError, NotAuthenticatedError
from chatter.governance.permissions import ROLE_DEFAULTS
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


@dataclass
class KeyRing:
    keys: dict[str, Principal]
    #: The key made because none was configured (printed at start-up), else None.
    generated: str | None = None

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
    if settings.api_keys is not None:
        return KeyRing(_read(settings.api_keys))
    path = settings.home / GENERATED_KEY_FILE
    if path.exists():
        keys = _read(path)
        return KeyRing(keys, generated=next(iter(keys)))
    key = "chk_" + secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({key: {"user": "admin", "role": "admin"}}, out)
    return KeyRing({key: Principal("admin", "admin")}, generated=key)


def _read(path: Path) -> dict[str, Principal]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise KeyFileError(f"Cannot read the API keys file {path}: {err}.") from None
    if not isinstance(raw, dict) or not raw:
        raise KeyFileError(f'{path} must be a JSON object {{"<key>": {{"user", "role"}}}}.')
    keys: dict[str, Principal] = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("user"), str):
            raise KeyFileError(f"{path}: each key needs an object with a string 'user'.")
        role = entry.get("role", "viewer")
        if not isinstance(role, str) or not _ROLE.match(role):
            raise KeyFileError(
                f"{path}: role {role!r} of user {entry['user']!r} is not a role name (built in: "
                f"{', '.join(ROLE_DEFAULTS)}; other roles get only what is granted to them)."
            )
        if len(key) < 16:
            raise KeyFileError(f"{path}: the key of user {entry['user']!r} is shorter than 16.")
        keys[key] = Principal(entry["user"], role)
    return keys
