"""Checking insights against the run they describe: every evidence id resolves, and every
number a sentence states is held by its evidence (used by tests, benches and reviewers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chatter.result import Finding, Insight, StepResult
from chatter.tools.insight.evidence import EvidenceError, resolve_evidence
from chatter.tools.insight.numbers import unsupported_numbers


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
