"""A question back about a value the data lacks is answered by picking one of the values it
offers: the reply is the question asked, with the value picked in place of the missing one
(not a new, unreadable message, and never the question with the missing value dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatter.analyst.graph import with_value
from chatter.analyst.session import ChatSession
from chatter.context import Context
from chatter.services import Services

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("first", "field"),
    [
        ("conversion rate for the platinum plan", "users.plan_type"),
        ("conversion rate by channel where plan_type = 'nope'", "users.plan_type"),
        ("churn rate of zzzz customers by plan", None),
    ],
)
def test_picking_an_offered_value_answers_the_question_with_it(
    demo_db: Path, services: Services, first: str, field: str | None
) -> None:
    session = ChatSession.open(services, Context(database=demo_db))
    asked = session.say(first)
    assert asked.clarification, asked.text
    # An option offered, or (a value of no field named: every field's values are listed) one
    # of the values it lists, typed.
    picked = asked.options[-1] if asked.options else "enterprise"
    assert picked in asked.text
    reply = session.say(picked.upper())  # the case a person types
    assert not reply.clarification, reply.text
    assert reply.query is not None
    filters = reply.query["filters"]
    assert any(f["value"] == picked for f in filters), filters
    if field is not None:
        assert [f["field"] for f in filters if f["value"] == picked] == [field]
    assert reply.steps[0].rows


def test_a_follow_up_naming_a_missing_value_takes_the_pick_too(
    demo_db: Path, services: Services
) -> None:
    session = ChatSession.open(services, Context(database=demo_db))
    session.say("conversion rate by plan")
    asked = session.say("only zzzz")
    assert asked.clarification
    picked = asked.options[0] if asked.options else "fintech"
    assert picked in asked.text
    reply = session.say(picked)
    assert reply.query is not None and reply.query["measures"] == ["conversion_rate"]
    assert any(f["value"] == picked for f in reply.query["filters"])


def test_an_answer_that_is_no_option_is_read_as_a_message() -> None:
    assert with_value("mrr for the pro plan", "pro", "growth") == "mrr for the growth plan"
    assert with_value("plan_type = 'Nope'", "nope", "starter") == "plan_type = 'starter'"
    assert with_value("the product plan", "pro", "growth") is None  # a word, not a part
