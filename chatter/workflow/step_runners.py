"""What each kind of step does once its node decides to run it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chatter.result import Finding, Insight, StepResult
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.tools.query import run_query_step
from chatter.tools.registry import ToolSpec
from chatter.tools.stats import correct_findings
from chatter.workflow.state import WorkflowState
from chatter.workflow.template import StepSpec, Template


@dataclass
class StepOutput:
    step: StepResult
    findings: list[Finding] = field(default_factory=list)
    insights: dict[str, Any] | None = None


def run_tool(
    tool: ToolSpec,
    step: StepSpec,
    params: BaseModel,
    warehouse: Warehouse,
    query: SemanticQuery | None,
) -> StepOutput:
    """A query or an analysis tool against the warehouse."""
    from chatter.workflow.charts import chart_spec

    if query is not None:
        result = run_query_step(warehouse, query, step_id=step.id)
        result = result.model_copy(
            update={"chart": chart_spec(result, title=step.description or step.id)}
        )
        return StepOutput(result)
    assert tool.run is not None
    analysis = tool.run(warehouse, params)
    return StepOutput(
        analysis.to_step(step.id, step.type, tool=tool.name),
        [f.model_copy(update={"source_step": step.id}) for f in analysis.findings],
    )


def ordered_findings(
    template: Template, state: WorkflowState
) -> tuple[list[tuple[str, int]], list[Finding]]:
    """Every finding recorded so far, in template step order, with its (step, index) key."""
    keys, findings = [], []
    records = state.get("steps", {})
    for spec in template.steps:
        for k, raw in enumerate(records.get(spec.id, {}).get("findings", [])):
            keys.append((spec.id, k))
            findings.append(Finding.model_validate(raw).model_copy(update={"source_step": spec.id}))
    return keys, findings


def ordered_steps(template: Template, state: WorkflowState) -> list[StepResult]:
    records = state.get("steps", {})
    return [
        StepResult.model_validate(records[s.id]["result"])
        for s in template.steps
        if s.id in records
    ]


def run_roll_up(template: Template, step: StepSpec, state: WorkflowState) -> StepOutput:
    """Upstream findings under the run's one correction, as a table and a summary."""
    upstream = set(step.after)
    _, findings = ordered_findings(template, state)
    corrected = correct_findings(
        [f for f in findings if f.source_step in upstream] or findings,
        alpha=template.alpha,
        method=template.correction,
    )
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
        for f in corrected
    ]
    summary = {
        "tests": sum(f.testable for f in corrected),
        "significant": sum(f.significant for f in corrected),
        "not_testable": sum(not f.testable for f in corrected),
        "alpha": template.alpha,
    }
    return StepOutput(
        StepResult(
            id=step.id,
            type=step.type,
            status="completed",
            columns=list(rows[0]) if rows else [],
            rows=rows,
            summary=summary,
        )
    )


def run_insights(
    template: Template, step: StepSpec, params: BaseModel, state: WorkflowState
) -> StepOutput:
    """Ranked insights over everything the run has found so far, reworded by the LLM only
    when one is configured and only where every number still matches its evidence."""
    from chatter.llm import get_llm
    from chatter.tools.insight import collect_evidence, render_insights, reword_insights

    keys, findings = ordered_findings(template, state)
    findings = correct_findings(findings, alpha=template.alpha, method=template.correction)
    steps = [s for s in ordered_steps(template, state) if s.id != step.id]
    insights = render_insights(
        steps, findings, alpha=template.alpha, max_insights=getattr(params, "max_insights", 8)
    )
    outcome = reword_insights(insights, collect_evidence(steps, findings), get_llm())
    rows = [i.model_dump(mode="json") for i in outcome.insights]
    return StepOutput(
        StepResult(
            id=step.id,
            type=step.type,
            status="completed",
            columns=["text", "evidence"],
            rows=rows,
            summary={
                "insights": len(rows),
                "reworded": outcome.reworded,
                "rejected_rewordings": outcome.rejected,
            },
        ),
        insights={
            "items": rows,
            "finding_keys": keys,
            "llm_tokens": outcome.tokens,
            "reworded": outcome.reworded,
            "rejected": outcome.rejected,
        },
    )


def remap_evidence(
    insights: list[Insight], cited: list[tuple[str, int]], final: dict[tuple[str, int], int]
) -> list[Insight]:
    """Point ``findings[i]`` evidence at the run's final finding order."""
    out = []
    for insight in insights:
        evidence = []
        for ref in insight.evidence:
            if ref.startswith("findings[") and ref.endswith("]"):
                i = int(ref[len("findings[") : -1])
                if 0 <= i < len(cited) and tuple(cited[i]) in final:
                    ref = f"findings[{final[tuple(cited[i])]}]"  # type: ignore[index]
            evidence.append(ref)
        out.append(insight.model_copy(update={"evidence": evidence}))
    return out
