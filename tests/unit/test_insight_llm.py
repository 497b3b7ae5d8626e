"""The LLM may reword insights, never change their numbers or evidence: fake chat models that
answer through tool calls, as ``with_structured_output`` asks them to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable

from chatter.result import Finding, Insight, StepResult
from chatter.tools.insight import (
    RewordedInsights,
    collect_evidence,
    render_insights,
    reword_insights,
)


class ToolCallingFake(FakeMessagesListChatModel):
    """A fake chat model that can be bound to tools, so structured output works through it."""

    def bind_tools(  # type: ignore[override]
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[Any, BaseMessage]:
        return self


class RaisingFake(ToolCallingFake):
    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise ConnectionError("the LLM server is down")


def answer(items: list[dict[str, Any]], tokens: int = 321) -> AIMessage:
    """What a model returns for structured output: one tool call with the schema's name."""
    return AIMessage(
        content="",
        tool_calls=[{"name": RewordedInsights.__name__, "args": {"insights": items}, "id": "c1"}],
        usage_metadata={
            "input_tokens": tokens - 21,
            "output_tokens": 21,
            "total_tokens": tokens,
        },
    )


@pytest.fixture
def run() -> tuple[list[StepResult], list[Finding]]:
    findings = [
        Finding(
            metric="conversion_rate",
            dimension="sector",
            segment="hydroponics",
            test="two_proportion_z",
            p_value=1e-30,
            p_adjusted=4e-30,
            effect_size=-0.3,
            effect_size_name="cohens_h",
            estimates={"rate": 0.1393, "rate_rest": 0.2361, "difference": -0.0968},
            n=20_000,
            significant=True,
            source_step="tests",
        ),
        Finding(
            metric="churn_rate",
            dimension="feature",
            segment="sync",
            subject="adopters of sync vs non-adopters",
            test="two_proportion_z",
            p_value=1e-10,
            p_adjusted=2e-10,
            effect_size=-0.2,
            effect_size_name="cohens_h",
            estimates={"rate": 0.157, "rate_rest": 0.275, "difference": -0.118},
            n=4_000,
            significant=True,
            source_step="tests",
        ),
    ]
    rows = [{"dimension": "sector", "segment": "hydroponics", "conversion_rate": 0.1393}]
    steps = [StepResult(id="tests", type="statistical_test", status="completed", rows=rows)]
    return steps, findings


def faithful(insight: Insight) -> dict[str, Any]:
    return {"text": "For product: " + insight.text, "evidence": insight.evidence}


def test_no_llm_returns_insights_unchanged(run) -> None:
    insights = render_insights(*run)
    outcome = reword_insights(insights, collect_evidence(*run), None)
    assert outcome.insights == insights
    assert (outcome.reworded, outcome.rejected, outcome.tokens) == (0, 0, 0)


def test_a_faithful_rewording_is_accepted_and_tokens_counted(run) -> None:
    insights = render_insights(*run)
    assert "13.9%" in insights[0].text
    llm = ToolCallingFake(responses=[answer([faithful(i) for i in insights])])
    outcome = reword_insights(insights, collect_evidence(*run), llm)
    assert [i.text for i in outcome.insights] == ["For product: " + i.text for i in insights]
    assert [i.evidence for i in outcome.insights] == [i.evidence for i in insights]
    assert (outcome.reworded, outcome.rejected, outcome.tokens) == (2, 0, 321)


def test_rounding_and_dropping_numbers_is_allowed(run) -> None:
    insights = render_insights(*run)
    text = "hydroponics converts at about 14% against 24% for the other sectors (p < 0.001)."
    items = [{"text": text, "evidence": insights[0].evidence[:1]}, faithful(insights[1])]
    outcome = reword_insights(
        insights, collect_evidence(*run), ToolCallingFake(responses=[answer(items)])
    )
    assert outcome.insights[0].text == text
    assert outcome.insights[0].evidence == insights[0].evidence  # the original citations stay
    assert outcome.rejected == 0


def test_a_changed_number_is_rejected_and_the_deterministic_text_kept(run) -> None:
    insights = render_insights(*run)
    changed = faithful(insights[0]) | {"text": insights[0].text.replace("13.9%", "19.3%")}
    items = [changed, faithful(insights[1])]
    outcome = reword_insights(
        insights, collect_evidence(*run), ToolCallingFake(responses=[answer(items)])
    )
    assert outcome.insights[0] == insights[0]
    assert outcome.insights[1].text.startswith("For product: ")
    assert (outcome.reworded, outcome.rejected) == (1, 1)


def test_an_added_number_is_rejected(run) -> None:
    insights = render_insights(*run)
    items = [faithful(i) for i in insights]
    items[1]["text"] += " That is 1.75x the churn of adopters."
    outcome = reword_insights(
        insights, collect_evidence(*run), ToolCallingFake(responses=[answer(items)])
    )
    assert outcome.insights[1] == insights[1]
    assert outcome.rejected == 1


def test_an_invented_evidence_id_is_rejected(run) -> None:
    insights = render_insights(*run)
    items = [faithful(i) for i in insights]
    items[0]["evidence"] = [*insights[0].evidence, "findings[7]"]
    items[1]["evidence"] = []
    outcome = reword_insights(
        insights, collect_evidence(*run), ToolCallingFake(responses=[answer(items)])
    )
    assert outcome.insights == insights
    assert (outcome.reworded, outcome.rejected) == (0, 2)


def test_an_llm_that_raises_keeps_everything(run) -> None:
    insights = render_insights(*run)
    outcome = reword_insights(insights, collect_evidence(*run), RaisingFake(responses=[]))
    assert outcome.insights == insights
    assert (outcome.reworded, outcome.rejected, outcome.tokens) == (0, 2, 0)


@pytest.mark.parametrize(
    "response",
    [
        AIMessage(content="Sure! Here are your insights: ..."),
        AIMessage(
            content="",
            tool_calls=[{"name": RewordedInsights.__name__, "args": {"items": 3}, "id": "c1"}],
        ),
    ],
    ids=["prose", "wrong-shape"],
)
def test_garbage_from_the_llm_keeps_everything(run, response: AIMessage) -> None:
    insights = render_insights(*run)
    outcome = reword_insights(
        insights, collect_evidence(*run), ToolCallingFake(responses=[response])
    )
    assert outcome.insights == insights
    assert (outcome.reworded, outcome.rejected) == (0, 2)


def test_missing_rewordings_count_as_rejected(run) -> None:
    insights = render_insights(*run)
    llm = ToolCallingFake(responses=[answer([faithful(insights[0])])])
    outcome = reword_insights(insights, collect_evidence(*run), llm)
    assert outcome.insights[1] == insights[1]
    assert (outcome.reworded, outcome.rejected) == (1, 1)
