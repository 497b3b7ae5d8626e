"""Insight generation: ranked sentences about a run, each citing the evidence of its numbers.

``render_insights`` is deterministic and complete on its own. ``reword_insights`` lets an
optional LLM reword them through structured output; a rewording that cites evidence the
original did not, or states a number its evidence does not hold, is rejected and the
deterministic text kept. ``collect_evidence`` maps evidence ids to what they point at.
"""

from collections.abc import Iterable, Sequence

from chatter.result import Finding, Insight, StepResult
from chatter.tools.insight.evidence import (
    EvidenceError,
    collect_evidence,
    parse_evidence_id,
    resolve_evidence,
)
from chatter.tools.insight.numbers import numbers_in, unsupported_numbers
from chatter.tools.insight.render import render_insights
from chatter.tools.insight.reword import (
    RewordedInsight,
    RewordedInsights,
    RewordOutcome,
    reword_insights,
)

__all__ = [
    "EvidenceError",
    "RewordOutcome",
    "RewordedInsight",
    "RewordedInsights",
    "audit_insights",
    "collect_evidence",
    "numbers_in",
    "parse_evidence_id",
    "render_insights",
    "resolve_evidence",
    "reword_insights",
    "unsupported_numbers",
]


def audit_insights(
    insights: Sequence[Insight],
    steps: Sequence[StepResult],
    findings: Sequence[Finding],
    *,
    parameters: Iterable[float] = (),
) -> list[str]:
    """Problems with ``insights`` against the run they describe: evidence ids that do not
    resolve, and numbers a text states that its evidence does not hold (``parameters`` are run
    settings a text may name, such as alpha). Empty when every insight is faithful."""
    problems, allowed = [], list(parameters)
    for n, insight in enumerate(insights):
        values = []
        for evidence_id in insight.evidence:
            try:
                values.append(resolve_evidence(evidence_id, steps, findings))
            except EvidenceError as exc:
                problems.append(f"insight {n}: {exc.args[0]}")
        if not insight.evidence:
            problems.append(f"insight {n}: cites no evidence")
        for number in unsupported_numbers(insight.text, values, parameters=allowed):
            problems.append(f"insight {n}: {number!r} is not in its evidence")
    return problems
