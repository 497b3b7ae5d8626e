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
from typing import Any

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


#: Every plan churns 3% a month; gold's accounts signed up in the last six months of the data,
#: so they have had less time to churn: the share ever churned is lower at the same hazard.
SAME_HAZARD_RECENT_PLAN: dict[str, dict[str, Any]] = {
    "bronze": {"hazard": 0.03, "accounts": 700, "mrr": 10.0},
    "silver": {"hazard": 0.03, "accounts": 700, "mrr": 40.0},
    "gold": {"hazard": 0.03, "accounts": 700, "mrr": 120.0, "since": dt.date(2025, 1, 1)},
}


def make_plan_hazard_design(
    path: Path, plans: dict[str, dict[str, Any]], *, seed: int = 5, trials: float = 0.2
) -> Path:
    """Paying accounts per plan, each plan with its own monthly churn hazard, signup window
    and MRR, to the end of the window (``END``). A plan's spec:

    - ``hazard``: the chance of churning in each paying month (the same every month);
    - ``accounts``: paying accounts; ``since``: the first signup date (default ``START``), so
      a plan that started recently has had less time to churn;
    - ``mrr``: the median MRR of an account and ``sigma`` the log-normal spread of accounts'
      MRR (0: every account pays ``mrr``; 1: the mean is 1.65 x the median);
    - or ``months`` and ``churned``: every account pays exactly ``months`` months ending in the
      window's last month, and ``churned`` of them churn in their last one (no randomness).

    An account signs up, pays from the first month after its 14-day trial, and in each month
    it pays churns with probability ``hazard`` (its churn date falls in that month, whose
    revenue row it has); otherwise it pays on to ``END``. ``trials`` more accounts per plan
    (a share of the paying ones) never convert; a share ``trial_churn`` of them (a plan's spec,
    default 0) cancel at the trial's end and are marked churned, as some sources record them. Each account has a ``home`` event on its
    signup and on its last active day.
    """
    rng = np.random.default_rng(seed)
    last_month = END.replace(day=1)

    def month_add(month: dt.date, k: int) -> dt.date:
        y, m = divmod(month.month - 1 + k, 12)
        return dt.date(month.year + y, m + 1, 1)

    users: list[dict[str, Any]] = []
    revenue: list[tuple[int, dt.date, str, float]] = []
    events: list[tuple[int, dt.datetime]] = []
    for plan, spec in plans.items():
        n = int(spec.get("accounts", 0))
        fixed = "months" in spec
        for i in range(n + round(n * trials)):
            uid = len(users) + 1
            paying = i < n
            if fixed:
                first = month_add(last_month, -int(spec["months"]) + 1)
                signup = month_add(first, -1) + dt.timedelta(days=int(rng.integers(0, 14)))
                months = int(spec["months"])
                churned = paying and i < int(spec.get("churned", 0))
            else:
                since = spec.get("since", START)
                span = (END - since).days - 45
                signup = since + dt.timedelta(days=int(rng.integers(0, span)))
                first = month_add((signup + dt.timedelta(days=14)).replace(day=1), 1)
                left = (last_month.year - first.year) * 12 + last_month.month - first.month + 1
                life = int(rng.geometric(spec["hazard"]))  # months paid, the last one churning
                churned = paying and life <= left
                months = life if churned else left
            if not paying:
                months = 0
            mrr = float(spec.get("mrr", 10.0)) * float(
                np.exp(spec.get("sigma", 0.0) * rng.normal())
            )
            churn_date = None
            if churned:
                churn_date = month_add(first, months - 1) + dt.timedelta(
                    days=int(rng.integers(0, 28))
                )
            elif not paying and rng.random() < float(spec.get("trial_churn", 0.0)):
                churned, churn_date = True, signup + dt.timedelta(days=14)  # a cancelled trial
            revenue += [(uid, month_add(first, k), plan, round(mrr, 2)) for k in range(months)]
            last_day = churn_date or (END if paying else signup + dt.timedelta(days=14))
            events += [(uid, dt.datetime.combine(d, dt.time(12))) for d in (signup, last_day)]
            users.append(
                {
                    "user_id": uid,
                    "signup_date": signup,
                    "plan_type": plan,
                    "industry": "any",
                    "acquisition_channel": "web",
                    "company_size": "1-10",
                    "country": "NZ",
                    "converted": paying,
                    "churned": churned,
                    "churn_date": churn_date,
                }
            )
    events_df = pd.DataFrame(
        {
            "event_id": np.arange(1, len(events) + 1, dtype=np.int64),
            "user_id": np.asarray([u for u, _ in events], dtype=np.int64),
            "event_type": "home",
            "event_ts": [t for _, t in events],
        }
    )
    revenue_df = pd.DataFrame(revenue, columns=["user_id", "month", "plan_type", "mrr"])
    write_contract_tables(path, pd.DataFrame(users), events_df, revenue_df)
    return path


def plan_hazard_designs(
    root: Path, designs: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, Path]:
    """One DuckDB file per named design of ``make_plan_hazard_design``, under ``root``."""
    return {
        name: make_plan_hazard_design(root / f"{name}.duckdb", plans)
        for name, plans in designs.items()
    }
