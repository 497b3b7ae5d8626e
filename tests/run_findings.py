"""What a run's correction node does, for tests that run analyses on their own: every
result's findings tagged with its step and corrected once, in one family."""

from __future__ import annotations

from collections.abc import Mapping

from chatter.result import Finding
from chatter.tools.analyses import AnalysisResult
from chatter.tools.stats import correct_findings


def corrected(results: Mapping[str, AnalysisResult], *, alpha: float = 0.05) -> list[Finding]:
    tagged = [
        f.model_copy(update={"source_step": step})
        for step, result in results.items()
        for f in result.findings
    ]
    return correct_findings(tagged, alpha=alpha)
