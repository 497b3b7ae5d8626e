"""Insight generation: ranked sentences about a run, each citing the evidence of its numbers.

``render_insights`` is deterministic and complete on its own. ``reword_insights`` lets an
optional LLM reword them through structured output; a rewording that cites evidence the
original did not, or states a number its evidence does not hold, is rejected and the
deterministic text kept. ``collect_evidence`` maps evidence ids to what they point at.
"""

from chatter.tools.insight.audit import audit_insights
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
