"""Which backend holds the shared state (sessions, runs, audit, grants, rate limits, metrics,
checkpoints), read from ``CHATTER_STATE_URL``: unset means SQLite files under CHATTER_HOME,
one process's worth; ``postgresql://...`` means one database shared by several workers.

>>> state_backend_of(None).kind
'sqlite'
>>> state_backend_of("postgres://u:secret@db:5432/chatter")
StateBackend(kind='postgres', url='postgresql://u:***@db:5432/chatter')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from chatter.errors import BadInputError, InvalidValueError
from chatter.settings import Settings

StateKind = Literal["sqlite", "postgres"]

#: Spellings of a PostgreSQL URL: libpq's two, and SQLAlchemy's driver-qualified ones.
_POSTGRES = re.compile(r"^(postgresql|postgres)(\+psycopg2?)?://", re.IGNORECASE)
_SQLITE = frozenset({"sqlite", "sqlite:", "sqlite://"})
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")
_PASSWORD_PARAM = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


@dataclass(frozen=True)
class StateBackend:
    """``kind``, and for PostgreSQL the libpq URL to connect to (shown without password)."""

    kind: StateKind
    url: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"StateBackend(kind={self.kind!r}, url={redact(self.url)!r})"


def redact(url: str | None) -> str | None:
    """``url`` with its password replaced by ``***``, fit for logs and error messages."""
    if url is None:
        return None
    return _PASSWORD_PARAM.sub(r"\1***", _PASSWORD.sub(r"\1***@", url))


def state_backend_of(url: str | None) -> StateBackend:
    """The backend a ``CHATTER_STATE_URL`` value names."""
    text = (url or "").strip()
    if not text or text.lower() in _SQLITE:
        return StateBackend("sqlite")
    if _POSTGRES.match(text):
        return StateBackend("postgres", _POSTGRES.sub("postgresql://", text, count=1))
    raise InvalidValueError(
        "CHATTER_STATE_URL",
        redact(text),
        "unset or 'sqlite' (files under CHATTER_HOME), or a postgresql://... URL",
    )


def state_backend(settings: Settings) -> StateBackend:
    """The backend ``settings`` choose (``settings.state_url``, from CHATTER_STATE_URL)."""
    url = settings.state_url
    return state_backend_of(None if url is None else url.get_secret_value())


class StateUnavailableError(BadInputError):
    """``CHATTER_STATE_URL`` names a PostgreSQL that cannot be used as it is: down, refusing
    the login, no such database. The configuration is at fault (exit code 2); over HTTP the
    service is unavailable (503)."""

    code = "state_unavailable"
    http_status = 503


def unavailable(backend: StateBackend, err: BaseException) -> StateUnavailableError:
    """The error to show for ``err`` on ``backend``: the URL without its password, and the
    server's reason on one line (with any echo of the password masked too)."""
    reason = " ".join(str(err).split()) or type(err).__name__
    password = _password_of(backend.url)
    if password:
        reason = reason.replace(password, "***")
    reason = redact(reason) or ""
    if not reason.endswith((".", "?", "!")):
        reason += "."
    return StateUnavailableError(
        f"Cannot use the state database CHATTER_STATE_URL={redact(backend.url)}: "
        f"{reason} Check that the server is running and the URL's host, port, user "
        "and database are right, or unset CHATTER_STATE_URL to keep state in SQLite files "
        "under CHATTER_HOME."
    )


def _password_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    found = re.search(r"[?&]password=([^&]*)", url, re.IGNORECASE)
    return password or (unquote(found.group(1)) if found else None) or None


def probe(backend: StateBackend, *, timeout_s: int = 5) -> None:
    """Connect to a PostgreSQL backend once, so a wrong URL or a server that is down fails
    now, saying which and why, instead of in the first request (nothing to do for SQLite)."""
    if backend.kind != "postgres":
        return
    import psycopg

    try:
        with psycopg.connect(backend.url or "", connect_timeout=max(timeout_s, 1)):
            pass
    except psycopg.Error as err:
        raise unavailable(backend, err) from None
