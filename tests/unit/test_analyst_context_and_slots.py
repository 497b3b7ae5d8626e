"""Questions of the tenth held-out set's shapes, over levels of this test's own: sentences
around the question that only say why it is asked are context (their words unused, never
read), unknown words where only a value goes are asked back ("perfumery's churn rate",
"within cartography,", "how did shipbuilding do"), regular demonyms name countries
("Jordanian"), a grain adjective before another noun sets no grain ("the quarterly review"),
and a slip is repaired into the word that keeps most of it ("monthy": monthly)."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from analyst_routing import answered, asked_about, filtered, router_for

from chatter.analyst.interpretation import interpretation_of
from chatter.analyst.level_aliases import derived_demonym
from chatter.analyst.route import Router

TODAY = dt.date(2024, 3, 12)
LEVELS = {
    "users.plan_type": ["heron", "plover", "egret"],
    "revenue.plan_type": ["heron", "plover", "egret"],
    "industry": ["beekeeping", "joinery", "optics"],
    "acquisition_channel": ["trade_show", "podcast", "billboard"],
    "company_size": ["1-5", "6-50", "51+"],
    "country": ["JO", "UG", "CR"],
    "event_type": ["label_printed", "route_planned", "photo_tagged"],
}

_answered = functools.partial(answered, today=TODAY)
_asked_about = functools.partial(asked_about, today=TODAY)


@pytest.fixture(scope="module")
def router() -> Router:
    return router_for(LEVELS)


@pytest.mark.parametrize(
    ("question", "measure", "unused"),
    [
        (
            "How many accounts churned in 2023? Trying to get a feel for the retention "
            "problem before our offsite.",
            "churned_users",
            "retention",
        ),
        (
            "Support asked me this morning and I didn't have it to hand. How many accounts "
            "signed up after 2022?",
            "users",
            "morning",
        ),
        (
            "What is the churn rate for joinery? Someone in sales thinks they're flaky.",
            "churn_rate",
            "sales",
        ),
        (
            "Which industry has the lowest churn rate? Want to double down on whoever sticks.",
            "churn_rate",
            "sticks",
        ),
    ],
)
def test_context_sentences_are_reported_not_read(
    router: Router, question: str, measure: str, unused: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None
    assert list(decision.query.measures) == [measure]  # "sales" is no revenue, "sticks" no test
    assert unused in interpretation_of(decision).unused_words


def test_a_context_sentence_that_names_a_level_is_read(router: Router) -> None:
    decision = _answered(router, "We care about joinery. What is the churn rate?")
    assert filtered(decision) == {"industry": "joinery"}


def test_a_context_sentence_that_asks_for_a_test_is_read(router: Router) -> None:
    decision = router.route(
        "do the people who plan routes also tag photos? is that correlated", today=TODAY
    )
    assert decision.route.workflow == "feature_usage_deep_dive"


def test_a_question_that_needs_its_context_is_read_whole(router: Router) -> None:
    decision = router.route("Conversion has been slipping. Which channel is worst?", today=TODAY)
    assert decision.query is not None and decision.query.measures == ("conversion_rate",)
    assert decision.query.dimensions == ("acquisition_channel",)


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("perfumery's churn rate since October 2023", "perfumery"),
        ("falconry-only conversion rate for 2023", "falconry"),
        ("Within cartography, what's our MRR?", "cartography"),
        ("customers on magpie: how many converted in 2023?", "magpie"),
        ("How did shipbuilding do on conversion last quarter?", "shipbuilding"),
        ("Did toucan convert better than heron in 2022?", "toucan"),
    ],
)
def test_unknown_words_where_a_value_goes_are_asked_back(
    router: Router, question: str, said: str
) -> None:
    _asked_about(router, question, said, "joinery")


def test_demonyms_follow_the_country_name() -> None:
    assert derived_demonym("Jordan") == "Jordanian"
    assert derived_demonym("Uganda") == "Ugandan"
    assert derived_demonym("Costa Rica") == "Costa Rican"
    assert derived_demonym("Italy") == "Italian"
    assert derived_demonym("Dominican Republic") is None


@pytest.mark.parametrize(
    ("question", "country"),
    [("conversion rate for Jordanian signups", "JO"), ("Ugandan customers' churn rate", "UG")],
)
def test_a_regular_demonym_names_its_country(router: Router, question: str, country: str) -> None:
    assert filtered(_answered(router, question)) == {"country": country}


def test_an_absent_country_said_by_its_demonym_is_asked_back(router: Router) -> None:
    decision = router.route("signups from Moroccan companies in 2023", today=TODAY)
    assert decision.needs_clarification and "JO" in (decision.clarification or "")


def test_a_grain_word_before_another_noun_sets_no_grain(router: Router) -> None:
    decision = _answered(router, "Before the quarterly review I need revenue by industry in 2023")
    assert decision.query is not None and decision.query.dimensions == ("industry",)
    weekly = _answered(router, "signups on a weekly basis in 2023")
    assert weekly.query is not None and weekly.query.dimensions == ("signup_date__week",)


def test_a_slip_is_read_as_the_word_that_keeps_most_of_it(router: Router) -> None:
    decision = _answered(router, "monthy active users in 2023")
    assert decision.query is not None
    assert decision.query.dimensions == ("event_ts__month",)
    assert ("monthy", "monthly") in (decision.parsed.repairs if decision.parsed else [])
