"""Questions read by the deterministic analyst over levels of its own (no database): counts of
one table's rows split by another's field, words that count each row once, and values the data
lacks said next to a field's name (docs/questions.md)."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from analyst_routing import answered, asked_about, filtered, router_for
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatter.analyst.route import Router

TODAY = dt.date(2025, 3, 10)
LEVELS = {
    "users.plan_type": ["bronze", "silver", "gold"],
    "revenue.plan_type": ["bronze", "silver", "gold"],
    "industry": ["mining", "retail_banking", "forestry"],
    "acquisition_channel": ["radio", "billboard", "trade_fair"],
    "company_size": ["1-20", "21-100", "101+"],
    "country": ["FR", "JP"],
    "event_type": ["chart_shared", "sheet_opened", "macro_recorded"],
}


_answered = functools.partial(answered, today=TODAY)
_asked_about = functools.partial(asked_about, today=TODAY)
_filtered = filtered


@pytest.fixture(scope="module")
def router() -> Router:
    return router_for(LEVELS)


@pytest.mark.parametrize(
    "question",
    [
        "Top 5 features by number of accounts last month",
        "how many customers per event type in Q4 2024",
        "number of people with a macro_recorded event last quarter",
    ],
)
def test_a_count_of_accounts_by_an_events_field_counts_active_accounts_in_the_events_window(
    router: Router, question: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None
    assert decision.query.measures == ("active_users",)
    assert "event_ts" in _filtered(decision)  # the window is on the events, not the signups
    assert "signup_date" not in _filtered(decision)


def test_a_count_of_accounts_by_their_own_field_still_counts_signups(router: Router) -> None:
    decision = _answered(router, "number of accounts by industry last month")
    assert decision.query is not None
    assert decision.query.measures == ("users",)
    assert "signup_date" in _filtered(decision)


@pytest.mark.parametrize(
    ("question", "measure", "date"),
    [
        ("How many unique customers were active last month?", "active_users", "event_ts"),
        ("how many accounts were active in 2024", "active_users", "event_ts"),
        ("number of different accounts that were billed in 2024", "paying_users", "month"),
        ("count of individual customers who signed up in 2024", "users", "signup_date"),
    ],
)
def test_words_counting_each_account_once_are_part_of_the_count(
    router: Router, question: str, measure: str, date: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None
    assert decision.query.measures == (measure,)
    assert date in _filtered(decision)
    assert decision.parsed is not None and decision.parsed.unknown_words == []


def test_a_describing_word_alone_is_still_a_word_not_used(router: Router) -> None:
    decision = router.route("unique selling points by plan", today=TODAY)
    assert decision.parsed is not None and "unique" in decision.parsed.unknown_words


@pytest.mark.parametrize(
    ("question", "said", "levels"),
    [
        ("conversion rate on plan platinum", "platinum", "bronze, silver, gold"),
        ("how many signups in industry fishing in 2024", "fishing", "mining"),
        ("churn rate, channel television", "television", "billboard"),
        ("signups by country Atlantis", "Atlantis", "FR, JP"),
        ("conversion by platinum plan", "platinum", "bronze, silver, gold"),
        ("signups platinum plan last year", "platinum", "bronze, silver, gold"),
        ("churn rate, company size 5000+", "5000+", "1-20, 21-100, 101+"),
        ("signups with size 30-40 in 2024", "30-40", "1-20, 21-100, 101+"),
        ("conversion for 5000+", "5000+", "1-20, 21-100, 101+"),
    ],
)
def test_a_value_said_next_to_a_fields_name_that_the_data_lacks_is_asked_back(
    router: Router, question: str, said: str, levels: str
) -> None:
    decision = router.route(question, today=TODAY)
    assert decision.needs_clarification, decision.route.reason
    assert decision.query is None
    assert f"called {said!r}" in (decision.clarification or ""), decision.clarification
    assert levels in (decision.clarification or ""), decision.clarification


@settings(max_examples=40, deadline=None)
@given(
    low=st.integers(min_value=1, max_value=99_999),
    span=st.integers(min_value=0, max_value=9_999),
    plus=st.booleans(),
    lead=st.sampled_from(["conversion rate, company size", "signups with size", "churn for"]),
)
@example(low=101, span=0, plus=True, lead="conversion rate, company size")
@example(low=21, span=79, plus=False, lead="signups with size")
@example(low=2000, span=0, plus=True, lead="churn for")
def test_any_band_said_of_the_size_field_is_a_level_or_asked_back(
    router: Router, low: int, span: int, plus: bool, lead: str
) -> None:
    band = f"{low}+" if plus else f"{low}-{low + span}"
    decision = router.route(f"{lead} {band}", today=TODAY)
    if band in LEVELS["company_size"]:
        assert _filtered(_answered(router, f"{lead} {band}")).get("company_size") == band
    elif plus or lead != "churn for":  # "churn for 30-40" may be a range of anything
        assert decision.needs_clarification and f"called {band!r}" in (
            decision.clarification or ""
        ), decision.route.reason


@pytest.mark.parametrize(
    ("question", "field", "value"),
    [
        ("conversion rate on plan silver", "plan_type", "silver"),
        ("how many signups in industry forestry in 2024", "industry", "forestry"),
        ("churn rate, company size 101+", "company_size", "101+"),
        ("signups with size 21-100 in 2024", "company_size", "21-100"),
    ],
)
def test_a_value_the_data_has_next_to_its_fields_name_is_a_filter(
    router: Router, question: str, field: str, value: str
) -> None:
    assert _filtered(_answered(router, question)).get(field) == value


@pytest.mark.parametrize(
    "question",
    [
        "which plan brings in the most revenue",
        "what industry brought in the most MRR in 2024",
        "signups by country code",
        "how does the plan mix look by quarter",
        "churn rate per plan tier pls",
        "signups by company size, not counting radio",
        "conversion by industry including trials",
        "How much revenue did the radio network channel bring in last year?",
        "signups between 2024-01-01 and 2024-02-15",
        "top 3 industries by signups",
    ],
)
def test_words_after_a_fields_name_that_name_no_value_are_not_asked_about(
    router: Router, question: str
) -> None:
    decision = router.route(question, today=TODAY)
    assert "is called" not in decision.route.reason, decision.route.reason
