"""The deterministic insight renderer on findings made by the real tests (no database): ranked
stories with direction words, evidence that resolves, numbers that match their evidence."""

from __future__ import annotations

import doctest
import re
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chatter.number_text
import chatter.tools.insight.clauses
import chatter.tools.insight.evidence
import chatter.tools.insight.numbers
import chatter.tools.insight.wording
from chatter.result import Finding, StepResult
from chatter.tools.analyses.result import to_finding
from chatter.tools.insight import (
    EvidenceError,
    audit_insights,
    collect_evidence,
    numbers_in,
    parse_evidence_id,
    render_insights,
    resolve_evidence,
    unsupported_numbers,
)
from chatter.tools.insight.wording import number, p_text, percent, points
from chatter.tools.stats import (
    GroupStats,
    TestResult,
    anova_test,
    chi_square_test,
    correct_findings,
    correlation_pairs,
    fisher_exact_test,
    kruskal_wallis_test,
    level_vs_rest_test,
    mann_kendall_test,
    mann_whitney_test,
    ols_trend_test,
    pearson_test,
    two_proportion_test,
    welch_t_test,
)

ALPHA = 0.05
# Level names no code could know: a made-up product with regions, channels and widgets.
REGIONS = {"north": (300, 1000), "south": (180, 1000), "east": (240, 1000), "west": (236, 1000)}
WIDGETS = ["orbit", "lantern", "quill"]


def segment_step(metric: str, dimension: str, levels: dict[str, tuple[int, int]]):
    """What segment_rate_tests returns for one dimension: rows and uncorrected findings."""
    hits_all, n_all = sum(h for h, _ in levels.values()), sum(n for _, n in levels.values())
    rows, findings = [], []
    table = [[h, n - h] for h, n in levels.values()]
    findings.append(
        to_finding(
            chi_square_test(table, list(levels), ("hit", "miss")),
            metric=metric,
            dimension=dimension,
        )
    )
    for level, (h, n) in levels.items():
        rest_h, rest_n = hits_all - h, n_all - n
        rows.append(
            {
                "dimension": dimension,
                "segment": level,
                "users": n,
                "hits": h,
                metric: h / n,
                f"{metric}_rest": rest_h / rest_n,
            }
        )
        findings.append(
            to_finding(
                level_vs_rest_test(h, n, rest_h, rest_n, label=level),
                metric=metric,
                dimension=dimension,
                segment=level,
            )
        )
    return rows, findings


def churn_step():
    rows, findings = [], []
    for widget, (c_a, n_a, c_r, n_r) in zip(
        WIDGETS, [(40, 400, 150, 600), (100, 400, 90, 600), (19, 100, 171, 900)], strict=True
    ):
        rows.append({"feature": widget, "adopters": n_a, "adopter_churn_rate": c_a / n_a})
        findings.append(
            to_finding(
                level_vs_rest_test(c_a, n_a, c_r, n_r, label=widget),
                metric="churn_rate",
                dimension="widget",
                segment=widget,
                subject=f"adopters of {widget} vs non-adopters",
            )
        )
    return rows, findings


def correlation_step():
    rng = np.random.default_rng(3)
    latent = rng.normal(size=2000)
    matrix = np.column_stack(
        [latent + rng.normal(size=2000), latent + rng.normal(size=2000), rng.normal(size=2000)]
    )
    rows, findings = [], []
    for a, b, result in correlation_pairs(matrix, WIDGETS, "spearman"):
        rows.append({"feature_a": a, "feature_b": b, "correlation": result.effect_size})
        findings.append(
            to_finding(result, metric="usage_correlation", dimension="widget", subject=f"{a} ~ {b}")
        )
    return rows, findings


def growth_step():
    series = [1000.0 * 1.1**i + (37.0 if i % 3 == 0 else 0.0) for i in range(12)]
    periods = [f"2031-{m:02d}-01" for m in range(1, 13)]
    growths = [v / series[i - 1] - 1 for i, v in enumerate(series) if i]
    rows: list[dict[str, Any]] = [
        {"period": p, "bookings": v, "growth": growths[i - 1] if i else None}
        for i, (p, v) in enumerate(zip(periods, series, strict=True))
    ]
    summary = {
        "periods": 12,
        "first": series[0],
        "last": series[-1],
        "compound_growth": (series[-1] / series[0]) ** (1 / 11) - 1,
        "median_growth": float(np.median(growths)),
        "periods_growing": sum(g > 0 for g in growths),
        "periods_compared": len(growths),
    }
    findings = [
        to_finding(test(series), metric="bookings", dimension="quarter", subject="trend over time")
        for test in (ols_trend_test, mann_kendall_test)
    ]
    return rows, findings, summary


def run(
    parts: dict[str, tuple[list[dict[str, Any]], list[Finding], dict[str, Any]]],
) -> tuple[list[StepResult], list[Finding]]:
    steps, tagged = [], []
    for step_id, (rows, findings, summary) in parts.items():
        steps.append(
            StepResult(id=step_id, type="analysis", status="completed", rows=rows, summary=summary)
        )
        tagged += [f.model_copy(update={"source_step": step_id}) for f in findings]
    return steps, correct_findings(tagged, alpha=ALPHA)


@pytest.fixture(scope="module")
def made_run() -> tuple[list[StepResult], list[Finding]]:
    seg_rows, seg_findings = segment_step("signup_rate", "region", REGIONS)
    churn_rows, churn_findings = churn_step()
    corr_rows, corr_findings = correlation_step()
    growth_rows, growth_findings, growth_summary = growth_step()
    return run(
        {
            "regions": (seg_rows, seg_findings, {}),
            "retention": (churn_rows, churn_findings, {}),
            "pairs": (corr_rows, corr_findings, {}),
            "growth": (growth_rows, growth_findings, growth_summary),
        }
    )


def clause_with(text: str, name: str) -> str:
    """The clause of an insight that names ``name`` (clauses are separated by ';')."""
    return next(c for c in re.split(r"[;:]\s", text) if name in c)


def test_stories_are_ranked_one_per_dimension_with_direction_words(made_run) -> None:
    steps, findings = made_run
    insights = render_insights(steps, findings, alpha=ALPHA)
    texts = [i.text for i in insights]
    assert texts[0].startswith("Bookings grew from"), texts  # the strongest effect leads
    region = [t for t in texts if "across region" in t]
    assert len(region) == 1  # omnibus + levels read as one story
    assert "lower for south" in clause_with(region[0], "south")
    assert "higher for north" in clause_with(region[0], "north")
    churn = next(t for t in texts if "adopters of orbit" in t)
    assert "lower for adopters of orbit vs non-adopters" in churn
    assert "higher for adopters of lantern vs non-adopters" in churn
    pair = next(t for t in texts if "correlated" in t)
    assert "orbit and lantern are positively correlated" in pair
    assert "quill" not in pair  # independent pairs are not reported as findings
    assert "rises quarter over quarter" in texts[0] and "rising by" in texts[0]


def test_every_evidence_id_resolves_and_every_number_is_in_its_evidence(made_run) -> None:
    steps, findings = made_run
    insights = render_insights(steps, findings, alpha=ALPHA)
    assert insights and all(i.evidence for i in insights)
    assert audit_insights(insights, steps, findings) == []
    evidence = collect_evidence(steps, findings)
    assert {e for i in insights for e in i.evidence} <= set(evidence)


def test_rows_cited_hold_the_quoted_level(made_run) -> None:
    steps, findings = made_run
    for insight in render_insights(steps, findings, alpha=ALPHA):
        for ref in insight.evidence:
            if ".rows[" in ref:
                row = resolve_evidence(ref, steps, findings)
                assert any(isinstance(v, str) and v in insight.text for v in row.values())


def test_rendering_is_deterministic(made_run) -> None:
    steps, findings = made_run
    first = render_insights(steps, findings, alpha=ALPHA)
    assert first == render_insights(list(steps), list(findings), alpha=ALPHA)
    assert [i.model_dump() for i in first] == [
        i.model_dump() for i in render_insights(steps, findings, alpha=ALPHA)
    ]


def test_max_insights_caps_the_list(made_run) -> None:
    steps, findings = made_run
    assert len(render_insights(steps, findings, max_insights=2)) == 2
    assert render_insights(steps, findings, max_insights=0) == []


def null_findings(k: int = 6) -> list[Finding]:
    rng = np.random.default_rng(11)
    out = []
    for i in range(k):
        out.append(
            Finding(
                metric="signup_rate",
                dimension="region",
                segment=f"zone_{i}",
                test="two_proportion_z",
                p_value=float(rng.uniform(0.2, 0.9)),
                effect_size=float(rng.uniform(-0.05, 0.05)),
                effect_size_name="cohens_h",
                estimates={"rate": 0.2, "rate_rest": 0.21, "difference": -0.01},
                n=900,
                source_step="regions",
            )
        )
    return out


def test_nothing_significant_says_so_once_with_count_alpha_and_correction() -> None:
    findings = correct_findings(null_findings(), alpha=ALPHA)
    steps = [StepResult(id="regions", type="statistical_test", status="completed")]
    insights = render_insights(steps, findings, alpha=ALPHA)
    assert len(insights) == 1
    text = insights[0].text
    assert text.startswith("No significant difference was found")
    assert "6 tests" in text and "alpha 0.05" in text and "Benjamini-Hochberg" in text
    assert insights[0].evidence == [f"findings[{i}]" for i in range(6)]
    assert audit_insights(insights, steps, findings, parameters=[ALPHA]) == []


def test_a_step_that_states_alpha_is_cited_for_it() -> None:
    findings = correct_findings(null_findings(), alpha=ALPHA)
    roll_up = StepResult(
        id="validation", type="aggregation", status="completed", summary={"alpha": ALPHA}
    )
    insights = render_insights([roll_up], findings, alpha=ALPHA)
    assert insights[0].evidence[-1] == "steps.validation.summary.alpha"
    assert audit_insights(insights, [roll_up], findings) == []  # no parameter needed


def test_not_testable_findings_are_mentioned_with_their_reason() -> None:
    findings = [
        *correct_findings(null_findings(2), alpha=ALPHA),
        Finding(
            metric="signup_rate",
            dimension="region",
            segment="zone_9",
            test="two_proportion_z",
            testable=False,
            reason="the outcome does not vary: no observation is a success",
        ),
    ]
    insights = render_insights([], findings, alpha=ALPHA)
    assert insights[-1].text.startswith("1 test could not run")
    assert "no observation is a success" in insights[-1].text
    assert insights[-1].evidence == ["findings[2]"]
    assert "2 tests" in insights[0].text


def test_no_findings_and_no_steps_give_no_insights() -> None:
    assert render_insights([], []) == []


def test_evidence_ids_parse_resolve_and_fail_loudly(made_run) -> None:
    steps, findings = made_run
    assert parse_evidence_id("steps.growth.summary.first") == (
        "steps",
        "growth",
        ["summary", "first"],
    )
    assert resolve_evidence("steps.growth.summary.periods", steps, findings) == 12
    assert resolve_evidence("findings[0]", steps, findings)["dimension"] == "region"
    for bad in ("findings[999]", "steps.nope.rows[0]", "steps.growth.rows[99]", "rows[0]", "x"):
        with pytest.raises(EvidenceError):
            resolve_evidence(bad, steps, findings)
    some = collect_evidence(steps, findings, ["findings[1]", "steps.growth.rows[0]", "bad"])
    assert set(some) == {"findings[1]", "steps.growth.rows[0]"}


def test_number_checker_reads_formats_people_use() -> None:
    read = [(q.text, round(q.value, 6), q.bound) for q in numbers_in("p < 0.001, $3.8M, 1,234")]
    assert read == [("< 0.001", 0.001, "<"), ("$3.8M", 3_800_000.0, None), ("1,234", 1234.0, None)]
    evidence = [{"rate": 0.1393, "segment": "1-10", "period": "2031-04-01", "p_adjusted": 2e-9}]
    assert unsupported_numbers("1-10 converts at 13.9% (p < 0.001) in 2031-04", evidence) == []
    assert unsupported_numbers("13.93%, or 14%", evidence) == []
    assert unsupported_numbers("19.3%", evidence) == ["19.3%"]
    assert unsupported_numbers("13.9 points and 0.14", evidence) == []
    assert unsupported_numbers("p < 1e-12", evidence) == ["< 1e-12"]
    assert unsupported_numbers("alpha 0.05", evidence, parameters=[0.05]) == []


@given(st.floats(min_value=-1e7, max_value=1e7, allow_nan=False))
def test_every_formatted_number_is_matched_by_its_value(value: float) -> None:
    for text in (number(value), percent(value / 1e7), points(value / 1e7)):
        source = value if text == number(value) else value / 1e7
        assert unsupported_numbers(text, [{"x": source}]) == [], text


@given(st.floats(min_value=0, max_value=1))
def test_every_p_value_text_is_matched_by_its_value(p: float) -> None:
    assert unsupported_numbers(p_text(p), [{"p_adjusted": p}]) == []


RNG = np.random.default_rng(5)
X = RNG.normal(size=300)
KINDS: dict[str, tuple[TestResult, dict[str, str | None]]] = {
    "fisher": (fisher_exact_test(9, 12, 20, 200, label="kiosk"), {"segment": "kiosk"}),
    "z": (two_proportion_test(90, 300, 30, 300, label="A"), {"segment": "A", "subject": "A vs B"}),
    "welch": (
        welch_t_test(
            GroupStats(n=80, mean=9.0, variance=4.0),
            GroupStats(n=90, mean=5.0, variance=4.0),
            ("pro", "rest"),
        ),
        {"segment": "pro", "subject": "quill"},
    ),
    "mann_whitney": (mann_whitney_test(X + 2, X, ("pro", "rest")), {"segment": "pro"}),
    "anova": (
        anova_test(
            {"x1": GroupStats(n=50, mean=1, variance=1), "x2": GroupStats(n=50, mean=3, variance=1)}
        ),
        {},
    ),
    "kruskal": (kruskal_wallis_test({"tier-1": X, "tier-2": X + 3}), {"subject": "depth"}),
    "pearson": (pearson_test(X, X + RNG.normal(size=300)), {"subject": "depth"}),
    "spearman": (
        correlation_pairs(np.column_stack([X, -X + RNG.normal(size=300)]), ["u", "v"], "spearman")[
            0
        ][2],
        {"subject": "u ~ v"},
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_test_renders_faithfully(kind: str) -> None:
    result, names = KINDS[kind]
    finding = to_finding(result, metric="score_rate", dimension="tier", **names)
    findings = correct_findings([finding.model_copy(update={"source_step": "s"})])
    assert findings[0].significant
    insights = render_insights([], findings)
    assert len(insights) == 1 and insights[0].evidence == ["findings[0]"]
    assert audit_insights(insights, [], findings) == []
    for name in names.values():
        assert name is None or name.split(" ~ ")[0] in insights[0].text
    if kind == "spearman":
        assert "u and v are negatively correlated" in insights[0].text
    if kind == "welch":
        assert "higher mean for pro vs rest on quill (9.00 vs 5.00" in insights[0].text


@pytest.mark.parametrize(
    "module",
    [
        chatter.tools.insight.clauses,
        chatter.tools.insight.evidence,
        chatter.tools.insight.wording,
        chatter.tools.insight.numbers,
        chatter.number_text,
    ],
    ids=lambda m: m.__name__,
)
def test_docstring_examples_run(module: ModuleType) -> None:
    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0


def test_a_small_sample_is_said_in_the_sentence_it_qualifies() -> None:
    """Welch's t on groups under 30 is stated with its caveat in the insight's own text; on
    large groups the same difference is stated without it."""
    for n, caveat in ((12, True), (400, False)):
        result = welch_t_test(
            GroupStats(n=n, mean=14.0, variance=9.0),
            GroupStats(n=n, mean=9.0, variance=9.0),
            labels=("orbit", "quill"),
        )
        finding = to_finding(result, metric="uses_per_account", dimension="widget")
        findings = correct_findings([finding])
        step = StepResult(id="widgets", type="analysis", status="completed", rows=[])
        insights = render_insights([step], findings, alpha=ALPHA, max_insights=5)
        said = " ".join(i.text for i in insights)
        assert findings[0].significant, said
        assert ("The groups are small, so Welch's t leans on roughly normal data" in said) is caveat
        assert audit_insights(insights, [step], findings) == []
