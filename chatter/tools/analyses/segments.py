"""Rate tests across segments: is a ratio measure (conversion, churn) different by segment?

A rate of churned accounts is compared per paying month (``exposure``), not as the share that
ever churned: levels followed for less time have had less time to churn.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

from chatter.errors import InvalidQueryError
from chatter.result import Finding
from chatter.semantic.model_checks import share_parts
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.churn_exposure import (
    ExposureParams,
    segment_exposure,
    undated_churns,
)
from chatter.tools.analyses.model_names import qualify
from chatter.tools.analyses.result import AnalysisResult, Recorder
from chatter.tools.analyses.segment_churn import churn_per_exposure, counts_churn
from chatter.tools.analyses.segment_confounding import check_confounding, pairs_to_check
from chatter.tools.analyses.segment_dimensions import (
    MAX_DEFAULT_LEVELS,
    DimensionChoice,
    choose_dimensions,
)
from chatter.tools.analyses.segment_levels import dimension_tests
from chatter.tools.analyses.snapshot import TimeRoles, observation_end
from chatter.tools.params import Dimension, FilteredParams, Measure, Share
from chatter.tools.stats.stratified import mantel_haenszel_rate

# Group once by every crossed dimension when there are at least this many rows per possible
# combination of their levels (an upper bound of the combinations seen). On the demo data, ten
# pairs over 9,600 possible combinations: 21 -> 12 ms at 100k users, 62 -> 28 ms at 1M; at 10k
# (4,400 seen) about even. With about as many combinations as rows, grouping first is a second
# full-size aggregation, hence the margin.
_ROWS_PER_COMBINATION = 2

MISSING = "(missing)"
EMPTY = "(empty)"


class SegmentTestParams(FilteredParams, TimeRoles):
    """Which rate to test across which dimensions' levels. ``exposure``: ``auto`` compares a
    churn rate per paying month (to the snapshot) and any other rate as a share of accounts;
    ``accounts`` forces the share."""

    metric: Share = "conversion_rate"
    #: None: every categorical dimension of ``entity_table`` (segment_dimensions).
    dimensions: tuple[Dimension, ...] | None = None
    exposure: Literal["auto", "accounts", "paying_months"] = "auto"
    revenue: Measure = "revenue"  # its rows are the paying months
    snapshot_date: dt.date | None = None


def _per_paying_month(warehouse: Warehouse, p: SegmentTestParams) -> bool:
    churn = counts_churn(warehouse.model, p.metric, p)
    if p.exposure == "paying_months" and not churn:
        raise InvalidQueryError(
            f"exposure 'paying_months' compares churn; {p.metric!r} does not count churned "
            f"accounts (no filter on {p.churned_dimension!r}); use exposure 'accounts'."
        )
    return churn and p.exposure != "accounts"


def _churn_tests(
    warehouse: Warehouse, p: SegmentTestParams, choice: DimensionChoice
) -> AnalysisResult:
    rec = Recorder(warehouse)
    quality = observation_end(warehouse, p, p.snapshot_date)
    rows: list[dict[str, Any]] = []
    findings = []
    base = ExposureParams(**p.model_dump(include=set(ExposureParams.model_fields)))
    tested = []
    for dimension in choice.dimensions:
        qualified = qualify(warehouse.model, dimension, p.entity_table)
        name = qualified.split(".")[-1]
        tested.append(name)
        found, tests = churn_per_exposure(
            rec,
            warehouse,
            base.model_copy(update={"segment_dimension": qualified}),
            quality.snapshot,
            p.metric,
            name,
        )
        rows += found
        findings += tests
    findings = _stratify_churn(rec, warehouse, p, base, quality.snapshot, rows, findings, tested)
    notes = [
        f"{p.metric} counts churned accounts, so the levels are compared on churns per paying "
        "month (revenue rows to the snapshot) rather than the share that ever churned: levels "
        "whose accounts started later have had less time to churn. Omnibus: Poisson chi-square "
        "of homogeneity across the levels; per level: the exact conditional rate test against "
        "its comparison group (the alike levels once deviating ones are set aside); each gap "
        "with p < 0.05 checked within the levels of every other tested text dimension "
        "(Mantel-Haenszel rate ratio; accounts with no value there are left out of that "
        "check). Assumes a constant monthly hazard within each level; "
        "exposure 'accounts' tests the share instead.",
        *choice.notes(tested),
    ]
    undated = undated_churns(rec, warehouse, base, quality.snapshot)
    if undated:
        notes.append(f"{undated:,} churned accounts have no churn date and are left out.")
    notes.append(quality.note())
    quality.qualify(findings)
    summary = {**quality.summary(), "dimensions_tested": tested}
    return rec.result("segment_rate_tests", rows, findings, notes, summary=summary)


def _stratify_churn(
    rec: Recorder,
    warehouse: Warehouse,
    p: SegmentTestParams,
    base: ExposureParams,
    snapshot: dt.date,
    rows: list[dict[str, Any]],
    findings: list[Finding],
    tested: list[str],
) -> list[Finding]:
    """Each churn gap checked within the levels of the other tested text dimensions: churns
    and paying months of the dimension's levels within each level of the other (one exposure
    count per stratum, with that level as a filter)."""
    model = warehouse.model
    qualified = {d: qualify(model, d, p.entity_table) for d in tested}
    texts = [d for d in tested if model.dimension(qualified[d]).dimension.type == "string"]
    levels: dict[str, list[str]] = {}
    for r in rows:
        levels.setdefault(r["dimension"], []).append(str(r["segment"]))
    references = {
        (f.dimension, f.segment): tuple(
            f.compared_with or [lv for lv in levels[f.dimension] if lv != f.segment]
        )
        for f in findings
        if f.segment is not None and f.dimension in levels
    }

    def cross_counts(first: str, second: str) -> dict[tuple[str, str], tuple[int, int]]:
        out: dict[tuple[str, str], tuple[int, int]] = {}
        for level in levels.get(second, []):
            if level == MISSING:
                continue
            where = {"field": qualified[second], "op": "=", "value": level}
            within = base.model_copy(
                update={"segment_dimension": qualified[first], "filters": (*p.filters, where)}
            )
            exposure = segment_exposure(rec, warehouse, within, snapshot)
            for own in exposure.levels():
                churns = int(exposure.churn.get(own, {}).get("churns") or 0)
                months = int(exposure.money.get(own, {}).get("paying_months") or 0)
                out[(str(own), level)] = (churns, months)
        return out

    return check_confounding(findings, references, cross_counts, texts, pool=mantel_haenszel_rate)


def segment_rate_tests(
    warehouse: Warehouse, params: SegmentTestParams | None = None
) -> AnalysisResult:
    """For each dimension (every categorical one when none is named): one omnibus chi-square
    test across its levels, and one test of each level (two-proportion z, or Fisher's exact when
    counts are small) against the levels it should be compared with: the alike levels once the
    deviating ones are set aside (segment_structure). Each level gap with p < 0.05 is then
    checked within the levels of every other tested dimension (segment_confounding).

    ``metric`` must be a ratio of two counts in the semantic model (e.g. conversion_rate =
    converted_users / users); its numerator and denominator give the contingency counts.
    """
    p = params or SegmentTestParams()
    ref = warehouse.model.measure(p.metric)
    measure = ref.measure
    parts = share_parts(warehouse.model.tables, ref.table, measure.name)
    if parts is None:
        # A ratio of a sum or of other units (revenue per account, events per user) has no
        # hits out of trials to test; its levels could even exceed 1.
        kind = (
            "a ratio of a sum or of other units, not a share of two counts"
            if measure.agg == "ratio"
            else f"not a ratio measure (it is a {measure.agg})"
        )
        raise InvalidQueryError(
            f"metric {p.metric!r} is {kind}, so its segments cannot be tested as rates; "
            f"choose one of: {', '.join(warehouse.model.shares())}."
        )
    choice = choose_dimensions(
        warehouse.model,
        p.dimensions,
        p.metric,
        p.entity_table,
        (p.converted_dimension, p.churned_dimension),
    )
    if _per_paying_month(warehouse, p):
        return _churn_tests(warehouse, p, choice)
    num, den = (part.measure.name for part in parts)
    rec = Recorder(warehouse)
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    two_level: list[str] = []
    tested: dict[str, str] = {}  # name -> qualified
    references: dict[tuple[str, str], tuple[str, ...]] = {}
    names: dict[str, LevelNames] = {}
    qualified_dims = list(
        dict.fromkeys(qualify(warehouse.model, d, p.entity_table) for d in choice.dimensions)
    )

    def counts(
        groupings: list[tuple[str, ...]], pre_aggregate: bool = False
    ) -> list[list[dict[str, Any]]]:
        # Every grouping from one statement (GROUP BY GROUPING SETS) where the engine can.
        # In the order of qualified_dims, as every grouping's own dimensions are.
        dims = [d for d in qualified_dims if any(d in g for g in groupings)]
        query = {"measures": [num, den], "dimensions": dims, "filters": list(p.filters)}
        return rec.query_sets(query, groupings, pre_aggregate=pre_aggregate)

    level_counts: dict[str, int] = {}  # name -> levels seen, NULL included
    entities = 0
    for qualified, data in zip(qualified_dims, counts([(q,) for q in qualified_dims]), strict=True):
        name = qualified.split(".")[-1]
        level_counts[name] = len(data)
        entities = max(entities, sum(int(r[den] or 0) for r in data))
        names[name] = level_name = LevelNames([r[name] for r in data])
        levels = [
            (level_name(r[name]), int(r[num] or 0), int(r[den] or 0))
            for r in data
            if int(r[den] or 0) > 0
        ]
        if choice.by_default and len(levels) > MAX_DEFAULT_LEVELS:
            choice.too_many_levels(name, len(levels))
            continue
        tested[name] = qualified
        two_level += [name] if len(levels) == 2 else []
        done = dimension_tests(levels, p.metric, name, (num, den))
        rows += done.rows
        findings += done.findings
        references.update({(name, lv): ref for lv, ref in done.references.items()})

    crossed = pairs_to_check(findings, references, list(tested))
    # Few combinations against many rows: group the rows once by every dimension crossed and
    # sum the pairs from those combinations (grouping_sets' note).
    combinations = math.prod(level_counts[d] for d in {d for pair in crossed for d in pair})
    few = bool(crossed) and combinations * _ROWS_PER_COMBINATION <= entities
    fetched: dict[tuple[str, str], dict[tuple[str, str], tuple[int, int]]] = {
        (first, second): {
            (names[first](r[first]), names[second](r[second])): (
                int(r[num] or 0),
                int(r[den] or 0),
            )
            for r in data
        }
        for (first, second), data in zip(
            crossed, counts([(tested[a], tested[b]) for a, b in crossed], few), strict=True
        )
    }

    def cross_counts(first: str, second: str) -> dict[tuple[str, str], tuple[int, int]]:
        # The counts by (first, second) are those by (second, first) read the other way.
        if (first, second) in fetched:
            return fetched[(first, second)]
        return {(b, a): both for (a, b), both in fetched[(second, first)].items()}

    findings = check_confounding(findings, references, cross_counts, list(tested))
    notes = [
        f"{p.metric} = {num} / {den}. Omnibus: chi-square across all levels of a dimension. "
        "Per level: while the levels still in play differ (chi-square, p < 0.05), the one "
        "furthest from the others is set aside as deviating; each deviating level is tested "
        "against the alike levels left, and each alike level against the other alike ones "
        "(column compared_with). Each level gap with p < 0.05 is checked within the levels "
        "of every other tested dimension (Mantel-Haenszel). Missing values (NULL) form a "
        f"level of their own, {MISSING!r}, and empty strings {EMPTY!r} (with a number added "
        "when the data holds that text as a level).",
        *_renamed(names),
        *choice.notes(list(tested)),
    ]
    if two_level:
        notes.append(
            f"{', '.join(two_level)} {'has' if len(two_level) == 1 else 'have'} two levels: one question, "
            "tested once (the smaller level against the other); the omnibus and the mirror "
            "test are shown as descriptive, outside the correction."
        )
    return rec.result(
        "segment_rate_tests", rows, findings, notes, summary={"dimensions_tested": list(tested)}
    )


def _renamed(names: dict[str, LevelNames]) -> list[str]:
    said = [
        f"{dim}: NULL shown as {n.missing!r}" for dim, n in names.items() if n.missing != MISSING
    ] + [f"{dim}: empty text shown as {n.empty!r}" for dim, n in names.items() if n.renamed]
    return ["Data quality: " + "; ".join(said) + "."] if said else []


class LevelNames:
    """How a dimension's values are shown: NULL as ``(missing)`` and an empty or blank string
    as ``(empty)``, each with a suffix when the data holds that text as a real level, so a
    literal ``(missing)`` is never merged with NULL. Counts what it renamed, for the notes."""

    def __init__(self, values: list[Any]) -> None:
        taken = {str(v) for v in values if v is not None}
        self.missing = self._free(MISSING, taken)
        self.empty = self._free(EMPTY, taken | {self.missing})
        self.renamed: dict[str, str] = {}

    @staticmethod
    def _free(label: str, taken: set[str]) -> str:
        k, out = 2, label
        while out in taken:
            out, k = f"{label[:-1]} {k})", k + 1
        return out

    def __call__(self, value: Any) -> str:
        if value is None:
            return self.missing
        text = str(value)
        if text.strip() == "":
            self.renamed[text] = self.empty
            return self.empty
        return text
