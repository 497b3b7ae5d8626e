"""What the terminal report writes for a finding and for an insight's evidence: the finding
named by what it compared, its effect size by name, and evidence ids as references a reader
can find on the page (``findings[2]`` is "finding 3", the number the findings table shows).

>>> from chatter.result import Finding
>>> finding_label(Finding(metric="uses_per_account", dimension="activity_tier",
...     segment="power users", subject="alpha", test="welch_t"))
'uses per account, alpha: power users vs rest'
>>> effect_label(Finding(metric="m", test="chi_square", effect_size=0.1135))
"Cramér's V 0.11"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from chatter.number_text import number, percent
from chatter.result import Finding, StepResult, WorkflowResult
from chatter.tools.insight.clauses import keyed_estimates
from chatter.tools.insight.evidence import EvidenceError, parse_evidence_id
from chatter.tools.insight.wording import TEST_NAMES, effect_text, humanise

# The effect size each test reports, for findings that do not carry its name.
EFFECT_OF_TEST = {
    "chi_square": "cramers_v",
    "two_proportion_z": "cohens_h",
    "fisher_exact": "odds_ratio",
    "welch_t": "hedges_g",
    "mann_whitney_u": "rank_biserial",
    "anova": "eta_squared",
    "kruskal_wallis": "epsilon_squared",
    "spearman": "rho",
    "pearson": "r",
    "ols_trend": "r_squared",
    "mann_kendall": "kendall_tau",
    "poisson_rate_ratio": "rate_ratio",
    "poisson_homogeneity": "max_rate_ratio",
}


def effect_name(finding: Finding) -> str | None:
    """The effect size's key (``cohens_h``): the finding's own, else its test's."""
    return finding.effect_size_name or EFFECT_OF_TEST.get(finding.test)


def effect_label(finding: Finding) -> str:
    """``Cohen's h -0.30``; a dash when the test gave no effect size."""
    return effect_text(effect_name(finding), finding.effect_size) or "-"


def effect_name_width(finding: Finding) -> int:
    """Width of the effect size's name, which a table keeps on one line."""
    return len(effect_label(finding).rpartition(" ")[0])


def test_label(finding: Finding) -> str:
    return TEST_NAMES.get(finding.test, humanise(finding.test))


def finding_label(finding: Finding) -> str:
    """What a finding compared, from its own fields: the measure (and what it is about), then
    who against whom, or ``across <dimension>`` for a test across all levels."""
    head = humanise(finding.metric)
    subject = finding.subject
    if subject and " vs " in subject:  # the subject says who is compared (adopters vs not)
        return f"{head}: {subject}"
    if subject:
        head = f"{head}, {subject}"
    elif finding.dimension:
        by = humanise(finding.dimension)
        head = f"{head} by {by}" if finding.segment is not None else f"{head} across {by}"
    if finding.segment is None:
        return head
    return f"{head}: {finding.segment} vs {_reference(finding)}"


def _reference(finding: Finding) -> str:
    """What a level was compared with: the rest, one level, or the alike levels left once the
    deviating ones of its dimension were set aside (listed in the step's table)."""
    alike = getattr(finding, "compared_with", None) or []
    if len(alike) > 1:
        return f"{len(alike)} alike levels"
    return alike[0] if alike else "rest"


def compared_values(finding: Finding) -> str:
    """The two estimates a pairwise test compared (``13.0% vs 24.5%``), rates as percents;
    empty for a test across many levels or with no estimates."""
    estimates = finding.estimates
    if "rate" in estimates and "rate_rest" in estimates:
        return f"{percent(estimates['rate'])} vs {percent(estimates['rate_rest'])}"
    stat, levels = keyed_estimates(finding)
    if len(levels) == 2:
        show: Callable[[float], str] = percent if stat == "rate" else number
        return " vs ".join(show(v) for v in levels.values())
    return ""


def evidence_text(
    ids: Sequence[str], result: WorkflowResult, row_name: Callable[[StepResult, int], str]
) -> str:
    """Evidence ids as references: ``findings 9 and 11; table industry_breakdown, row
    fintech; growth_trends summary: first, last``. ``row_name`` names a step's row."""
    numbers: list[int] = []
    rows: dict[str, list[str]] = {}
    summaries: dict[str, list[str]] = {}
    unread: list[str] = []
    steps = {s.id: s for s in result.steps}
    for evidence_id in ids:
        try:
            root, step_id, path = parse_evidence_id(evidence_id)
        except EvidenceError:
            unread.append(evidence_id)
            continue
        if root == "findings" and isinstance(path[0], int):
            numbers.append(path[0] + 1)
            continue
        step = steps.get(step_id or "")
        where, index = path[0], path[1] if len(path) > 1 else None
        if step is not None and where == "rows" and isinstance(index, int):
            if 0 <= index < len(step.rows):
                rows.setdefault(step.id, []).append(row_name(step, index))
                continue
        elif step is not None and where == "summary" and index is not None:
            summaries.setdefault(step.id, []).append(humanise(str(index)))
            continue
        unread.append(evidence_id)
    parts = []
    if numbers:
        shown = sorted(set(numbers))
        parts.append(f"finding{'s' if len(shown) > 1 else ''} {_listed(map(str, shown))}")
    for step_id, names in rows.items():
        unique = list(dict.fromkeys(names))
        parts.append(f"table {step_id}, row{'s' if len(unique) > 1 else ''} {_listed(unique)}")
    for step_id, keys in summaries.items():
        parts.append(f"{step_id} summary: {_listed(list(dict.fromkeys(keys)))}")
    parts += unread  # an id we cannot place is shown as given rather than hidden
    return "; ".join(parts)


def _listed(items: Iterable[str]) -> str:
    names = list(items)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
