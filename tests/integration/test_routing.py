"""The router on real data: accuracy on two question sets (one written without seeing the
router), conversations with follow-ups, bad and hostile input, the LLM's bounded say."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage

from chatter.analyst.evaluation import evaluate
from chatter.analyst.followups import interpret
from chatter.analyst.route import Router
from chatter.analyst.understand import build_router
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ACCURACY_FLOOR = 0.90


@pytest.fixture(scope="module")
def router(demo_db: Path) -> Iterator[Router]:
    with Warehouse(Engine(demo_db), default_model()) as warehouse:
        yield build_router(warehouse)


@pytest.mark.parametrize("name", ["routing_questions.yaml", "routing_holdout.yaml"])
def test_routing_accuracy_without_an_llm(router: Router, name: str) -> None:
    answered, refused = evaluate(router, FIXTURES / name)
    accuracy = sum(o.correct for o in answered) / len(answered)
    misses = [(o.question, o.expected, o.got, o.detail) for o in answered if not o.correct]
    assert accuracy >= ACCURACY_FLOOR, misses
    assert len(answered) >= 60 if name == "routing_questions.yaml" else True
    assert all(o.correct for o in refused), [(o.question, o.got) for o in refused]


def short(name: str) -> str:
    return name.split(".")[-1]


def as_expected(decision: Any) -> dict[str, Any]:
    got: dict[str, Any] = {"route": decision.route.workflow}
    if decision.query is not None:
        q = decision.query
        got["measures"] = [short(m) for m in q.measures]
        got["dimensions"] = [short(d) for d in q.dimensions]
        if q.filters:
            got["filters"] = [
                {"field": short(f.field), "op": f.op, "value": f.value} for f in q.filters
            ]
        if q.limit:
            got["limit"] = q.limit
        if q.order_by:
            got["order_by"] = [
                {"field": short(o.field), "descending": o.descending} for o in q.order_by
            ]
    return got


CONVERSATIONS = yaml.safe_load((FIXTURES / "conversations.yaml").read_text())["conversations"]


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
def test_follow_ups_carry_the_query_forward(router: Router, conversation: dict[str, Any]) -> None:
    previous = None
    for turn in conversation["turns"]:
        decision = interpret(router, turn["say"], previous)
        assert as_expected(decision) == turn["expect"], turn["say"]
        previous = decision.query or previous


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "?",
        "🙂",
        "x" * 100_000,
        "\x00\x01",
        "asdf qwerty zxcv",
        "'; DROP TABLE users; --",
    ],
)
def test_bad_questions_get_a_helpful_answer(router: Router, question: str) -> None:
    decision = router.route(question)
    assert decision.needs_clarification
    assert "For example" in (decision.clarification or "") or "I can" in (
        decision.clarification or ""
    )


def test_an_unknown_field_gets_did_you_mean(router: Router) -> None:
    decision = router.route("conversion rate by indsutryy")
    assert decision.needs_clarification
    assert "Did you mean industry" in (decision.clarification or "")
    # One slip away, the word is read as the field, and the answer says so.
    repaired = router.route("conversion rate by industy")
    assert repaired.query is not None and repaired.query.dimensions == ("industry",)
    assert "Read 'industy' as 'industry'" in repaired.route.reason


def test_typos_in_known_words_are_repaired(router: Router) -> None:
    decision = router.route("chrun rate by industyr")
    assert decision.route.workflow == "query" and decision.query is not None
    assert decision.query.measures == ("churn_rate",)


def test_levels_come_from_the_data_and_reasons_explain(router: Router) -> None:
    decision = router.route("conversion rate by plan for fintech and education")
    assert decision.query is not None
    assert decision.query.filters[0].value == ["fintech", "education"]
    assert "conversion_rate" in decision.route.reason
    template = router.route("why does the referral channel convert better?")
    assert template.route.workflow == "conversion_deep_dive"
    # The template tests every categorical dimension, the question's channel among them, so
    # nothing needs to join it; a template naming its dimensions gets the question's added.
    assert template.customizations is None
    named = router.templates["conversion_deep_dive"].model_copy(deep=True)
    step = named.step("statistical_validation")
    step.parameters["dimensions"] = ["plan_type", "industry"]
    other = dataclasses.replace(
        router, templates={**router.templates, "conversion_deep_dive": named}
    )
    assert other.route("why does the referral channel convert better?").customizations == {
        "steps": {
            "statistical_validation": {
                "parameters": {"dimensions": ["plan_type", "industry", "acquisition_channel"]}
            }
        }
    }


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_routes_without_an_exception(router: Router, text: str) -> None:
    decision = router.route(text)
    assert 0.0 <= decision.route.confidence <= 1.0
    assert decision.route.workflow in (*router.templates, "query", "clarify")


# ---- the LLM's say: only when unsure, only valid routes -------------------------------------


class StructuredFake:
    """A chat model whose structured output is whatever the test says (or an error)."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls = 0

    def with_structured_output(self, schema: Any) -> StructuredFake:
        self.schema = schema
        return self

    def invoke(self, prompt: Any) -> Any:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.schema(**self.answer)


def test_llm_is_asked_only_when_unsure_and_validated(router: Router) -> None:
    valid = StructuredFake(
        {
            "route": "query",
            "measures": ["mrr"],
            "dimensions": ["month"],
            "reason": "money over time",
        }
    )
    with_llm = Router(router.model, router.vocab, router.templates, valid)
    confident = with_llm.route("conversion rate by plan")
    assert valid.calls == 0 and confident.route.workflow == "query"
    unsure = with_llm.route("how are things looking lately")
    assert valid.calls == 1
    assert unsure.route.workflow == "query" and unsure.query is not None
    assert unsure.query.measures == ("mrr",) and unsure.route.reason.startswith("LLM:")

    invalid_name = StructuredFake(
        {"route": "query", "measures": ["moolah"], "dimensions": [], "reason": "?"}
    )
    fallback = Router(router.model, router.vocab, router.templates, invalid_name)
    assert (
        fallback.route("how are things looking lately").route.workflow != "query"
        or fallback.route("how are things looking lately").query is None
    )
    broken = Router(
        router.model, router.vocab, router.templates, StructuredFake(RuntimeError("server down"))
    )
    decision = broken.route("how are things looking lately")
    assert decision.route.workflow in (*router.templates, "clarify")


def test_llm_route_with_a_langchain_fake_model(router: Router) -> None:
    """The real with_structured_output path of a LangChain chat model (a fake one)."""
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel

    class ToolCallingFake(FakeMessagesListChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

    reply = AIMessage(
        content="",
        tool_calls=[
            {
                "name": "QuestionReading",
                "id": "1",
                "args": {
                    "route": "revenue_optimization",
                    "measures": [],
                    "dimensions": [],
                    "reason": "money talk",
                },
            }
        ],
    )
    llm = ToolCallingFake(responses=[reply])
    decision = Router(router.model, router.vocab, router.templates, llm).route(
        "how are things looking lately"
    )
    assert decision.route.workflow == "revenue_optimization"
    assert decision.route.reason == "LLM: money talk"
