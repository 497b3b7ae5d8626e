"""Generated data built to fool analyses that ignore time, in the contract's schema.

``make_churn_design(path, design)`` writes paying accounts with a constant monthly churn hazard
and one feature whose relation to churn is set by ``design``:

- ``"leakage"``: ``cancel_flow`` is used only by churned accounts, on their churn day (a cancel
  flow): adopters "churn" 100%, yet using it causes nothing.
- ``"immortal"``: ``exports`` is adopted with a constant chance in every active month and has no
  effect: accounts that live longer have more months to adopt it, so ever-adopters churn less.
- ``"planted"``: ``sync``, used from the first days by 40% of accounts, halves the hazard.
- ``"none"``: no feature is related to churn.

Every account uses ``home`` from its first days; nothing else differs between accounts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from synthetic import write_contract_tables

START, END = dt.date(2023, 1, 1), dt.date(2025, 6, 30)
DAYS_PER_MONTH = 365.25 / 12
BASE_HAZARD = 0.045  # per paying month


def make_churn_design(path: Path, design: str, *, users: int = 6000, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    n = users
    signup_offset = rng.integers(0, (END - START).days - 60, n)
    signup = np.array([START + dt.timedelta(days=int(d)) for d in signup_offset])
    converted = rng.random(n) < 0.5
    paid_from = signup_offset + 14
    planted = (rng.random(n) < 0.4) if design == "planted" else np.zeros(n, dtype=bool)
    hazard = np.where(planted, BASE_HAZARD / 2, BASE_HAZARD)
    life = rng.exponential(1 / hazard) * DAYS_PER_MONTH
    end_offset = (END - START).days
    churn_offset = paid_from + life
    churned = converted & (churn_offset <= end_offset)
    active_until = np.where(
        ~converted, paid_from, np.where(churned, churn_offset, end_offset)
    ).astype(float)

    ev_user: list[int] = []
    ev_type: list[str] = []
    ev_day: list[float] = []

    def use(i: int, feature: str, days: np.ndarray) -> None:
        ev_user.extend([i + 1] * len(days))
        ev_type.extend([feature] * len(days))
        ev_day.extend(days.tolist())

    for i in range(n):
        start, stop = float(signup_offset[i]), float(active_until[i])
        span = max(stop - start, 1.0)
        use(i, "home", np.r_[start + rng.random() * min(5.0, span), start + rng.random(4) * span])
        if design == "planted" and planted[i]:
            use(
                i,
                "sync",
                np.r_[start + rng.random() * min(10.0, span), start + rng.random(3) * span],
            )
        if design == "leakage" and churned[i]:
            use(i, "cancel_flow", np.array([churn_offset[i] + rng.random() * 0.9]))
        if design == "immortal" and converted[i]:
            month = float(paid_from[i])
            while month < stop:
                if rng.random() < 0.08:  # the same chance in every active month
                    first = month + rng.random() * DAYS_PER_MONTH
                    if first < stop:
                        later = first + rng.random(2) * max(stop - first, 1.0)
                        use(i, "exports", np.r_[first, later[later < stop]])
                    break
                month += DAYS_PER_MONTH
    _write(path, signup, converted, churned, churn_offset, ev_user, ev_type, ev_day)
    return path


def _write(
    path: Path,
    signup: np.ndarray,
    converted: np.ndarray,
    churned: np.ndarray,
    churn_offset: np.ndarray,
    ev_user: list[int],
    ev_type: list[str],
    ev_day: list[float],
) -> None:
    n = len(signup)
    start = dt.datetime.combine(START, dt.time())
    users = pd.DataFrame(
        {
            "user_id": np.arange(1, n + 1, dtype=np.int64),
            "signup_date": signup,
            "plan_type": "standard",
            "industry": "any",
            "acquisition_channel": "web",
            "company_size": "1-10",
            "country": "NZ",
            "converted": converted,
            "churned": churned,
            "churn_date": [
                (START + dt.timedelta(days=int(c))) if gone else None
                for c, gone in zip(churn_offset, churned, strict=True)
            ],
        }
    )
    events = pd.DataFrame(
        {
            "event_id": np.arange(1, len(ev_user) + 1, dtype=np.int64),
            "user_id": np.asarray(ev_user, dtype=np.int64),
            "event_type": ev_type,
            "event_ts": [start + dt.timedelta(days=d) for d in ev_day],
        }
    )
    revenue = pd.DataFrame(
        {"user_id": [1], "month": [START], "plan_type": ["standard"], "mrr": [1.0]}
    )
    write_contract_tables(path, users, events, revenue)


COHORT_START, COHORT_END = dt.date(2024, 1, 1), dt.date(2025, 6, 30)


def make_cohort_design(path: Path, design: str, *, users: int = 20_000, seed: int = 5) -> Path:
    """Signups to the last day, trials of 7 to 21 days, conversion decided at the trial's end,
    so the newest signups have not converted yet (censored). ``design``: ``"flat"`` (25% in
    every cohort) or ``"rising"`` (15% in the first month to 35% in the last)."""
    rng = np.random.default_rng(seed)
    span = (COHORT_END - COHORT_START).days
    offset = np.sort((np.sqrt(rng.random(users)) * (span + 1)).astype(int))  # signups grow
    signup = np.array([COHORT_START + dt.timedelta(days=int(d)) for d in offset])
    rate = 0.25 if design == "flat" else 0.15 + 0.20 * offset / span
    trial_end = offset + rng.integers(7, 22, users)
    converted = (rng.random(users) < rate) & (trial_end <= span)
    users_df = pd.DataFrame(
        {
            "user_id": np.arange(1, users + 1, dtype=np.int64),
            "signup_date": signup,
            "plan_type": "standard",
            "industry": "any",
            "acquisition_channel": "web",
            "company_size": "1-10",
            "country": "NZ",
            "converted": converted,
            "churned": False,
            "churn_date": None,
        }
    )
    start = dt.datetime.combine(COHORT_START, dt.time())
    events = pd.DataFrame(
        {
            "event_id": np.arange(1, users + 1, dtype=np.int64),
            "user_id": users_df["user_id"],
            "event_type": "home",
            "event_ts": [start + dt.timedelta(days=int(d), hours=9) for d in offset],
        }
    )
    revenue = pd.DataFrame(
        {"user_id": [1], "month": [COHORT_START], "plan_type": ["standard"], "mrr": [1.0]}
    )
    write_contract_tables(path, users_df, events, revenue)
    return path
