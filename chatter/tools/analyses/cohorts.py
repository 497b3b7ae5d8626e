"""Cohort analysis: signup cohorts by periods since signup, with conversion and retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from chatter.semantic.model import TimeGrain
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.params import Dimension, FilteredParams, Measure
from chatter.tools.stats import chi_square_test, mann_kendall_test


def period_index(day: dt.date, grain: TimeGrain) -> int:
    """A running number of ``grain`` periods, so two periods subtract to the gap between them."""
    if grain == "year":
        return day.year
    if grain == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    if grain == "month":
        return day.year * 12 + day.month - 1
    if grain == "week":
        return day.toordinal() // 7
    return day.toordinal()


class CohortParams(FilteredParams):
    """Cohorts by a date's grain, and what to count in them."""

    cohort_dimension: Dimension = "signup_date"
    grain: TimeGrain = "month"
    population: Measure = "users"
    converted: Measure = "converted_users"
    churned: Measure = "churned_users"
    churn_date_dimension: Dimension = "churn_date"
    metric: Measure = "conversion_rate"
    retention_horizon: int = Field(default=3, ge=1, le=60)
    max_periods: int = Field(default=12, ge=1, le=120)


def cohort_analysis(warehouse: Warehouse, params: CohortParams | None = None) -> AnalysisResult:
    """Each signup cohort's size and conversion, and the share of its converted accounts still
    paying 0..``max_periods`` periods after signup (only periods already observed).

    Tests: conversion across cohorts (chi-square), a trend in cohort conversion (Mann-Kendall),
    and retention at ``retention_horizon`` periods across the cohorts old enough (chi-square).
    """
    p = params or CohortParams()
    rec = Recorder(warehouse)
    cohort = f"{p.cohort_dimension}__{p.grain}"
    churn_period = f"{p.churn_date_dimension}__{p.grain}"
    base = rec.query(
        {
            "measures": [p.population, p.converted],
            "dimensions": [cohort],
            "filters": list(p.filters),
        }
    )
    churn = rec.query(
        {
            "measures": [p.churned],
            "dimensions": [cohort, churn_period],
            "filters": [*p.filters, {"field": p.churn_date_dimension, "op": "is_not_null"}],
        }
    )
    cohorts = [r for r in base if r[cohort] is not None]
    if not cohorts:
        return rec.result("cohort_analysis", [], [], ["No cohorts: the filtered data is empty."])
    last_seen = max(
        [r[cohort] for r in cohorts] + [r[churn_period] for r in churn if r[churn_period]]
    )
    last = period_index(last_seen, p.grain)
    churned_by: dict[Any, dict[int, int]] = {}
    for r in churn:
        if r[cohort] is not None and r[churn_period] is not None:
            gap = period_index(r[churn_period], p.grain) - period_index(r[cohort], p.grain)
            churned_by.setdefault(r[cohort], {})[gap] = r[p.churned] or 0

    rows = []
    at_horizon: list[tuple[str, int, int]] = []
    for r in cohorts:
        size, paying = r[p.population] or 0, r[p.converted] or 0
        observed = min(p.max_periods, last - period_index(r[cohort], p.grain))
        lost = 0
        for k in range(observed + 1):
            lost += churned_by.get(r[cohort], {}).get(k, 0)
            retained = paying - lost
            rows.append(
                {
                    "cohort": r[cohort],
                    "periods_since_signup": k,
                    "users": size,
                    "converted_users": paying,
                    "conversion_rate": paying / size if size else None,
                    "retained_users": retained,
                    "retention_rate": retained / paying if paying else None,
                }
            )
            if k == p.retention_horizon and paying:
                at_horizon.append((r[cohort].isoformat(), retained, paying - retained))

    labels = [r[cohort].isoformat() for r in cohorts]
    findings = [
        to_finding(
            chi_square_test(
                [
                    [r[p.converted] or 0, (r[p.population] or 0) - (r[p.converted] or 0)]
                    for r in cohorts
                ],
                labels,
                ("converted", "not converted"),
            ),
            metric=p.metric,
            dimension=cohort,
        ),
        to_finding(
            mann_kendall_test(
                [(r[p.converted] or 0) / r[p.population] for r in cohorts if r[p.population]]
            ),
            metric=p.metric,
            dimension=cohort,
            subject="trend across cohorts",
        ),
    ]
    if len(at_horizon) >= 2:
        findings.append(
            to_finding(
                chi_square_test(
                    [[kept, gone] for _, kept, gone in at_horizon],
                    [label for label, _, _ in at_horizon],
                    ("retained", "churned"),
                ),
                metric=f"retention_after_{p.retention_horizon}_{p.grain}s",
                dimension=cohort,
            )
        )
    notes = [
        f"Cohorts are {p.grain}s of {p.cohort_dimension}; periods_since_signup counts whole {p.grain}s.",
        "retention_rate: share of a cohort's converted accounts not churned by the end of that "
        f"period; periods after the last observed {p.grain} are left out (not zero).",
    ]
    return rec.result(
        "cohort_analysis",
        rows,
        findings,
        notes,
        summary={"cohorts": len(cohorts), "last_period_observed": last_seen},
    )
