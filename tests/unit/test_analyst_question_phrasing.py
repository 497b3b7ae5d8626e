"""Casual phrasings the deterministic analyst reads over levels of its own (no database): "X
per paying Y" as the ratio of their kin, "how many <doing> <rows>" with a filter, a row said as
a date's word ("a webinar signup"), plurals, acronyms of a count per period ("MAU"), words cut
short ("conv rate"), "how much did we <verb>", "the most common X"; and values the data lacks
in more shapes: before the window, with a known word after them, after "via", leading a field
and a measure, set against a level with a word more, after a field's name as a verb ("sized"),
and a country code in lower case (docs/questions.md)."""

from __future__ import annotations

import datetime as dt
import doctest
import functools

import pytest
from analyst_routing import answered, asked_about, filtered, router_for

import chatter.analyst.spelling
from chatter.analyst.route import Router

TODAY = dt.date(2025, 6, 18)
LEVELS = {
    "users.plan_type": ["amber", "jade", "onyx"],
    "revenue.plan_type": ["amber", "jade", "onyx"],
    "industry": ["bakeries", "ferries", "vineyards"],
    "acquisition_channel": ["podcast_ads", "webinar", "trade_fair", "partner_sites"],
    "company_size": ["1-9", "10-249", "250+"],
    "country": ["DE", "BR"],
    "event_type": ["deal_signed", "photo_cropped", "map_shared"],
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
        "typical MRR per billed customer",
        "avg monthly recurring revenue per paying account in May 2025",
        "average revenue per billed account last month",
    ],
)
def test_an_average_per_paying_rows_is_the_ratio_of_their_kin(
    router: Router, question: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == ("arpu",)


@pytest.mark.parametrize(
    ("question", "said", "levels"),
    [
        ("active accounts in shipbuilding last quarter", "shipbuilding", "bakeries"),
        ("churn rate in mining since January 2025", "mining", "bakeries"),
        ("conversion rate of tiktok ads signups", "tiktok ads", "webinar"),
        ("MRR from accounts that signed up via Reddit", "Reddit", "webinar"),
        ("revenue from customers that came through Quora", "Quora", "webinar"),
        ("radio channel churn in 2024", "radio", "webinar"),
        ("road show vs webinar, which converts better?", "road show", "webinar"),
        ("churn rate of companies sized 500-999", "500-999", "10-249"),
        ("how many accounts sized 5000+ signed up in 2024", "5000+", "10-249"),
        ("signups from mx last month", "mx", "DE"),
    ],
)
def test_a_value_the_data_lacks_is_asked_back_in_more_shapes(
    router: Router, question: str, said: str, levels: str
) -> None:
    _asked_about(router, question, said, levels)


@pytest.mark.parametrize(
    ("question", "field", "value"),
    [
        ("conversion rate in br", "country", "BR"),
        ("churn rate of companies sized 10-249", "company_size", "10-249"),
        ("trade fair vs webinar, which converts better?", "acquisition_channel", None),
    ],
)
def test_the_same_shapes_with_values_the_data_has_are_read(
    router: Router, question: str, field: str, value: str | None
) -> None:
    decision = _answered(router, question)
    if value is not None:
        assert _filtered(decision)[field] == value


@pytest.mark.parametrize(
    ("question", "said"),
    [("signups from fr in 2024", "fr"), ("conversion rate for jp", "jp")],
)
def test_a_country_code_in_lower_case_is_asked_about_as_a_country(
    router: Router, question: str, said: str
) -> None:
    decision = router.route(question, today=TODAY)
    assert decision.needs_clarification and decision.query is None
    assert f"No country is called {said!r}" in (decision.clarification or "")


def test_a_pronoun_after_a_cue_is_no_country(router: Router) -> None:
    decision = _answered(router, "what is the churn rate for us")
    assert "country" not in _filtered(decision)


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("how many paying customers in br?", "subscribers"),
        ("how many paying customers on the jade plan", "subscribers"),
        ("how many paying customers by plan", "converted_users"),
    ],
)
def test_how_many_rows_doing_something_unsplit_are_those_doing_it(
    router: Router, question: str, measure: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == (measure,)


@pytest.mark.parametrize(
    "question",
    ["How likely is a webinar signup to convert?", "chance that a podcast_ads signup converts"],
)
def test_a_row_said_by_a_dates_word_is_no_split(router: Router, question: str) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == ("conversion_rate",)
    assert decision.query.dimensions == ()
    assert _filtered(decision)["acquisition_channel"] in ("webinar", "podcast_ads")


@pytest.mark.parametrize(
    ("question", "measure", "field"),
    [
        ("rank company sizes by churn rate", "churn_rate", "company_size"),
        ("Which channel brought in the most accounts last year?", "users", "acquisition_channel"),
        ("which feature is the most popular?", "events", "event_type"),
        ("the least common industry among signups", "users", "industry"),
        ("conv rate by industry", "conversion_rate", "industry"),
    ],
)
def test_casual_rankings_and_splits(
    router: Router, question: str, measure: str, field: str
) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == (measure,)
    assert [d.split(".")[-1] for d in decision.query.dimensions] == [field]
    assert decision.parsed is not None and decision.parsed.unknown_words == []


def test_a_word_cut_short_is_read_whole_before_its_pair(router: Router) -> None:
    decision = _answered(router, "conv rate for 250+ companies")
    assert decision.query is not None and decision.query.measures == ("conversion_rate",)
    assert _filtered(decision) == {"company_size": "250+"}


@pytest.mark.parametrize(
    ("question", "grain"), [("MAU by plan", "month"), ("WAU over the last 2 weeks", "week")]
)
def test_an_acronym_of_a_count_per_period(router: Router, question: str, grain: str) -> None:
    decision = _answered(router, question)
    assert decision.query is not None and decision.query.measures == ("active_users",)
    assert f"event_ts__{grain}" in decision.query.dimensions


def test_how_much_did_we_and_a_verb_of_a_summed_measure(router: Router) -> None:
    decision = _answered(router, "how much did we bill over the last 3 quarters?")
    assert decision.query is not None and decision.query.measures == ("revenue",)
    assert "month" in _filtered(decision)


def test_a_levels_words_are_no_date_for_the_window(router: Router) -> None:
    decision = _answered(router, "How many deal_signed events were there in Q1 2025?")
    assert decision.query is not None and decision.query.measures == ("events",)
    fields = {f.field for f in decision.query.filters}
    assert "event_ts" in fields and "signup_date" not in fields


def test_spelling_doctests() -> None:
    assert doctest.testmod(chatter.analyst.spelling).failed == 0
