"""Evidence ids and what they point at.

``findings[i]`` is the i-th finding of the run; ``steps.<step_id>.rows[j]`` a row of a step;
``steps.<step_id>.summary.<key>`` a summary value. The renderer cites no deeper than that, so
the same ids resolve in the result JSON with the plainest reader; deeper paths (``[2]`` or
``.2`` for a list item) are accepted here.

>>> parse_evidence_id("steps.expansion_opportunities.summary.plans[2].candidates")
('steps', 'expansion_opportunities', ['summary', 'plans', 2, 'candidates'])
>>> parse_evidence_id("steps.expansion_opportunities.summary.plans.2")
('steps', 'expansion_opportunities', ['summary', 'plans', 2])
>>> parse_evidence_id("findings[3]")
('findings', None, [3])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chatter.result import Finding, StepResult

_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\.(\d+)(?![\w-])")
_STEP = re.compile(r"^steps\.([A-Za-z0-9_-]+)")


class EvidenceError(KeyError):
    """An evidence id that does not parse or does not point at anything."""


def parse_evidence_id(evidence_id: str) -> tuple[str, str | None, list[str | int]]:
    """(root, step id or None, path) of an evidence id; raises ``EvidenceError`` if malformed."""
    if evidence_id.startswith("findings["):
        root, step, rest = "findings", None, evidence_id[len("findings") :]
    else:
        head = _STEP.match(evidence_id)
        if head is None:
            raise EvidenceError(f"not an evidence id: {evidence_id!r}")
        root, step, rest = "steps", head.group(1), evidence_id[head.end() :]
    path: list[str | int] = []
    position = 0
    for match in _PART.finditer(rest):
        if match.start() != position:
            break
        key, index = match.group(1), match.group(2) or match.group(3)
        path.append(key if key is not None else int(index))
        position = match.end()
    if position != len(rest) or not path:
        raise EvidenceError(f"not an evidence id: {evidence_id!r}")
    return root, step, path


def _walk(value: Any, path: Sequence[str | int], evidence_id: str) -> Any:
    for part in path:
        found = (isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value)) or (
            isinstance(part, str) and isinstance(value, Mapping) and part in value
        )
        if not found:
            raise EvidenceError(f"{evidence_id!r} points at nothing")
        value = value[part]
    return value


def resolve_evidence(
    evidence_id: str, steps: Sequence[StepResult], findings: Sequence[Finding]
) -> Any:
    """The value an evidence id points at (a finding or row as a dict, a summary number...)."""
    root, step_id, path = parse_evidence_id(evidence_id)
    if root == "findings":
        index = path[0]
        if not isinstance(index, int) or not 0 <= index < len(findings):
            raise EvidenceError(f"{evidence_id!r} points at nothing")
        return _walk(findings[index].model_dump(mode="json"), path[1:], evidence_id)
    step = next((s for s in steps if s.id == step_id), None)
    if step is None or path[0] not in ("rows", "summary"):
        raise EvidenceError(f"{evidence_id!r} points at nothing")
    return _walk(step.model_dump(mode="json", include={"rows", "summary"}), path, evidence_id)


def collect_evidence(
    steps: Sequence[StepResult], findings: Sequence[Finding], ids: Iterable[str] | None = None
) -> dict[str, Any]:
    """Evidence id -> value: for ``ids`` when given (ids that do not resolve are left out),
    otherwise for every finding, every row and every summary value of the run."""
    if ids is not None:
        out: dict[str, Any] = {}
        for evidence_id in ids:
            try:
                out[evidence_id] = resolve_evidence(evidence_id, steps, findings)
            except EvidenceError:
                continue
        return out
    out = {f"findings[{i}]": f.model_dump(mode="json") for i, f in enumerate(findings)}
    for step in steps:
        dumped = step.model_dump(mode="json", include={"rows", "summary"})
        for j, row in enumerate(dumped["rows"]):
            out[f"steps.{step.id}.rows[{j}]"] = row
        for key, value in dumped["summary"].items():
            if re.fullmatch(r"[A-Za-z_][\w-]*", str(key)):
                out[f"steps.{step.id}.summary.{key}"] = value
    return out


def _labels(finding: Finding) -> tuple[list[set[str]], set[str]]:
    """(alternative label sets a matching row must hold one of, labels that rank matches)."""
    options: list[set[str]] = []
    if finding.subject and " ~ " in finding.subject:
        options.append(set(finding.subject.split(" ~ ")))
    else:
        options += [{x} for x in (finding.segment, finding.subject) if x]
    context = {x for x in (finding.dimension, finding.metric) if x}
    return options, context


def matching_row(step: StepResult | None, finding: Finding) -> int | None:
    """Index of the row of ``step`` about the same level, feature or pair as ``finding``: it
    holds the finding's segment or subject (both features of a pair); ties go to the row
    naming more of its context, and a tie that remains leaves no row (none beats a wrong one)."""
    if step is None or not step.rows:
        return None
    options, context = _labels(finding)
    scored = []
    for j, row in enumerate(step.rows):
        values = {v for v in row.values() if isinstance(v, str)}
        held = [labels for labels in options if labels <= values]
        if held:
            scored.append((len(held), len(context & values), j))
    if not scored:
        return None
    best = max(score[:2] for score in scored)
    top = [j for *score, j in scored if tuple(score) == best]
    return top[0] if len(top) == 1 else None
