"""Cohort analysis: signup cohorts by periods since signup, with conversion and retention, each
read only where its window is complete at the snapshot.

A cohort whose members' trials have not all ended looks as if it converts worse: its
conversions have not happened yet. A retention period that has not ended looks as if nobody
left. So a cohort's conversion counts only once ``conversion_window_days`` have passed since the
end of the cohort's period, and its retention ``k`` periods on only once that period has ended.
Incomplete cohorts stay in the table (``complete: false``) and out of the tests and the trend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from chatter.result import CAVEAT
from chatter.semantic.model import TimeGrain
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.periods import add_periods, period_end
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.snapshot import (
    TimeRoles,
    observation_end,
    timed_statement,
)
from chatter.tools.params import FilteredParams
from chatter.tools.stats import chi_square_test, mann_kendall_test

_COHORTS_SQL = """
SELECT CAST(date_trunc($grain, A_U.C_SIGNUP) AS DATE) AS cohort, count(*) AS users,
  count(*) FILTER (WHERE A_U.C_CONVERTED) AS converted,
  count(*) FILTER (WHERE A_U.C_CONVERTED AND (A_U.C_CHURN IS NULL OR A_U.C_CHURN >= A_U.C_SIGNUP)
    AND NOT (A_U.C_CHURNED AND A_U.C_CHURN IS NULL)) AS paying
FROM T_U AS A_U WHERE A_U.C_SIGNUP <= $snapshot GROUP BY 1 ORDER BY 1
"""

_CHURNS_SQL = """
SELECT CAST(date_trunc($grain, A_U.C_SIGNUP) AS DATE) AS cohort,
  CAST(date_trunc($grain, A_U.C_CHURN) AS DATE) AS churn_period, count(*) AS churned
FROM T_U AS A_U
WHERE A_U.C_SIGNUP <= $snapshot AND A_U.C_CONVERTED AND A_U.C_CHURNED
  AND A_U.C_CHURN >= A_U.C_SIGNUP AND A_U.C_CHURN <= $snapshot
GROUP BY 1, 2
"""


class CohortParams(FilteredParams, TimeRoles):
    """Cohorts by a grain of the signup date, their windows, and where the outcome lives."""

    grain: TimeGrain = "month"
    metric: str = "conversion_rate"
    conversion_window_days: int = Field(default=30, ge=0, le=365)
    retention_horizon: int = Field(default=3, ge=1, le=60)
    max_periods: int = Field(default=12, ge=1, le=120)
    snapshot_date: dt.date | None = None


def _rows(warehouse: Warehouse, rec: Recorder, p: CohortParams, template: str, bound: dict):
    return rec.rows(*timed_statement(warehouse.model, p, template, bound, p.filters))


def cohort_analysis(warehouse: Warehouse, params: CohortParams | None = None) -> AnalysisResult:
    """Each signup cohort's size and conversion, and the share of its paying accounts still
    paying 0..``max_periods`` periods after its start, where those windows are complete.

    Tests, over complete cohorts only: conversion across cohorts (chi-square), a trend in
    cohort conversion (Mann-Kendall), and retention at ``retention_horizon`` (chi-square)."""
    p = params or CohortParams()
    rec = Recorder(warehouse)
    quality = observation_end(warehouse, p, p.snapshot_date)
    snapshot = quality.snapshot
    bound = {"grain": p.grain, "snapshot": snapshot}
    cohorts = _rows(warehouse, rec, p, _COHORTS_SQL, bound)
    churn_rows = _rows(warehouse, rec, p, _CHURNS_SQL, bound)
    if not cohorts:
        return rec.result("cohort_analysis", [], [], ["No cohorts: the filtered data is empty."])
    churned: dict[Any, dict[Any, int]] = {}
    for r in churn_rows:
        churned.setdefault(r["cohort"], {})[r["churn_period"]] = int(r["churned"])
    window = dt.timedelta(days=p.conversion_window_days)
    rows, complete, at_horizon = [], [], []
    for c in cohorts:
        start, size, converted, paying = c["cohort"], c["users"], c["converted"], c["paying"]
        done = period_end(start, p.grain) + window <= snapshot
        if done:
            complete.append(c)
        lost = 0
        for k in range(p.max_periods + 1):
            period = add_periods(start, k, p.grain)
            if period_end(period, p.grain) > snapshot:
                break  # that period has not ended: retention there is not known yet
            lost += churned.get(start, {}).get(period, 0)
            rows.append(
                {
                    "cohort": start,
                    "periods_since_signup": k,
                    "complete": done,
                    "users": size,
                    "converted_users": converted,
                    "conversion_rate": converted / size if size else None,
                    "retained_users": paying - lost,
                    "retention_rate": (paying - lost) / paying if paying else None,
                }
            )
            if k == p.retention_horizon and paying and done:
                at_horizon.append((start.isoformat(), paying - lost, lost))
        if not rows or rows[-1]["cohort"] != start:  # a cohort with no ended period yet
            rows.append(
                {
                    "cohort": start,
                    "periods_since_signup": None,
                    "complete": done,
                    "users": size,
                    "converted_users": converted,
                    "conversion_rate": converted / size if size else None,
                    "retained_users": None,
                    "retention_rate": None,
                }
            )
    incomplete = [c["cohort"].isoformat() for c in cohorts if c not in complete]
    findings = _findings(p, complete, at_horizon)
    if incomplete:  # said in the insight's own text: the newest cohorts are not in it
        shown = ", ".join(incomplete[:3]) + (" ..." if len(incomplete) > 3 else "")
        one = len(incomplete) == 1
        left = (
            f"{CAVEAT}{'the cohort' if one else 'the cohorts'} {shown} "
            f"{'is' if one else 'are'} left out: {'its' if one else 'their'} trials have not "
            "all ended"
        )
        for f in findings[:2]:
            f.warnings.append(left)
    notes = [
        f"Cohorts are {p.grain}s of {p.signup_dimension}; periods_since_signup counts calendar "
        f"{p.grain}s from the cohort's start, shown only once that {p.grain} has ended.",
        f"A cohort is complete once {p.conversion_window_days} days (the longest trial) have "
        f"passed since its {p.grain} ended; incomplete cohorts are shown but left out of the "
        "tests and the trend, since their conversions have not all happened yet.",
        "retention_rate = retained_users / the cohort's paying accounts: its converted_users, "
        "less any churned without a churn date or before signup; retained_users are those "
        "not churned by the end of that period.",
        quality.note(),
    ]
    summary = {
        "cohorts": len(cohorts),
        "complete_cohorts": len(complete),
        "incomplete_cohorts": incomplete,
        **quality.summary(),
    }
    quality.qualify(findings)
    return rec.result("cohort_analysis", rows, findings, notes, summary=summary)


def _findings(p: CohortParams, complete: list[dict[str, Any]], at_horizon: list[tuple]) -> list:
    dimension = f"{p.signup_dimension}__{p.grain}"
    labels = [c["cohort"].isoformat() for c in complete]
    findings = [
        to_finding(
            chi_square_test(
                [[c["converted"], c["users"] - c["converted"]] for c in complete],
                labels,
                ("converted", "not converted"),
            ),
            metric=p.metric,
            dimension=dimension,
        ),
        to_finding(
            mann_kendall_test([c["converted"] / c["users"] for c in complete if c["users"]]),
            metric=p.metric,
            dimension=dimension,
            subject="trend across complete cohorts",
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
                dimension=dimension,
            )
        )
    return findings
