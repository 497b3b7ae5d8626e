"""Churn of each feature's early adopters against the other paying accounts, by a landmark
design: adoption is what an account did in its first ``landmark_days`` days, among the accounts
still paying at that day, and churn is counted after it, per paying month.

Why not "adopters ever vs never": an account that lives longer has more time to adopt anything
(immortal time), and a feature used while leaving (a cancel flow) is used only by those who
churn (leakage). Fixing adoption before the outcome's clock starts removes both; counting churn
per month of exposure after the landmark removes the bias of unequal follow-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlglot import exp

from chatter.result import CAVEAT
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.snapshot import (
    TimeRoles,
    observation_end,
    timed_statement,
)
from chatter.tools.params import Dimension, FilteredParams
from chatter.tools.stats.rates import rate_ratio_test

DAYS_PER_MONTH = 365.25 / 12

# The accounts compared: paying, still paying on the landmark day and observed past it.
_AT_LANDMARK = """
SELECT A_U.C_KEY AS entity,
  (A_U.C_CHURNED AND A_U.C_CHURN <= $snapshot) AS churned,
  date_diff('day', A_U.C_SIGNUP + CAST($days AS INTEGER),
    CASE WHEN A_U.C_CHURNED AND A_U.C_CHURN <= $snapshot THEN A_U.C_CHURN ELSE $snapshot END)
    AS exposure_days
FROM T_U AS A_U
WHERE A_U.C_CONVERTED
  AND A_U.C_SIGNUP + CAST($days AS INTEGER) <= $snapshot
  AND NOT (A_U.C_CHURNED AND A_U.C_CHURN IS NULL)
  AND (A_U.C_CHURN IS NULL OR A_U.C_CHURN >= A_U.C_SIGNUP)
  AND NOT (A_U.C_CHURNED AND A_U.C_CHURN <= A_U.C_SIGNUP + CAST($days AS INTEGER))
"""

# Each account's features used in its first $days days (each pair once).
_EARLY_USE = """
SELECT DISTINCT A_EV.C_EKEY AS entity, A_EV.C_FEATURE AS feature
FROM T_EV AS A_EV JOIN T_U AS A_U ON A_EV.C_EKEY = A_U.C_KEY
WHERE A_U.C_CONVERTED AND A_EV.C_FEATURE IS NOT NULL
  AND CAST(A_EV.C_TS AS DATE) >= A_U.C_SIGNUP
  AND CAST(A_EV.C_TS AS DATE) < A_U.C_SIGNUP + CAST($days AS INTEGER)
  AND CAST(A_EV.C_TS AS DATE) <= $snapshot
"""

# Sums, not per-account rows: at a million accounts their early use is millions of pairs, and
# only these few numbers per feature enter the test. Exposure is summed in whole days (exact).
# The CTEs' names cannot be a table's (a model's table named like one would be shadowed).
_TOTALS_SQL = f"""
WITH __churn_at_landmark AS ({_AT_LANDMARK})
SELECT COUNT(*) AS accounts,
  SUM(CASE WHEN __churn_at_landmark.churned THEN 1 ELSE 0 END) AS churns,
  SUM(__churn_at_landmark.exposure_days) AS exposure_days
FROM __churn_at_landmark
"""

_ADOPTERS_SQL = f"""
WITH __churn_at_landmark AS ({_AT_LANDMARK}), __churn_early_use AS ({_EARLY_USE})
SELECT __churn_early_use.feature AS feature, COUNT(*) AS adopters,
  SUM(CASE WHEN __churn_at_landmark.churned THEN 1 ELSE 0 END) AS churns,
  SUM(__churn_at_landmark.exposure_days) AS exposure_days
FROM __churn_early_use JOIN __churn_at_landmark ON __churn_early_use.entity = __churn_at_landmark.entity
GROUP BY __churn_early_use.feature
"""


class ChurnParams(FilteredParams, TimeRoles):
    """Which feature field, the landmark, and where the account's dates and outcome live."""

    feature_dimension: Dimension = "event_type"
    landmark_days: int = Field(default=30, ge=1, le=730)
    snapshot_date: dt.date | None = None
    metric: str = "monthly_churn_rate"


def _statement(
    warehouse: Warehouse, p: ChurnParams, template: str, params: dict[str, Any]
) -> tuple[exp.Expr, dict[str, Any]]:
    feature = warehouse.model.dimension(p.feature_dimension).dimension.column
    return timed_statement(warehouse.model, p, template, params, p.filters, {"C_FEATURE": feature})


def churn_relationship(warehouse: Warehouse, params: ChurnParams | None = None) -> AnalysisResult:
    """Per feature: paying accounts that used it in their first ``landmark_days`` days against
    those that did not, among accounts still paying at that day; churns per paying month after
    it, compared by the exact conditional rate test (rate ratio with its exact interval)."""
    p = params or ChurnParams()
    rec = Recorder(warehouse)
    quality = observation_end(warehouse, p, p.snapshot_date)
    bound = {"snapshot": quality.snapshot, "days": p.landmark_days}
    totals = rec.rows(*_statement(warehouse, p, _TOTALS_SQL, bound))[0]
    adopters = {
        str(r["feature"]): r for r in rec.rows(*_statement(warehouse, p, _ADOPTERS_SQL, bound))
    }
    accounts = int(totals["accounts"] or 0)
    total_months = float(totals["exposure_days"] or 0) / DAYS_PER_MONTH
    total_churns = int(totals["churns"] or 0)
    rows, findings = [], []
    for feature in sorted(adopters):
        users = int(adopters[feature]["adopters"])
        t_a = float(adopters[feature]["exposure_days"] or 0) / DAYS_PER_MONTH
        c_a = int(adopters[feature]["churns"] or 0)
        t_r, c_r = total_months - t_a, total_churns - c_a
        test = rate_ratio_test(c_a, t_a, c_r, t_r, label=feature, unit="paying month")
        rows.append(
            {
                "feature": feature,
                "adopters": users,
                "adopter_churns": c_a,
                "adopter_paying_months": t_a,
                "adopter_monthly_churn": c_a / t_a if t_a else None,
                "non_adopters": accounts - users,
                "non_adopter_churns": c_r,
                "non_adopter_paying_months": t_r,
                "non_adopter_monthly_churn": c_r / t_r if t_r else None,
                "rate_ratio": test.effect_size,
            }
        )
        test.warnings.append(
            f"{CAVEAT}an association: early adopters of {feature} may differ from the others "
            "in other ways (plan, size), so this does not show the feature retains accounts"
        )
        findings.append(
            to_finding(
                test,
                metric=p.metric,
                dimension=p.feature_dimension,
                segment=feature,
                subject=f"early adopters of {feature} vs other paying accounts",
            )
        )
    notes = [
        f"Landmark design: adoption is use of a feature in an account's first {p.landmark_days} "
        f"days; only paying accounts still active on day {p.landmark_days} (and observed past "
        "it) are compared, and churn is counted after that day, per paying month. Use after the "
        "landmark, including on or after an account's churn, never counts as adoption.",
        "Observational: early adopters may differ from the others in other ways (plan, size), "
        "so a difference is an association, not proof that the feature retains accounts.",
        quality.note(),
    ]
    summary = {
        "accounts_at_landmark": accounts,
        "churned_after_landmark": total_churns,
        "paying_months_after_landmark": total_months,
        "landmark_days": p.landmark_days,
        **quality.summary(),
    }
    quality.qualify(findings)
    return rec.result("churn_relationship", rows, findings, notes, summary=summary)
