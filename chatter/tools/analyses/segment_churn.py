"""Churn across a dimension's levels per paying month: the segment rate tests of a churn rate.

A churn rate such as ``churned_users / converted_users`` is the share of paying accounts that
ever churned. Across segments that share compares follow-up as much as hazard: a level whose
accounts started recently has had less time to churn. So when the rate counts churns, the levels
are compared on churns per paying month (the exposure the LTV step uses too).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chatter.result import Finding
from chatter.semantic.model import SemanticModel
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.churn_exposure import ExposureParams, segment_exposure
from chatter.tools.analyses.result import Recorder, to_finding
from chatter.tools.analyses.snapshot import TimeRoles
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
    chi-square across the levels and, per level, the exact rate test against the rest."""
    exposure = segment_exposure(rec, warehouse, base, snapshot)
    levels = []
    for level in exposure.levels():
        churns = int(exposure.churn.get(level, {}).get("churns") or 0)
        accounts = int(exposure.churn.get(level, {}).get("accounts") or 0)
        months = int(exposure.money.get(level, {}).get("paying_months") or 0)
        if months:
            levels.append((str(level), accounts, churns, months))
    rated = f"monthly_{metric}"
    findings = [
        to_finding(
            rate_homogeneity_test(
                [c for _, _, c, _ in levels],
                [t for _, _, _, t in levels],
                [lv for lv, _, _, _ in levels],
                unit=UNIT,
            ),
            metric=rated,
            dimension=name,
        )
    ]
    all_churns, all_months = sum(c for *_, c, _ in levels), sum(t for *_, t in levels)
    rows = []
    for level, accounts, churns, months in levels:
        rest_c, rest_t = all_churns - churns, all_months - months
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
            }
        )
        findings.append(
            to_finding(
                rate_ratio_test(churns, months, rest_c, rest_t, label=level, unit=UNIT),
                metric=rated,
                dimension=name,
                segment=level,
            )
        )
    return rows, findings
