"""The result of a run: the JSON document of CONTRACT.md section 3, as pydantic models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

StepType = Literal[
    "query", "statistical_test", "analysis", "insight_generation", "comparison", "aggregation"
]
STEP_TYPES: tuple[str, ...] = StepType.__args__  # type: ignore[attr-defined]


class StepResult(BaseModel):
    """One step of a run. ``sql`` holds every statement the step ran, as run, separated by
    ``;`` and a newline. ``error`` says why a step failed or was skipped."""

    id: str
    type: StepType
    status: Literal["completed", "failed", "skipped"]
    duration_ms: float = 0.0
    sql: str | None = None
    rows: list[dict[str, Any]] = Field(default_factory=list)
    truncated: bool = False
    error: str | None = None
    # Extensions beyond CONTRACT.md section 3 (additive).
    tool: str | None = None
    columns: list[str] = Field(default_factory=list)
    cached: bool = False
    summary: dict[str, Any] = Field(default_factory=dict)  # headline numbers (evidence)
    notes: list[str] = Field(default_factory=list)  # definitions and caveats
    chart: dict[str, Any] | None = None  # a Vega-Lite spec chosen from the rows' shape


#: A finding's warning that the insight about it must say in its own text (an observational
#: association, a small sample, an incomplete period), not only in the notes.
CAVEAT = "caveat: "


class Finding(BaseModel):
    """One statistical test of a run. ``segment`` null: an omnibus test across all levels of
    ``dimension``; otherwise that level against the rest. ``subject`` names what else the test
    is about when the metric alone does not say (a feature, a pair of features)."""

    metric: str
    dimension: str | None = None
    segment: str | None = None
    test: str
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    effect_size: float | None = None
    n: int = 0
    significant: bool = False
    # Extensions beyond CONTRACT.md section 3 (additive).
    subject: str | None = None
    effect_size_name: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_of: str | None = None
    estimates: dict[str, float] = Field(default_factory=dict)
    testable: bool = True
    reason: str | None = None
    warnings: list[str] = Field(default_factory=list)
    source_step: str | None = None
    #: The multiple-comparison correction that set ``p_adjusted`` ("bh" or "holm").
    correction: str | None = None
    #: A comparison true by construction (power users, chosen as the most active, against the
    #: rest on their activity): its p-value is reported, but it is no question the data could
    #: answer either way, so it stays out of the correction family and is never significant.
    descriptive: bool = False
    #: The levels a level was compared with when not all the others: the alike levels of its
    #: dimension once deviating ones are set aside (docs/statistics.md, structure).
    compared_with: list[str] | None = None
    #: The effect held within the strata of each other tested dimension (Mantel-Haenszel):
    #: dimension -> ratio (``measure``: odds ratio, or rate ratio for churn per paying month),
    #: ci_low, ci_high, statistic, p_value, strata and verdict (holds, vanishes,
    #: reverses); a vanishing or reversed effect also carries a caveat in ``warnings``.
    stratified: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Insight(BaseModel):
    text: str
    evidence: list[str] = Field(default_factory=list)


class Route(BaseModel):
    workflow: str
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str


class RunMetrics(BaseModel):
    duration_ms: float = 0.0
    #: Extension: what the caller waited for beyond ``duration_ms`` (modules loaded on first
    #: use, stores opened, the graph compiled, the result stored); on a process's first call
    #: most of its wall time. None where the run was not waited on (a background run).
    setup_ms: float | None = None
    cache_hits: int = 0
    llm_tokens: int = 0
    # Extensions: LLM rewordings kept, and rejected because a number or citation changed.
    insights_reworded: int = 0
    insights_rejected: int = 0


class WorkflowResult(BaseModel):
    workflow: str
    run_id: str
    status: Literal["completed", "partial", "failed", "cancelled"]
    steps: list[StepResult] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    insights: list[Insight] = Field(default_factory=list)
    route: Route | None = None
    metrics: RunMetrics = Field(default_factory=RunMetrics)


class Interpretation(BaseModel):
    """What the analyst understood a question to ask: the structure the answer is built from,
    one plain sentence saying it, and the words it could not use."""

    text: str
    measures: list[str] = Field(default_factory=list)
    dimensions: list[str] = Field(default_factory=list)
    filters: list[dict[str, Any]] = Field(default_factory=list)
    order: list[dict[str, Any]] = Field(default_factory=list)  # {"field", "desc"}
    limit: int | None = None
    unused_words: list[str] = Field(default_factory=list)
    #: The time window the question names: as said, its first and last day, and the field
    #: it was applied to.
    time_window: dict[str, Any] | None = None
    #: The question asks which one ("which channel converts best"): the answer names the top
    #: row, the ranking following as context.
    names_top: bool = False


class Answer(WorkflowResult):
    """An answer to a question, as every surface gives it: the run it stands on (the document
    above; ``workflow`` is ``query`` for one query, ``clarify`` when the analyst asks back,
    ``refused`` when the guard said no), what the analyst says, and what to ask next."""

    text: str = ""
    #: The SemanticQuery answered (follow-ups and refinements edit it); None for workflows.
    query: dict[str, Any] | None = None
    suggestions: list[str] = Field(default_factory=list)
    clarification: bool = False
    #: What a reply to a question back may pick (template names, fields).
    options: list[str] = Field(default_factory=list)
    #: Set when the guard refused the question: ``{"code", "message", ...}``, and no result.
    error: dict[str, Any] | None = None
    #: Where it ran: a database path (None when nothing ran).
    database: str | None = None
    #: What the question was understood to ask (None for a refusal: nothing was read).
    interpretation: Interpretation | None = None
