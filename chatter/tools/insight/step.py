"""The insights tool: ranked insights over everything the run found, reworded by the LLM only
when one is configured and only where every number still matches its evidence."""

from __future__ import annotations

from pydantic import Field

from chatter.result import StepResult
from chatter.tools.insight.evidence import collect_evidence
from chatter.tools.insight.render import render_insights
from chatter.tools.insight.reword import reword_insights
from chatter.tools.params import Params
from chatter.tools.protocol import ToolCall, ToolOutput


class InsightParams(Params):
    """How many insights to keep, most important first."""

    max_insights: int = Field(default=8, ge=1, le=50)


def insights_tool(call: ToolCall) -> ToolOutput:
    assert isinstance(call.params, InsightParams)
    steps = [s for s in call.steps if s.id != call.step_id]
    findings = list(call.findings)
    insights = render_insights(
        steps, findings, alpha=call.alpha, max_insights=call.params.max_insights
    )
    outcome = reword_insights(insights, collect_evidence(steps, findings), call.llm)
    rows = [i.model_dump(mode="json") for i in outcome.insights]
    step = StepResult(
        id=call.step_id,
        type=call.step_type,
        status="completed",
        columns=["text", "evidence"],
        rows=rows,
        summary={
            "insights": len(rows),
            "reworded": outcome.reworded,
            "rejected_rewordings": outcome.rejected,
        },
    )
    return ToolOutput(
        step,
        insights={
            "items": rows,
            "llm_tokens": outcome.tokens,
            "reworded": outcome.reworded,
            "rejected": outcome.rejected,
        },
    )
