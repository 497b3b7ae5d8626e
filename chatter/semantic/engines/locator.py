"""Where the data lives: a DuckDB file path, or a database URL (``postgresql://...``,
``spark://...``, Spark Connect's ``sc://...``).

A URL's password never leaves this module's keeping: a ``DatabaseUrl`` shows, prints, compares
and serialises as the URL without it (its identity), and keeps the full connection string only
for connecting. The process remembers the full string by identity, so a context rebuilt from
its stored form (a resumed run) connects again without the password ever being written down;
in another process, libpq's own sources (PGPASSWORD, ~/.pgpass) supply it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit

from chatter.errors import DatabaseError

#: Schemes that name a PostgreSQL server (libpq accepts both).
POSTGRES_SCHEMES = ("postgresql", "postgres")
#: Schemes that name Spark: a master (``spark://``) or a Spark Connect server (``sc://``).
SPARK_SCHEMES = ("spark", "sc")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: Connection parameters that are secrets, dropped from the identity.
_SECRET_PARAMS = frozenset({"password", "sslpassword", "token"})
_known: dict[str, str] = {}  # identity -> full URL, this process only
_known_lock = threading.Lock()


@dataclass(frozen=True)
class DatabaseUrl:
    """A database server URL; ``str()`` is its identity (no password)."""

    identity: str
    scheme: str
    host: str
    port: int | None
    dbname: str
    user: str
    _url: str = field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.identity

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.identity!r})"

    @property
    def conninfo(self) -> str:
        """The URL to connect with (password included): for the engine, never for display."""
        return self._url

    @property
    def kind(self) -> str:
        return "spark" if self.scheme in SPARK_SCHEMES else "postgresql"


Database = Path | DatabaseUrl


def parse_database(value: str | Path | DatabaseUrl) -> Database:
    """A DuckDB file path or a database URL, from what a user typed (``--database``,
    CHATTER_DATABASE, ``database=`` in the Python API, a stored context)."""
    if isinstance(value, DatabaseUrl):
        return value
    if isinstance(value, Path):
        return value.expanduser()
    text = str(value).strip()
    match = _SCHEME.match(text)
    if match is None:
        return Path(text).expanduser()
    scheme = match.group(1).lower()
    if scheme in SPARK_SCHEMES:
        return _spark_url(text, scheme)
    if scheme not in POSTGRES_SCHEMES:
        raise DatabaseError(
            f"Database URL scheme {scheme!r} is not supported: give a DuckDB file path, a "
            "postgresql://user@host:port/dbname URL, a spark:///path/to/parquet/dir URL or a "
            "Spark Connect sc://host:port URL."
        )
    return _postgres_url(text, scheme)


def _postgres_url(text: str, scheme: str) -> DatabaseUrl:
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname or ""
    except ValueError:  # a bad port, a bracket left open: name the part, not the URL
        raise DatabaseError(
            f"The {scheme}:// database URL is malformed (check the host and port): expected "
            "postgresql://user@host:port/dbname."
        ) from None
    user = unquote(parts.username or "")
    dbname = unquote(parts.path.lstrip("/"))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _SECRET_PARAMS]
    login = f"{quote(user, safe='')}@" if user else ""
    where = f"[{host}]" if ":" in host else host
    if port is not None:
        where += f":{port}"
    identity = f"{scheme}://{login}{where}/{quote(dbname, safe='')}"
    if query:
        identity += "?" + urlencode(query)
    has_secret = parts.password is not None or len(query) != len(parse_qsl(parts.query))
    with _known_lock:
        if has_secret:
            _known[identity] = text
        url = _known.get(identity, text)
    return DatabaseUrl(identity, scheme, host, port, dbname, user, url)


def _spark_url(text: str, scheme: str) -> DatabaseUrl:
    """``spark://[host:port]/data/dir?master=...&database=...`` or Spark Connect's
    ``sc://host:port/;token=...;data=/data/dir``: the data directory in ``dbname``, the
    options for the engine in the identity, a ``token`` never."""
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname or ""
    except ValueError:
        raise DatabaseError(
            f"The {scheme}:// database URL is malformed (check the host and port): expected "
            "spark:///path/to/parquet/dir, spark://host:7077/path or sc://host:15002."
        ) from None
    path = parts.path.partition(";")[0]
    options = url_options(parts)
    shown = [(k, v) for k, v in options if k not in _SECRET_PARAMS]
    where = f"[{host}]" if ":" in host else host
    if port is not None:
        where += f":{port}"
    directory = unquote(path).rstrip("/") if path.strip("/") else ""
    identity = f"{scheme}://{where}{quote(directory or '/', safe='/')}"
    if shown:
        identity += "?" + urlencode(shown, safe="/[]*")
    has_secret = parts.password is not None or len(shown) != len(options)
    with _known_lock:
        if has_secret:
            _known[identity] = text
        url = _known.get(identity, text)
    return DatabaseUrl(identity, scheme, host, port, directory, unquote(parts.username or ""), url)


def url_options(parts: SplitResult) -> list[tuple[str, str]]:
    """A URL's ``?key=value`` parameters, then Spark Connect's ``/;key=value`` ones."""
    connect = parts.path.partition(";")[2]
    pairs = [item.partition("=") for item in connect.split(";") if "=" in item]
    return parse_qsl(parts.query) + [(unquote(k), unquote(v)) for k, _, v in pairs]


def scrub(text: str, database: DatabaseUrl) -> str:
    """``text`` with the database's full URL and password taken out (for error messages
    that quote a driver)."""
    out = text.replace(database.conninfo, database.identity)
    password = urlsplit(database.conninfo).password
    for key, value in url_options(urlsplit(database.conninfo)):
        if key in _SECRET_PARAMS and value:
            out = out.replace(value, "***")
    if password:
        out = out.replace(password, "***").replace(unquote(password), "***")
    return out
