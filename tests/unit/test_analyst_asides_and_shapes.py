"""Questions of the ninth held-out set's shapes, over levels of this test's own: clauses that
name nothing (greetings, a preface) are asides, nouns ending in "-ing" are not verbs, a value
set "compared to" a level or said after another field's name is asked back, "this year" names
one year, and "revenue per paying customer" is ARPU (docs/questions.md)."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from analyst_routing import answered, asked_about, filtered, router_for

from chatter.analyst.interpretation import interpretation_of
from chatter.analyst.route import Router

TODAY = dt.date(2025, 6, 18)
LEVELS = {
    "users.plan_type": ["osprey", "kestrel", "merlin"],
    "revenue.plan_type": ["osprey", "kestrel", "merlin"],
    "industry": ["dentistry", "logistics", "brewing"],
    "acquisition_channel": ["podcast_ads", "partner_referral", "webinar"],
    "company_size": ["1-9", "10-249", "250+"],
    "country": ["DE", "BR"],
    "event_type": ["file_uploaded", "invoice_sent", "tag_added"],
}

_answered = functools.partial(answered, today=TODAY)
_asked_about = functools.partial(asked_about, today=TODAY)


@pytest.fixture(scope="module")
def router() -> Router:
    return router_for(LEVELS)


@pytest.mark.parametrize(
    ("question", "aside"),
    [
        (
            "Hi there! Quick one for the quarterly review: how many accounts converted in 2024?",
            "quick",
        ),
        ("Which channel converts best? Our marketing programme needs it.", "programme"),
        ("Hello! This goes in the board pack: churn rate by plan in 2024? Cheers", "cheers"),
    ],
)
def test_a_clause_that_names_nothing_is_an_aside(router: Router, question: str, aside: str) -> None:
    decision = _answered(router, question)
    assert decision.parsed is not None
    assert aside in decision.parsed.asides and decision.parsed.unknown_words == []
    assert aside in interpretation_of(decision).unused_words  # still said as not used


def test_an_aside_does_not_hide_a_value(router: Router) -> None:
    _asked_about(router, "churn rate by plan. Only Titanium.", "Titanium", "osprey")
    # one clause, two words we cannot place: the reading is still weak
    decision = router.route("churn rate for the board pack deck thing", today=TODAY)
    assert decision.parsed is not None and decision.parsed.asides == []


def test_a_noun_ending_in_ing_is_not_a_verb_of_its_stem(router: Router) -> None:
    # "accounting" is not "accounts" (the rows counted): a value the data lacks
    decision = router.route("churn rate for ACCOUNTING", today=TODAY)
    assert decision.needs_clarification and "ACCOUNTING" in (decision.clarification or "")
    _asked_about(router, "conversion rate of the marketing industry", "marketing", "dentistry")


def test_a_value_compared_to_a_level_is_one_of_its_field(router: Router) -> None:
    _asked_about(
        router,
        "churn rate of webinar signups compared to cold calling",
        "cold calling",
        "podcast_ads",
    )
    _asked_about(router, "conversion of webinar signups versus TikTok", "TikTok", "webinar")


@pytest.mark.parametrize(
    ("question", "said", "levels"),
    [
        ("conversion rate for plan dentistry", "dentistry", "osprey"),
        ("How many file_uploaded plan signups?", "file_uploaded", "kestrel"),
        ("churn for company size webinar", "webinar", "10-249"),
    ],
)
def test_a_level_said_as_another_fields(
    router: Router, question: str, said: str, levels: str
) -> None:
    _asked_about(router, question, said, levels)


@pytest.mark.parametrize(
    "question", ["number of trials by company size, Germany only", "signups by plan for dentistry"]
)
def test_a_level_after_a_split_field_is_a_filter(router: Router, question: str) -> None:
    decision = _answered(router, question)
    assert len(filtered(decision)) == 1


def test_mrr_this_year_is_one_number_ytd_month_by_month(router: Router) -> None:
    this_year = _answered(router, "MRR this year")
    assert this_year.query is not None and this_year.query.dimensions == ()
    assert filtered(this_year)["month"] == ["2025-01-01", "2025-06-18"]
    ytd = _answered(router, "MRR year to date")
    assert ytd.query is not None and ytd.query.dimensions == ("month__month",)


@pytest.mark.parametrize(
    "question",
    [
        "average revenue per paying customer",
        "averge revenue per paying customer for the 10-249 size band",
    ],
)
def test_revenue_per_paying_customer_is_arpu(router: Router, question: str) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == ("arpu",)


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("How many events did we log in the last 30 days?", "events"),
        ("Could you break down this year's signups by acquisition channel, please?", "users"),
    ],
)
def test_verbs_of_recording_and_splitting_are_not_unused(
    router: Router, question: str, measure: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == (measure,)
    assert decision.parsed is not None and decision.parsed.unknown_words == []
