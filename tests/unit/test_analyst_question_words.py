"""Words of a question the deterministic analyst reads over levels of its own (no database):
"new" before the rows counted, rows named by what they are doing ("paying customers"), a field
said by the last word of its name ("events by type"), and values the data lacks in further
shapes: a band of the one field of bands, a word before a field's name, a country in lower case
(docs/questions.md)."""

from __future__ import annotations

import datetime as dt
import doctest
import functools

import pytest
from analyst_routing import answered, asked_about, filtered, router_for

import chatter.analyst.ordering
from chatter.analyst.route import Router

TODAY = dt.date(2025, 6, 18)
LEVELS = {
    "users.plan_type": ["copper", "nickel", "zinc"],
    "revenue.plan_type": ["copper", "nickel", "zinc"],
    "industry": ["dentistry", "logistics", "brewing"],
    "acquisition_channel": ["podcast_ads", "partner_referral", "webinar"],
    "company_size": ["1-9", "10-249", "250+"],
    "country": ["DE", "BR"],
    "event_type": ["file_uploaded", "invoice_sent", "tag_added"],
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
        "number of new accounts in Q1 2025",
        "count of new customers last quarter",
        "new users by industry in 2024",
        "new signups per channel since January 2025",
    ],
)
def test_new_before_the_rows_counted_is_part_of_the_count(router: Router, question: str) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == ("users",)
    assert "signup_date" in _filtered(decision)
    assert decision.parsed is not None and decision.parsed.unknown_words == []


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("How many paying customers are there?", "subscribers"),
        ("number of paying customers we currently have, by plan", "subscribers"),
        ("how many paying customers did we have in April 2025", "paying_users"),
        ("How many paying accounts have we got?", "subscribers"),
    ],
)
def test_paying_rows_held_count_the_accounts_billed_the_last_month_when_none_is_named(
    router: Router, question: str, measure: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == (measure,)
    if measure == "paying_users":
        assert "month" in _filtered(decision)  # the billing month, not the signup date


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("what share of paying customers cancelled in 2024", "churn_rate"),
        ("how many trials became paying customers in 2024", "converted_users"),
        ("number of paying customers by channel", "converted_users"),
    ],
)
def test_paying_rows_in_a_rate_after_becoming_or_not_held_stay_the_converted(
    router: Router, question: str, measure: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and measure in decision.query.measures
    assert "paying_users" not in decision.query.measures


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ("event count by type in 2024", "event_type"),
        ("events per type for Brazil last quarter", "event_type"),
        ("events by name last month", "event_type"),
        ("signups by date in 2024", "signup_date__month"),
    ],
)
def test_a_field_said_by_the_last_word_of_its_name_after_what_is_counted(
    router: Router, question: str, field: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and field in decision.query.dimensions


def test_the_last_word_of_a_field_of_other_rows_is_still_asked_about(router: Router) -> None:
    decision = router.route("signups by type", today=TODAY)
    assert decision.needs_clarification and "'type'" in (decision.clarification or "")


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("revenue from the 500+ band", "500+"),
        ("10-249 vs 30-60 churn rate", "30-60"),
        ("30-60 vs 10-249 churn rate", "30-60"),
        ("churn rate for the 5000+ segment", "5000+"),
        ("how many signups in the 2-5 tier last month", "2-5"),
        ("signups from the 11-20 bucket in 2024", "11-20"),
        ("conversion rate for 300-900", "300-900"),
    ],
)
def test_a_band_the_one_field_of_bands_lacks_is_asked_back(
    router: Router, question: str, said: str
) -> None:
    _asked_about(router, question, said, "1-9, 10-249, 250+")


@pytest.mark.parametrize(
    "question",
    [
        "signups in 2023-2024",
        "conversion rate over the last 3-6 months",
        "top 5 plans by signups",
        "revenue for the 2-3 plans",
        "share of accounts with 5-10 events",
        "mrr growth of 10-20%",
    ],
)
def test_ranges_of_other_things_are_not_bands(router: Router, question: str) -> None:
    decision = router.route(question, today=TODAY)
    assert "company_size" not in (decision.clarification or ""), decision.clarification


def test_a_band_the_field_has_is_a_filter(router: Router) -> None:
    assert _filtered(_answered(router, "churn rate for the 250+ band")) == {"company_size": "250+"}


@pytest.mark.parametrize(
    "question",
    [
        "How many platinum plan signups did we get in 2024?",
        "platinum plan signups last month",
        "total platinum plan customers",
    ],
)
def test_an_unknown_word_before_a_fields_name_is_asked_back(router: Router, question: str) -> None:
    _asked_about(router, question, "platinum", "copper, nickel, zinc")


@pytest.mark.parametrize(
    ("question", "filtered"),
    [
        ("How many nickel plan signups did we get in 2024?", {"plan_type": "nickel"}),
        ("how many signups per plan in 2024", {}),
    ],
)
def test_a_known_plan_or_a_grouping_before_a_fields_name_is_read(
    router: Router, question: str, filtered: dict[str, str]
) -> None:
    decision = _answered(router, question)
    assert {k: v for k, v in _filtered(decision).items() if k != "signup_date"} == filtered


@pytest.mark.parametrize(
    "question",
    ["wich features keep ppl from churning?", "investigate feature engagement", "wich plan wins"],
)
def test_an_unknown_word_before_a_field_not_counting_its_rows_is_no_value(
    router: Router, question: str
) -> None:
    decision = router.route(question, today=TODAY)
    assert "is called" not in decision.route.reason, decision.route.reason


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("how many churned in canada this year", "canada"),
        ("conversion rate excluding the netherlands", "netherlands"),
        ("conversion rate in chile", "chile"),
        ("mrr for portugal last month", "portugal"),
    ],
)
def test_a_country_in_lower_case_the_data_lacks_is_asked_back_as_a_country(
    router: Router, question: str, said: str
) -> None:
    _asked_about(router, question, said, "DE, BR")
    decision = router.route(question, today=TODAY)
    assert f"No country is called {said!r}" in (decision.clarification or "")


def test_a_country_in_lower_case_the_data_has_is_a_filter(router: Router) -> None:
    assert _filtered(_answered(router, "signups from brazil")) == {"country": "BR"}


def test_ordering_doctests() -> None:
    assert doctest.testmod(chatter.analyst.ordering).failed == 0
