"""A real PostgreSQL for the state-backend tests: ``postgres_url`` is a fresh database per
test module on the server CHATTER_TEST_POSTGRES_URL names (``.ci/run`` starts one).

Without that variable a developer's run skips these tests, saying why; under CI (CI=true)
they fail instead, so CI never skips them silently.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

ENV = "CHATTER_TEST_POSTGRES_URL"


def server_url() -> str:
    """The test server's URL, or skip (fail under CI) when there is none."""
    url = os.environ.get(ENV, "").strip()
    if url:
        return url
    why = (
        f"{ENV} is not set: no PostgreSQL to test the shared state backend against "
        f"(.ci/run starts one; or run initdb/pg_ctl yourself and export {ENV}=postgresql://...)"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the PostgreSQL tests: {why}", pytrace=False)
    pytest.skip(why)


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead (other parameters kept)."""
    import psycopg.conninfo

    params = psycopg.conninfo.conninfo_to_dict(url)
    params["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **params)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A database made for this test module, dropped after it (connections and all)."""
    import psycopg

    url = server_url()
    name = f"chatter_test_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def as_url(conninfo: str) -> str:
    """A ``postgresql://`` URL for a libpq connection string (what CHATTER_STATE_URL takes)."""
    from urllib.parse import quote

    import psycopg.conninfo

    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    user = quote(str(params.pop("user", "")), safe="")
    password = params.pop("password", None)
    login = f"{user}:{quote(str(password), safe='')}@" if password else f"{user}@" if user else ""
    host, port = params.pop("host", "localhost"), params.pop("port", None)
    where = f"{host}:{port}" if port else str(host)
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items() if k != "dbname")
    url = f"postgresql://{login}{where}/{params.get('dbname', '')}"
    return f"{url}?{query}" if query else url
