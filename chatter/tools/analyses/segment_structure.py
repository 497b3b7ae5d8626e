"""Which levels of a dimension deviate, and which are alike (docs/statistics.md, "Structure within
a dimension").

Testing every level against all the others calls five ordinary levels "lower than the rest" when
one level is high: the rest includes that one. The step-down procedure here separates them: while
the levels still in play differ (chi-square across them, p < ``alpha``), the one furthest from the
others still in play (largest |z| against them) is set aside as deviating. The levels left are the
alike set; each deviating level is then tested against the alike set, and each alike level against
the other alike levels, so an ordinary level is compared with ordinary levels.

Setting levels aside only chooses comparison groups: the tests that follow are the run's findings,
corrected with every other test of the run. The chi-square across the alike set is the evidence for
"the others do not differ"; chosen after looking, it is descriptive, outside the correction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chatter.result import Finding
from chatter.tools.analyses.result import to_finding
from chatter.tools.stats import TestResult, chi_square_test, two_proportion_test

Level = tuple[str, int, int]  # (name, successes, trials)


@dataclass(frozen=True)
class Partition:
    """Deviating levels in the order they were set aside, the alike set, and the chi-square
    across the alike set once nothing more deviates (None when fewer than two are alike)."""

    deviating: tuple[int, ...]
    alike: tuple[int, ...]
    alike_test: TestResult | None
    alpha: float = 0.05

    @property
    def settled(self) -> bool:
        """Whether the levels left do not differ (two left may still differ)."""
        t = self.alike_test
        return t is not None and t.testable and t.p_value is not None and t.p_value >= self.alpha

    def reference(self, k: int) -> tuple[int, ...]:
        """The levels level ``k`` is compared with: the alike set (without ``k`` itself)."""
        return tuple(j for j in self.alike if j != k)


def _across(levels: Sequence[Level], kept: Sequence[int], outcome: tuple[str, str]) -> TestResult:
    return chi_square_test(
        [[levels[j][1], levels[j][2] - levels[j][1]] for j in kept],
        [levels[j][0] for j in kept],
        outcome,
    )


def _distance(levels: Sequence[Level], j: int, kept: Sequence[int]) -> float:
    """|z| of level ``j``'s share against the others in ``kept`` pooled."""
    hits = sum(levels[k][1] for k in kept) - levels[j][1]
    n = sum(levels[k][2] for k in kept) - levels[j][2]
    z = two_proportion_test(levels[j][1], levels[j][2], hits, n).statistic
    return abs(z) if z is not None else 0.0


def partition(levels: Sequence[Level], outcome: tuple[str, str], alpha: float = 0.05) -> Partition:
    """The partition of shares (successes of trials): chi-square across, z apart."""
    return step_down(
        len(levels),
        lambda kept: _across(levels, kept, outcome),
        lambda j, kept: _distance(levels, j, kept),
        alpha,
    )


def step_down(
    count: int,
    across: Callable[[Sequence[int]], TestResult],
    distance: Callable[[int, Sequence[int]], float],
    alpha: float = 0.05,
) -> Partition:
    """Step down from all ``count`` levels until the ones left do not differ at ``alpha`` by
    ``across`` (or two are left: two levels that differ have no "others alike" to be told apart
    from), setting aside at each step the level furthest (``distance``) from the others."""
    kept = list(range(count))
    deviating: list[int] = []
    while len(kept) > 2:
        test = across(kept)
        if not test.testable or test.p_value is None or test.p_value >= alpha:
            return Partition(tuple(deviating), tuple(kept), test, alpha)
        out = max(kept, key=lambda j: (distance(j, kept), -j))
        deviating.append(out)
        kept.remove(out)
    last = across(kept) if len(kept) == 2 else None
    return Partition(tuple(deviating), tuple(kept), last, alpha)


@dataclass(frozen=True)
class Comparison:
    """One level's test: the levels it is compared with, whether that group is named (levels
    were set aside: "vs the 5 alike levels" says more than "vs the rest"), and whether it is
    a descriptive mirror (the larger level of a two-level dimension)."""

    level: int
    against: tuple[int, ...]
    named: bool
    descriptive: bool

    def compared_with(self, names: Sequence[str]) -> list[str] | None:
        return [names[j] for j in self.against] if self.named else None

    def column(self, names: Sequence[str]) -> str:
        """The rows' ``compared_with`` column."""
        return ", ".join(names[j] for j in self.against) if self.named else "all others"


def comparisons(split: Partition | None, sizes: Sequence[float]) -> list[Comparison]:
    """Each level's comparison: its alike levels once ``split`` set some aside, else all the
    others. Two levels are one question, asked once as the smaller (by ``sizes``) against the
    other; the mirror test is descriptive."""
    count = len(sizes)
    asked = min(range(count), key=lambda k: (sizes[k], k)) if count == 2 else None
    named = bool(split and split.deviating)
    return [
        Comparison(
            k,
            split.reference(k) if split else tuple(j for j in range(count) if j != k),
            named,
            asked is not None and k != asked,
        )
        for k in range(count)
    ]


def level_finding(
    result: TestResult,
    *,
    metric: str,
    dimension: str,
    names: Sequence[str],
    comparison: Comparison,
) -> Finding:
    """A level's test as a finding, naming its comparison group when levels were set aside."""
    finding = to_finding(
        result,
        metric=metric,
        dimension=dimension,
        segment=names[comparison.level],
        descriptive=comparison.descriptive,
    )
    compared = comparison.compared_with(names)
    return finding.model_copy(update={"compared_with": compared}) if compared else finding


def alike_finding(
    split: Partition | None, names: Sequence[str], metric: str, dimension: str
) -> Finding | None:
    """The descriptive test across the alike levels, when some were set aside and the rest do
    not differ: the evidence for "the others do not differ from one another"."""
    if not (split and split.deviating and split.settled and split.alike_test is not None):
        return None
    return to_finding(
        split.alike_test,
        metric=metric,
        dimension=dimension,
        subject="levels other than " + ", ".join(names[j] for j in split.deviating),
        descriptive=True,
    ).model_copy(update={"compared_with": [names[j] for j in split.alike]})
