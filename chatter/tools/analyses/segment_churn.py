"""Churn across a dimension's levels per paying month: the segment rate tests of a churn rate.

A churn rate such as ``churned_users / converted_users`` is the share of paying accounts that
ever churned. Across segments that share compares follow-up as much as hazard: a level whose
accounts started recently has had less time to churn. So when the rate counts churns, the levels
are compared on churns per paying month (the exposure the LTV step uses too).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from chatter.result import Finding
from chatter.semantic.model import SemanticModel
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.churn_exposure import ExposureParams, segment_exposure
from chatter.tools.analyses.result import Recorder, to_finding
from chatter.tools.analyses.segment_structure import (
    alike_finding,
    comparisons,
    level_finding,
    step_down,
)
from chatter.tools.analyses.snapshot import TimeRoles
from chatter.tools.stats import TestResult
from chatter.tools.stats.rates import rate_homogeneity_test, rate_ratio_test

UNIT = "paying month"


def counts_churn(model: SemanticModel, metric: str, roles: TimeRoles) -> bool:
    """Whether the ratio ``metric`` counts churned accounts: its numerator filters on the
    churned flag (``churned_users`` over ``converted_users``)."""
    measure = model.measure(metric).measure
    if measure.agg != "ratio" or not measure.numerator:
        return False
    numerator = model.measure(measure.numerator).measure
    flag = roles.churned_dimension.split(".")[-1]
    return any(f.field == flag for f in numerator.filters)


def churn_per_exposure(
    rec: Recorder,
    warehouse: Warehouse,
    base: ExposureParams,
    snapshot: dt.date,
    metric: str,
    name: str,
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """One dimension's rows and findings: churns and paying months per level, the Poisson
    chi-square across the levels and, per level, the exact rate test against its comparison
    group: the alike levels once a step-down has set the deviating ones aside
    (segment_structure), as for shares. Two levels are one question, tested once."""
    exposure = segment_exposure(rec, warehouse, base, snapshot)
    levels = []
    for level in exposure.levels():
        churns = int(exposure.churn.get(level, {}).get("churns") or 0)
        accounts = int(exposure.churn.get(level, {}).get("accounts") or 0)
        months = int(exposure.money.get(level, {}).get("paying_months") or 0)
        if months:
            levels.append((str(level), accounts, churns, months))
    rated = f"monthly_{metric}"
    names = [lv for lv, _, _, _ in levels]

    def across(kept: Sequence[int]) -> TestResult:
        return rate_homogeneity_test(
            [levels[j][2] for j in kept],
            [levels[j][3] for j in kept],
            [names[j] for j in kept],
            unit=UNIT,
        )

    pair = len(levels) == 2
    findings = [
        to_finding(across(range(len(levels))), metric=rated, dimension=name, descriptive=pair)
    ]
    split = (
        step_down(len(levels), across, lambda j, kept: _distance(levels, j, kept))
        if len(levels) > 2
        else None
    )
    rows = []
    for c in comparisons(split, [months for *_, months in levels]):
        level, accounts, churns, months = levels[c.level]
        rest_c = sum(levels[j][2] for j in c.against)
        rest_t = sum(levels[j][3] for j in c.against)
        rows.append(
            {
                "dimension": name,
                "segment": level,
                "paying_accounts": accounts,
                "churns": churns,
                metric: churns / accounts if accounts else None,
                "paying_months": months,
                rated: churns / months,
                f"{rated}_rest": rest_c / rest_t if rest_t else None,
                "compared_with": c.column(names),
            }
        )
        findings.append(
            level_finding(
                rate_ratio_test(churns, months, rest_c, rest_t, label=level, unit=UNIT),
                metric=rated,
                dimension=name,
                names=names,
                comparison=c,
            )
        )
    alike = alike_finding(split, names, rated, name)
    findings.extend([alike] if alike else [])
    return rows, findings


def _distance(levels: Sequence[tuple[str, int, int, int]], j: int, kept: Sequence[int]) -> float:
    """|z| of level ``j``'s log rate ratio against the others in ``kept`` pooled (a half
    churn added to an empty count keeps it finite)."""
    churns, months = levels[j][2], levels[j][3]
    rest_c = sum(levels[k][2] for k in kept) - churns
    rest_t = sum(levels[k][3] for k in kept) - months
    if months <= 0 or rest_t <= 0:
        return 0.0
    a, b = max(churns, 0.5), max(rest_c, 0.5)
    return abs(math.log((a / months) / (b / rest_t))) / math.sqrt(1 / a + 1 / b)
