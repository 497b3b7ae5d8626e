"""The roll-up tool: the findings of the steps it follows (every step's when it follows none),
as one table under the run's multiple-comparison correction, with a summary."""

from __future__ import annotations

from chatter.result import StepResult
from chatter.tools.params import Params
from chatter.tools.protocol import ToolCall, ToolOutput


class RollUpParams(Params):
    """The roll-up takes no parameters: the run's correction and alpha apply."""


def roll_up_tool(call: ToolCall) -> ToolOutput:
    upstream = set(call.upstream)
    chosen = [f for f in call.findings if f.source_step in upstream] or list(call.findings)
    rows = [
        {
            "step": f.source_step,
            "metric": f.metric,
            "dimension": f.dimension,
            "segment": f.segment,
            "subject": f.subject,
            "test": f.test,
            "p_adjusted": f.p_adjusted,
            "effect_size": f.effect_size,
            "significant": f.significant,
        }
        for f in chosen
    ]
    summary = {
        "tests": sum(f.testable and not f.descriptive for f in chosen),
        "descriptive": sum(f.descriptive for f in chosen),
        "significant": sum(f.significant for f in chosen),
        "not_testable": sum(not f.testable for f in chosen),
        "alpha": call.alpha,
    }
    step = StepResult(
        id=call.step_id,
        type=call.step_type,
        status="completed",
        columns=list(rows[0]) if rows else [],
        rows=rows,
        summary=summary,
    )
    return ToolOutput(step)
