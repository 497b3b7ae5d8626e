"""Shared fixtures: an isolated CHATTER_HOME per test and real DuckDB files."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from postgres_fixture import postgres_url  # noqa: F401  (a fresh PostgreSQL database per module)

from chatter.demo import generate_demo
from chatter.services import Services, close_shared_services
from chatter.settings import get_settings

DEMO_USERS = 20_000


@pytest.fixture(autouse=True)
def chatter_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory, so caches and demo files never leak."""
    home = tmp_path / "chatter-home"
    monkeypatch.setenv("CHATTER_HOME", str(home))
    for var in ("CHATTER_DATABASE", "CHATTER_SEMANTIC_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    yield home
    close_shared_services()
    get_settings.cache_clear()


@pytest.fixture
def services(chatter_home: Path) -> Iterator[Services]:
    """The services of the test's data directory (the one the Python API shares too)."""
    from chatter.services import shared_services

    yield shared_services()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo database shared read-only by the session (tests never write to it)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, users=DEMO_USERS, seed=7)
    return path


@pytest.fixture(scope="module")
def demo_sql(
    demo_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    """Hand-written SQL over a copy of the demo database, to check answers against. A copy:
    DuckDB refuses a second connection of another configuration to one file, and the code
    under test opens the original in this process."""
    copy = tmp_path_factory.mktemp("gold") / "copy.duckdb"
    shutil.copy(demo_db, copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        yield lambda statement: con.execute(statement).fetchall()
    finally:
        con.close()


@pytest.fixture
def tiny_db(tmp_path: Path) -> Path:
    """A hand-made database whose every aggregate is known by heart (see the fan-out tests)."""
    path = tmp_path / "tiny.duckdb"
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE TABLE users (user_id BIGINT, signup_date DATE, plan_type VARCHAR, industry VARCHAR,
            acquisition_channel VARCHAR, company_size VARCHAR, country VARCHAR, converted BOOLEAN,
            churned BOOLEAN, churn_date DATE);
        INSERT INTO users VALUES
            (1, DATE '2024-01-05', 'basic', 'alpha', 'web', 'S', 'AA', TRUE, FALSE, NULL),
            (2, DATE '2024-01-20', 'basic', 'beta',  'web', 'S', 'AA', FALSE, FALSE, NULL),
            (3, DATE '2024-02-03', 'pro',   'alpha', 'ads', 'M', 'BB', TRUE, TRUE, DATE '2024-05-01'),
            (4, DATE '2024-02-10', 'pro',   NULL,    'ads', 'L', 'BB', FALSE, FALSE, NULL);
        CREATE TABLE events (event_id BIGINT, user_id BIGINT, event_type VARCHAR, event_ts TIMESTAMP);
        INSERT INTO events VALUES
            (1, 1, 'search', TIMESTAMP '2024-01-06 10:00:00'),
            (2, 1, 'search', TIMESTAMP '2024-01-07 10:00:00'),
            (3, 1, 'export', TIMESTAMP '2024-01-08 10:00:00'),
            (4, 3, 'search', TIMESTAMP '2024-02-04 10:00:00'),
            (5, 3, 'search', TIMESTAMP '2024-02-05 10:00:00'),
            (6, 3, 'search', TIMESTAMP '2024-03-05 10:00:00'),
            (7, 4, 'export', TIMESTAMP '2024-02-11 10:00:00');
        CREATE TABLE revenue (user_id BIGINT, month DATE, plan_type VARCHAR, mrr DOUBLE);
        INSERT INTO revenue VALUES
            (1, DATE '2024-02-01', 'basic', 10.0),
            (1, DATE '2024-03-01', 'pro', 50.0),
            (3, DATE '2024-03-01', 'pro', 50.0),
            (3, DATE '2024-04-01', 'pro', 50.0);
    """)
    con.close()
    return path
