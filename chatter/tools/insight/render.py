"""The deterministic renderer: findings grouped into stories, ranked by effect strength.

A story is one (step, metric, dimension): its omnibus test leads, its strongest significant
tests follow as clauses, and a descriptive headline of the same step opens it. Significant
stories come first (strongest effect, then smallest adjusted p), then headlines of steps with
nothing significant, then what was not found and what could not be tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chatter.result import CAVEAT, Finding, Insight, StepResult
from chatter.tools.insight import clauses
from chatter.tools.insight.evidence import matching_row
from chatter.tools.insight.headlines import Headline, headlines
from chatter.tools.insight.wording import humanise, number, p_text

MAX_CLAUSES = 3


@dataclass
class Story:
    """The significant findings of one (step, metric, dimension) and how strong they are."""

    key: tuple[str, str, str]
    members: list[int] = field(default_factory=list)
    omnibus: int | None = None

    def rank(self, findings: Sequence[Finding]) -> tuple[float, float, int]:
        shown = [i for i in self.members if findings[i].significant]
        best = max(clauses.strength(findings[i]) for i in shown)
        p = min(findings[i].p_adjusted or 1.0 for i in shown)
        return (-best, p, min(self.members))


def _dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _stories(findings: Sequence[Finding]) -> list[Story]:
    stories: dict[tuple[str, str, str], Story] = {}
    for i, f in enumerate(findings):
        if not f.testable:
            continue
        key = (f.source_step or "", f.metric, f.dimension or "")
        story = stories.setdefault(key, Story(key))
        if f.segment is None and f.subject is None and f.test in clauses.OMNIBUS_TESTS:
            story.omnibus = i if story.omnibus is None else story.omnibus
        else:
            story.members.append(i)
    for story in stories.values():
        if story.omnibus is not None:
            story.members.insert(0, story.omnibus)
    return [s for s in stories.values() if any(findings[i].significant for i in s.members)]


def _story_insight(
    story: Story,
    findings: Sequence[Finding],
    steps: dict[str, StepResult],
    headline: Headline | None,
) -> Insight:
    omnibus = story.omnibus
    items = sorted(
        (i for i in story.members if i != omnibus and findings[i].significant),
        key=lambda i: (-clauses.strength(findings[i]), findings[i].p_adjusted or 1.0, i),
    )[:MAX_CLAUSES]
    if omnibus is None and len(items) == 1 and clauses.is_omnibus(findings[items[0]]):
        omnibus, items = items[0], []  # a single omnibus test about a subject leads alone
    evidence: list[str] = []
    first = findings[items[0]] if items else findings[story.members[0]]
    if omnibus is not None and findings[omnibus].significant:
        lead = clauses.omnibus_lead(findings[omnibus])
        evidence.append(f"findings[{omnibus}]")
        if not items:
            shown = clauses.spread(findings[omnibus])
            lead += f": {shown}" if shown else ""
    elif items and all(findings[i].test in clauses.TREND_TESTS for i in items):
        lead = clauses.trend_lead(first)
    else:
        sizes = {findings[i].n for i in items}
        n = f" (n = {number(sizes.pop())})" if len(sizes) == 1 else ""
        by = humanise(first.dimension or "segment")
        lead = f"{clauses.capitalise(humanise(first.metric))} by {by}{n}"
    parts = []
    for i in items:
        parts.append(clauses.clause(findings[i]))
        evidence.append(f"findings[{i}]")
        row = matching_row(steps.get(findings[i].source_step or ""), findings[i])
        if row is not None:
            evidence.append(f"steps.{findings[i].source_step}.rows[{row}]")
    text = lead + (": " + "; ".join(parts) if parts else "") + "."
    alike = next((i for i in story.members if _is_alike(findings[i])), None)
    if alike is not None and items:
        kept = set(findings[alike].compared_with or [])
        unproven = [
            i
            for i in story.members
            if findings[i].compared_with
            and findings[i].segment not in kept | {None}
            and not findings[i].significant
        ]
        text += " " + clauses.alike_sentence(findings[alike], [findings[i] for i in unproven])
        evidence += [f"findings[{i}]" for i in [alike, *unproven]]
    stated = [findings[i] for i in ([omnibus] if omnibus is not None else []) + items]
    text += _caveats(stated)
    evidence += _data_quality_evidence(stated, steps)
    if headline is not None:
        text = f"{headline.text} {text[0].upper()}{text[1:]}"
        evidence = [*headline.evidence, *evidence]
    return Insight(text=text, evidence=_dedupe(evidence))


def _is_alike(finding: Finding) -> bool:
    """The descriptive chi-square across a dimension's alike levels (segment_structure)."""
    return finding.descriptive and finding.segment is None and bool(finding.compared_with)


def _caveats(shown: Sequence[Finding]) -> str:
    """The caveats of the findings an insight states, each once, as sentences of its own."""
    said = dict.fromkeys(
        w[len(CAVEAT) :].strip().rstrip(".")
        for f in shown
        for w in f.warnings
        if w.startswith(CAVEAT)
    )
    return "".join(f" {clauses.capitalise(c)}." for c in said if c)


def _data_quality_evidence(shown: Sequence[Finding], steps: dict[str, StepResult]) -> list[str]:
    """The step summary a data-quality caveat states (its snapshot and the rows left out),
    cited when a stated finding's caveat names that snapshot."""
    out = []
    for step_id in dict.fromkeys(f.source_step for f in shown if f.source_step):
        summary = steps[step_id].summary if step_id in steps else {}
        date = summary.get("snapshot_date")
        if not (summary.get("left_out") and isinstance(date, str)):
            continue
        if any(date in w for f in shown if f.source_step == step_id for w in f.warnings):
            out += [f"steps.{step_id}.summary.snapshot_date", f"steps.{step_id}.summary.left_out"]
    return out


def _null_insight(
    findings: Sequence[Finding], alpha: float, correction: str, steps: Sequence[StepResult]
) -> Insight | None:
    tested = [i for i, f in enumerate(findings) if f.testable and f.p_adjusted is not None]
    if not tested:
        return None
    closest = min(tested, key=lambda i: (findings[i].p_adjusted or 1.0, i))
    kind = "test" if len(tested) == 1 else "tests"
    text = (
        f"No significant difference was found: none of the {number(len(tested))} {kind} "
        f"reached significance at alpha {alpha:g} after {clauses.correction_name(correction)} "
        f"correction; the closest was {clauses.label(findings[closest])} "
        f"({p_text(findings[closest].p_adjusted)})."
    )
    evidence = [f"findings[{i}]" for i in tested]
    # A step that states the run's alpha (a roll-up) is cited for it; else alpha is a setting.
    stating = [s.id for s in steps if s.summary.get("alpha") == alpha]
    evidence += [f"steps.{stating[0]}.summary.alpha"] if stating else []
    return Insight(text=text, evidence=evidence)


def _untested_insight(findings: Sequence[Finding]) -> Insight | None:
    untested = [i for i, f in enumerate(findings) if not f.testable]
    if not untested:
        return None
    shown = [f"{clauses.label(findings[i])} ({findings[i].reason})" for i in untested[:3]]
    kind = "test" if len(untested) == 1 else "tests"
    more = "; ..." if len(untested) > 3 else ""
    text = f"{number(len(untested))} {kind} could not run: {'; '.join(shown)}{more}."
    return Insight(text=text, evidence=[f"findings[{i}]" for i in untested])


def render_insights(
    steps: Sequence[StepResult],
    findings: Sequence[Finding],
    *,
    alpha: float = 0.05,
    max_insights: int = 8,
    correction: str = "bh",
) -> list[Insight]:
    """Ranked insights from a run's steps (template order) and its corrected findings (final
    order, cited as ``findings[i]``). Deterministic: the same input gives the same text."""
    by_id = {s.id: s for s in steps}
    tops = {h.step: h for h in headlines(steps, findings)}
    stories = sorted(_stories(findings), key=lambda s: s.rank(findings))
    out: list[Insight] = []
    for story in stories:
        out.append(_story_insight(story, findings, by_id, tops.pop(story.key[0], None)))
    rest = [Insight(text=h.text, evidence=h.evidence) for h in tops.values()]
    null = None if stories else _null_insight(findings, alpha, correction, steps)
    untested = _untested_insight(findings)
    ordered = [*([null] if null else []), *out, *rest, *([untested] if untested else [])]
    return ordered[: max(max_insights, 0)]
