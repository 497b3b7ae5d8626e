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

import numpy as np
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

_AT_LANDMARK_SQL = """
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

_EARLY_USE_SQL = """
SELECT DISTINCT A_EV.C_EKEY AS entity, A_EV.C_FEATURE AS feature
FROM T_EV AS A_EV JOIN T_U AS A_U ON A_EV.C_EKEY = A_U.C_KEY
WHERE A_U.C_CONVERTED AND A_EV.C_FEATURE IS NOT NULL
  AND CAST(A_EV.C_TS AS DATE) >= A_U.C_SIGNUP
  AND CAST(A_EV.C_TS AS DATE) < A_U.C_SIGNUP + CAST($days AS INTEGER)
  AND CAST(A_EV.C_TS AS DATE) <= $snapshot
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


class _AtLandmark:
    """The accounts compared (one row each): id, paying months after the landmark, churned."""

    def __init__(self, at: dict[str, np.ndarray]) -> None:
        entity = np.asarray(at.get("entity", []), dtype=np.int64)
        order = np.argsort(entity, kind="stable")
        self.entity = entity[order]  # sorted: an id is found by binary search
        self.months = np.asarray(at.get("exposure_days", []), dtype=np.float64)[order] / (
            DAYS_PER_MONTH
        )
        self.churned = np.asarray(at.get("churned", []), dtype=bool)[order]

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Where each of ``ids`` is among the accounts, -1 where it is not one of them."""
        at = np.searchsorted(self.entity, ids)
        found = at < len(self.entity)
        found[found] = self.entity[at[found]] == ids[found]
        return np.where(found, at, -1)


def _early_adopters(accounts: _AtLandmark, early: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per feature, the positions of the compared accounts that used it early (each once).
    In arrays, not sets of ids: a million accounts' early use is a million pairs."""
    where = accounts.positions(np.asarray(early.get("entity", []), dtype=np.int64))
    codes: dict[str, int] = {}
    feature = np.fromiter(
        (codes.setdefault(str(f), len(codes)) for f in early.get("feature", [])),
        dtype=np.int64,
        count=len(where),
    )
    kept = where >= 0
    where, feature = where[kept], feature[kept]
    users = {name: np.unique(where[feature == code]) for name, code in codes.items()}
    return {name: positions for name, positions in users.items() if len(positions)}


def churn_relationship(warehouse: Warehouse, params: ChurnParams | None = None) -> AnalysisResult:
    """Per feature: paying accounts that used it in their first ``landmark_days`` days against
    those that did not, among accounts still paying at that day; churns per paying month after
    it, compared by the exact conditional rate test (rate ratio with its exact interval)."""
    p = params or ChurnParams()
    rec = Recorder(warehouse)
    quality = observation_end(warehouse, p, p.snapshot_date)
    bound = {"snapshot": quality.snapshot, "days": p.landmark_days}
    at = rec.arrays(*_statement(warehouse, p, _AT_LANDMARK_SQL, bound))
    early = rec.arrays(*_statement(warehouse, p, _EARLY_USE_SQL, bound))
    accounts = _AtLandmark(at)
    adopters = _early_adopters(accounts, early)
    total_months, total_churns = float(accounts.months.sum()), int(accounts.churned.sum())
    rows, findings = [], []
    for feature in sorted(adopters):
        users = adopters[feature]
        t_a = float(accounts.months[users].sum())
        c_a = int(accounts.churned[users].sum())
        t_r, c_r = total_months - t_a, total_churns - c_a
        test = rate_ratio_test(c_a, t_a, c_r, t_r, label=feature, unit="paying month")
        rows.append(
            {
                "feature": feature,
                "adopters": len(users),
                "adopter_churns": c_a,
                "adopter_paying_months": t_a,
                "adopter_monthly_churn": c_a / t_a if t_a else None,
                "non_adopters": len(accounts.entity) - len(users),
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
        "accounts_at_landmark": len(accounts.entity),
        "churned_after_landmark": total_churns,
        "paying_months_after_landmark": total_months,
        "landmark_days": p.landmark_days,
        **quality.summary(),
    }
    quality.qualify(findings)
    return rec.result("churn_relationship", rows, findings, notes, summary=summary)
