"""Does a segment's gap hold within the levels of the other tested dimensions? (docs/statistics.md,
"Confounding").

Enterprise may convert worse than the rest only because most enterprise accounts are in slow
industries; within each industry it may convert better. For every level test whose own p-value is
below ``alpha``, the 2x2 table (level vs its comparison group, success or not) is split by each
other tested dimension and pooled with Mantel-Haenszel. The verdict, odds ratio and interval are
kept on the finding; a gap that vanishes or reverses within strata also gets a caveat, so the
insight stating it says so in words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from chatter.result import CAVEAT, Finding
from chatter.tools.analyses.snapshot import listed
from chatter.tools.stats.stratified import MantelHaenszel, Stratum, mantel_haenszel

#: (level of the tested dimension, level of the other) -> (successes, trials)
CrossCounts = dict[tuple[str, str], tuple[int, int]]


def _strata(cross: CrossCounts, level: str, reference: Sequence[str]) -> list[Stratum]:
    ref = set(reference)
    cells: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (own, other), (hits, n) in cross.items():
        if own == level:
            cells[other][0] += hits
            cells[other][1] += n
        elif own in ref:
            cells[other][2] += hits
            cells[other][3] += n
    return [Stratum(*cells[k]) for k in sorted(cells)]


def _caveat(finding: Finding, other: str, result: dict[str, Any]) -> str:
    odds = result["ratio"]
    shown = (
        f"Mantel-Haenszel {result['measure']} {odds:.2f}"
        if odds is not None
        else f"no pooled {result['measure']}"
    )
    if result["ci_low"] is not None and result["ci_high"] is not None:
        shown += f", 95% CI {result['ci_low']:.2f} to {result['ci_high']:.2f}"
    who = finding.segment or "this level"
    other_words, metric = other.replace("_", " "), finding.metric.replace("_", " ")
    if result["verdict"] == "reverses":
        way = "higher" if odds is not None and odds > 1 else "lower"
        return (
            f"{CAVEAT}within each {other_words} the gap reverses: {metric} is {way} for {who} "
            f"than for its comparison group ({shown}), so the overall gap comes from its "
            f"{other_words} mix"
        )
    return (
        f"{CAVEAT}within each {other_words} the gap vanishes ({shown}): it may come from "
        f"{who}'s {other_words} mix rather than from {who} itself"
    )


def _checked(
    f: Finding,
    references: dict[tuple[str, str], tuple[str, ...]],
    dimensions: Sequence[str],
    alpha: float,
) -> bool:
    """Is ``f`` a level test to check within the other dimensions?"""
    return (
        len(dimensions) >= 2
        and f.segment is not None
        and f.dimension in dimensions
        and not f.descriptive
        and f.testable
        and f.p_value is not None
        and f.p_value < alpha
        and (f.dimension, f.segment) in references
    )


def pairs_to_check(
    findings: list[Finding],
    references: dict[tuple[str, str], tuple[str, ...]],
    dimensions: Sequence[str],
    alpha: float = 0.05,
) -> list[tuple[str, str]]:
    """The pairs of dimensions (each once, in ``dimensions`` order) whose cross counts
    ``check_confounding`` will ask for, so they can be fetched together beforehand."""
    wanted = {
        frozenset((f.dimension, other))
        for f in findings
        if _checked(f, references, dimensions, alpha)
        for other in dimensions
        if other != f.dimension
    }
    return [
        (a, b)
        for i, a in enumerate(dimensions)
        for b in dimensions[i + 1 :]
        if frozenset((a, b)) in wanted
    ]


def check_confounding(
    findings: list[Finding],
    references: dict[tuple[str, str], tuple[str, ...]],
    cross_counts: Callable[[str, str], CrossCounts],
    dimensions: Sequence[str],
    alpha: float = 0.05,
    pool: Callable[[list[Stratum]], MantelHaenszel] = mantel_haenszel,
) -> list[Finding]:
    """``findings`` with each level test of a tested dimension (raw p < alpha) checked within
    every other dimension in ``dimensions``. ``references[(dimension, level)]``: the levels it
    was compared with; ``cross_counts(d, e)``: successes and trials (or events and exposure)
    by levels of d and e; ``pool``: the Mantel-Haenszel estimator that fits them."""
    cache: dict[tuple[str, str], CrossCounts] = {}
    out = []
    for f in findings:
        if not _checked(f, references, dimensions, alpha):
            out.append(f)
            continue
        assert f.dimension is not None and f.segment is not None
        crude = f.estimates.get("difference", f.effect_size or 0.0)
        stratified: dict[str, dict[str, Any]] = {}
        warnings = list(f.warnings)
        for other in dimensions:
            if other == f.dimension:
                continue
            key = (f.dimension, other)
            if key not in cache:
                cache[key] = cross_counts(*key)
            pooled = pool(_strata(cache[key], f.segment, references[(f.dimension, f.segment)]))
            result = {
                "ratio": pooled.odds_ratio,
                "measure": pooled.measure,
                "ci_low": pooled.ci_low,
                "ci_high": pooled.ci_high,
                "statistic": pooled.statistic,
                "p_value": pooled.p_value,
                "strata": pooled.strata,
                "verdict": pooled.verdict(crude, alpha),
            }
            stratified[other] = result
            if result["verdict"] != "holds":
                warnings.append(_caveat(f, other, result))
        if stratified and all(r["verdict"] == "holds" for r in stratified.values()):
            held = listed([d.replace("_", " ") for d in stratified])
            warnings.append(
                f"{CAVEAT}an association in observational data: the gap holds within each "
                f"{held} (Mantel-Haenszel), but the groups may differ in ways not recorded"
            )
        out.append(f.model_copy(update={"stratified": stratified, "warnings": warnings}))
    return out
