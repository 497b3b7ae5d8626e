"""The tests of one dimension's levels on a share (conversion of trials): the omnibus across all
levels, then each level against the levels it should be compared with (segment_structure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chatter.result import Finding
from chatter.tools.analyses.result import to_finding
from chatter.tools.analyses.segment_structure import (
    Level,
    alike_finding,
    comparisons,
    level_finding,
    partition,
)
from chatter.tools.stats import chi_square_test, level_vs_rest_test
from chatter.tools.stats.proportions import wilson_interval


@dataclass
class DimensionTests:
    """One dimension's rows (a level each) and findings, and its levels' comparison groups."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: level name -> the level names it was compared with
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _pooled(levels: Sequence[Level], kept: Sequence[int]) -> tuple[int, int]:
    return sum(levels[j][1] for j in kept), sum(levels[j][2] for j in kept)


def dimension_tests(
    levels: Sequence[Level], metric: str, dimension: str, counts: tuple[str, str]
) -> DimensionTests:
    """``levels``: (name, successes, trials) with trials > 0. ``counts``: the numerator's and
    denominator's names, for the rows' columns.

    Two levels are one question, asked once (the smaller against the other); the omnibus and
    the mirror test are descriptive. Three or more: the omnibus, then each level against its
    comparison group from the step-down partition; when some levels deviate, the chi-square
    across the alike ones is a descriptive finding of its own."""
    num, den = counts
    out = DimensionTests()
    names = [lv for lv, _, _ in levels]
    pair = len(levels) == 2
    out.findings.append(
        to_finding(
            chi_square_test([[h, n - h] for _, h, n in levels], names, (num, f"not {num}")),
            metric=metric,
            dimension=dimension,
            descriptive=pair,
        )
    )
    split = partition(levels, (num, f"not {num}")) if len(levels) > 2 else None
    for c in comparisons(split, [n for _, _, n in levels]):
        level, hits, n = levels[c.level]
        rest_hits, rest_n = _pooled(levels, c.against)
        out.references[level] = tuple(names[j] for j in c.against)
        low, high = wilson_interval(hits, n)  # the level's own 95% interval (charted)
        out.rows.append(
            {
                "dimension": dimension,
                "segment": level,
                den: n,
                num: hits,
                metric: hits / n,
                f"{metric}_low": low,
                f"{metric}_high": high,
                f"{metric}_rest": rest_hits / rest_n if rest_n else None,
                "compared_with": c.column(names),
            }
        )
        out.findings.append(
            level_finding(
                level_vs_rest_test(hits, n, rest_hits, rest_n, label=level),
                metric=metric,
                dimension=dimension,
                names=names,
                comparison=c,
            )
        )
    alike = alike_finding(split, names, metric, dimension)
    out.findings.extend([alike] if alike else [])
    return out
