"""Where a word can only be a value, a value the data lacks is asked back, and the same sentence
with a value the data has is answered with that value as a filter. Also the readings met on the
third held-out set: a level counted ("how many API calls"), short slips inside a field's name
("company sise"), slips of the parser's own words ("by quartr"), and "so far".

Each unknown-value case has a twin with a real level, so a test that asks back everything (or
nothing) fails. The router runs on the demo data; numbers are checked against SQL by hand."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from chatter.analyst.route import Router
from chatter.analyst.understand import build_router
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

pytestmark = pytest.mark.integration

TODAY = dt.date(2025, 12, 15)


@pytest.fixture(scope="module")
def router(demo_db: Path) -> Iterator[Router]:
    with Warehouse(Engine(demo_db), default_model()) as warehouse:
        yield build_router(warehouse)


@pytest.fixture(scope="module")
def sql(demo_sql: Any) -> Any:
    return demo_sql


# (question naming a value the data lacks, what is asked back, the twin with a real value,
#  the filter the twin keeps)
SHAPES = [
    (
        "fintech vs bakery conversion rate",
        "No industry is called 'bakery'",
        "fintech vs education conversion rate",
        ("industry", "in", ["fintech", "education"]),
    ),
    (
        "Bakery vs retail churn",
        "No industry is called 'Bakery'",
        "Fintech vs retail churn",
        ("industry", "in", ["fintech", "retail"]),
    ),
    (
        "Bakery customers' conversion rate",
        "Nothing in the data is called 'Bakery'",
        "Fintech customers' conversion rate",
        ("industry", "=", "fintech"),
    ),
    (
        "MRR from craft brewery customers",
        "Nothing in the data is called 'craft brewery'",
        "MRR from fintech customers",
        ("industry", "=", "fintech"),
    ),
    (
        "churn rate for the 5000+ size band",
        "No company_size is called '5000+'",
        "churn rate for the 1000+ size band",
        ("company_size", "=", "1000+"),
    ),
    (
        "conversion rate for the premier plan",  # a name ending like a comparative
        "No plan_type is called 'premier'",
        "conversion rate for the starter plan",
        ("plan_type", "=", "starter"),
    ),
    (
        "churn rate for customers in South Korea",
        "No country is called 'South Korea'",
        "churn rate for customers in the United States",
        ("country", "=", "US"),
    ),
    (
        "conversion rate for country KR",
        "No country is called 'KR'",
        "conversion rate for country JP",
        ("country", "=", "JP"),
    ),
    (
        "how many times was the gantt_view used",
        "Nothing in the data is called 'gantt_view'",
        "how many times was the report_export used",
        ("event_type", "=", "report_export"),
    ),
    (
        "why do gaming companies churn more?",
        "Nothing in the data is called 'gaming'",
        "churn rate of fintech companies",
        ("industry", "=", "fintech"),
    ),
    (
        "How many pro accounts churned last year?",
        "Nothing in the data is called 'pro'",
        "How many enterprise accounts churned last year?",
        ("plan_type", "=", "enterprise"),
    ),
    (
        "conversion rate for the enterprise industry",  # a plan said as an industry
        "No industry is called 'enterprise'",
        "conversion rate for the fintech industry",
        ("industry", "=", "fintech"),
    ),
    (
        "Which country converts best for the Forest plan?",  # not a superlative
        "No plan_type is called 'forest'",
        "Which country converts best for the starter plan?",
        ("plan_type", "=", "starter"),
    ),
    (
        "Italian customers' churn rate",
        "No country is called 'Italian'",
        "German customers' churn rate",
        ("country", "=", "DE"),
    ),
    (
        "How many signups came from 5000+ companies in Q4 2024?",
        "No company_size is called '5000+'",
        "How many signups came from 1000+ companies in Q4 2024?",  # a band, not the year 1000
        ("company_size", "=", "1000+"),
    ),
    (
        "conversion rate of 20-30 employee companies",
        "No company_size is called '20-30'",
        "conversion rate of 11-50 employee companies",
        ("company_size", "=", "11-50"),
    ),
]


def _filters(decision: Any) -> list[tuple[str, str, Any]]:
    assert decision.query is not None, decision.route.reason
    return [
        (f.field.split(".")[-1], f.op, list(f.value) if isinstance(f.value, tuple) else f.value)
        for f in decision.query.filters
    ]


@pytest.mark.parametrize(("unknown", "asked", "known", "kept"), SHAPES, ids=[s[0] for s in SHAPES])
def test_a_value_the_data_lacks_is_asked_back_and_a_real_one_is_a_filter(
    router: Router, unknown: str, asked: str, known: str, kept: tuple[str, str, Any]
) -> None:
    decision = router.route(unknown, today=TODAY)
    assert decision.needs_clarification, decision.route.reason
    assert asked in (decision.clarification or ""), decision.clarification
    twin = router.route(known, today=TODAY)
    assert not twin.needs_clarification, twin.route.reason
    field, op, value = kept
    found = {f[0]: f for f in _filters(twin)}
    assert field in found, found
    got = found[field]
    assert got[1] == op and (sorted(got[2]) if isinstance(value, list) else got[2]) == (
        sorted(value) if isinstance(value, list) else value
    )


def test_a_deep_dive_about_a_value_the_data_lacks_is_asked_back(router: Router) -> None:
    decision = router.route("why do bakery customers churn more?", today=TODAY)
    assert decision.needs_clarification
    assert "'bakery'" in (decision.clarification or "")
    twin = router.route("why do fintech customers churn more?", today=TODAY)
    assert twin.route.workflow not in ("query", "clarify"), twin.route.reason


def test_a_word_that_describes_whom_is_not_taken_for_a_value(router: Router) -> None:
    decision = router.route(
        "how sticky is the product and which features matter for keeping people around",
        today=TODAY,
    )
    assert not decision.needs_clarification, decision.clarification


def test_a_level_counted_is_a_count_of_its_rows(router: Router, sql: Any) -> None:
    decision = router.route("how many api calls were there in 2025?", today=TODAY)
    assert decision.query is not None, decision.route.reason
    assert decision.query.measures == ("events",)
    assert ("event_type", "=", "api_call") in _filters(decision)
    (expected,) = sql(
        "SELECT count(*) FROM events WHERE event_type = 'api_call' "
        "AND event_ts >= '2025-01-01' AND event_ts < '2026-01-01'"
    )[0]
    assert expected > 0
    window = [f for f in decision.query.filters if f.field.endswith("event_ts")]
    assert window, decision.query.filters


def test_accounts_billed_in_a_month_counts_paying_accounts(router: Router) -> None:
    decision = router.route("How many accounts were billed in March 2025?", today=TODAY)
    assert decision.query is not None
    assert decision.query.measures == ("paying_users",)


@pytest.mark.parametrize(
    ("question", "measures", "dimensions"),
    [
        ("count of trials by company sise", ("users",), ("company_size",)),
        ("mrr by quartr", ("mrr",), ("month__quarter",)),
        ("total signups so far", ("users",), ()),
    ],
)
def test_slips_and_filler_words_are_read(
    router: Router, question: str, measures: tuple[str, ...], dimensions: tuple[str, ...]
) -> None:
    decision = router.route(question, today=TODAY)
    assert decision.query is not None, decision.route.reason
    assert decision.query.measures == measures
    assert tuple(d.split(".")[-1] for d in decision.query.dimensions) == dimensions
    assert not decision.parsed.unknown_words


def test_a_short_unknown_word_outside_a_field_name_is_not_repaired(router: Router) -> None:
    # "sise" is one slip from "size" only inside "company size"; alone it stays unknown.
    decision = router.route("conversion rate for sise", today=TODAY)
    assert decision.parsed is not None
    assert "sise" in decision.parsed.unknown_words or decision.needs_clarification


def test_a_wider_reading_of_used_counts_distinct_accounts(router: Router) -> None:
    decision = router.route("how many users used search in 2025", today=TODAY)
    assert decision.query is not None, decision.route.reason
    assert decision.query.measures == ("active_users",)
    fields = {f.field.split(".")[-1] for f in decision.query.filters}
    assert fields == {"event_type", "event_ts"}  # the window is on the events, not signups
    ranked = router.route("which feature is used by the most accounts", today=TODAY)
    assert ranked.query is not None and ranked.query.measures == ("active_users",)


def test_a_levels_own_words_are_not_a_cue_for_a_deep_dive(demo_db: Path, tmp_path: Path) -> None:
    # "real" asks "is it real?" in a question about reasons; inside a level it names the level.
    path = tmp_path / "renamed.duckdb"
    shutil.copy(demo_db, path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE users SET industry = 'real_estate' WHERE industry = 'retail'")
    con.close()
    with Warehouse(Engine(path), default_model()) as warehouse:
        router = build_router(warehouse)
        decision = router.route("what fraction of real estate trials converted", today=TODAY)
    assert decision.route.workflow == "query", decision.route.reason
    assert decision.query is not None
    assert [(f.field, f.value) for f in decision.query.filters] == [("industry", "real_estate")]
    assert decision.query.measures == ("conversion_rate",)


@pytest.mark.parametrize(
    ("question", "measures", "dimensions", "descending"),
    [
        ("Rank acquisition channels by revenue", ("revenue",), ("acquisition_channel",), True),
        ("event counts by feature for enterprise users", ("events",), ("event_type",), None),
        (
            "how many trials converted, broken down by country?",
            ("converted_users",),
            ("country",),
            None,
        ),
        ("number of product events by country", ("events",), ("country",), None),
    ],
)
def test_readings_met_on_the_fifth_held_out_set(
    router: Router,
    question: str,
    measures: tuple[str, ...],
    dimensions: tuple[str, ...],
    descending: bool | None,
) -> None:
    decision = router.route(question, today=TODAY)
    assert decision.query is not None, decision.route.reason
    assert decision.query.measures == measures
    assert tuple(d.split(".")[-1] for d in decision.query.dimensions) == dimensions
    order = decision.query.order_by
    assert (order[0].descending if order else None) == descending
