"""Generated data for segment findings, in the contract's schema, with levels the code cannot know.

``make_segment_design(path, conversion=...)`` writes accounts whose five categorical dimensions
are drawn independently (or as ``draw`` says), whose conversion chance is ``conversion(users)``
(a function of the drawn columns; a flat 20% by default), and whose feature use, churn and
revenue carry no effect at all: every feature is adopted at one rate by everyone, with counts
independent of each other; paying accounts churn at one monthly hazard; MRR is fixed by plan.
So whatever a run finds beyond what ``conversion`` plants is a false finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from synthetic import write_contract_tables

START, END = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
#: Several dimensions with many levels, none of them the demo's.
LEVELS: dict[str, list[str]] = {
    "plan_type": ["lite", "plus", "max", "ultra"],
    "industry": [f"sector_{c}" for c in "abcdefghij"],
    "acquisition_channel": ["billboard", "webinar", "affiliate", "newsletter", "referral", "tv"],
    "company_size": ["1", "2-9", "10-49", "50-249", "250+"],
    "country": ["NO", "PT", "KE", "CL", "VN", "CA", "PL", "EG", "NZ", "IS", "UY", "GH"],
}
PLAN_MRR = {"lite": 15.0, "plus": 45.0, "max": 110.0, "ultra": 300.0}
FEATURES = ["orbit", "lens", "quill", "relay", "vault", "prism"]
Draw = Callable[[np.random.Generator, int], dict[str, np.ndarray]]
Conversion = Callable[[pd.DataFrame], np.ndarray]


def uniform_levels(levels: dict[str, list[str]] = LEVELS) -> Draw:
    def draw(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        return {d: rng.choice(values, n) for d, values in levels.items()}

    return draw


def flat(rate: float = 0.2) -> Conversion:
    return lambda users: np.full(len(users), rate)


def make_segment_design(
    path: Path,
    *,
    users: int = 20_000,
    seed: int = 1,
    draw: Draw | None = None,
    conversion: Conversion | None = None,
    hazard: Conversion | None = None,
    events_per_adopter: float = 3.0,
) -> Path:
    rng = np.random.default_rng(seed)
    n = users
    columns = (draw or uniform_levels())(rng, n)
    days = (END - START).days - 90
    signup = np.array([START + dt.timedelta(days=int(d)) for d in rng.integers(0, days, n)])
    frame = pd.DataFrame({"user_id": np.arange(1, n + 1, dtype=np.int64), **columns})
    for dim, values in LEVELS.items():
        if dim not in frame:
            frame[dim] = rng.choice(values, n)
    converted = rng.random(n) < (conversion or flat())(frame)
    paid_from = np.array([s + dt.timedelta(days=14) for s in signup])
    # One hazard, 4% per paying month, unless ``hazard`` plants one per account.
    monthly = hazard(frame) if hazard else np.full(n, 0.04)
    life_days = rng.exponential(1 / monthly) * 30.44
    churn_at = np.array(
        [p + dt.timedelta(days=int(x)) for p, x in zip(paid_from, life_days, strict=True)]
    )
    churned = converted & (churn_at <= END)
    frame["signup_date"] = signup
    frame["converted"] = converted
    frame["churned"] = churned
    frame["churn_date"] = pd.to_datetime(pd.Series(np.where(churned, churn_at, None))).dt.date
    active_until = np.where(~converted, paid_from, np.where(churned, churn_at, END))
    write_contract_tables(
        path, frame, _events(rng, signup, active_until, events_per_adopter), _revenue(frame)
    )
    return path


def _events(
    rng: np.random.Generator, signup: np.ndarray, until: np.ndarray, per_adopter: float
) -> pd.DataFrame:
    """Every feature adopted by 40% of accounts alike; counts independent of everything. An
    adopter's first use falls in its first 20 days whatever its lifetime (spreading every use
    over the active span would make early use a sign of a short life)."""
    n = len(signup)
    span = np.array([max((u - s).days, 1) for s, u in zip(signup, until, strict=True)])
    start = pd.to_datetime(pd.Series(signup)).to_numpy()
    users, kinds, stamps = [], [], []
    for feature in FEATURES:
        counts = np.where(rng.random(n) < 0.4, 1 + rng.poisson(per_adopter - 1, n), 0)
        who = np.repeat(np.arange(n), counts)
        first = np.r_[True, who[1:] != who[:-1]] if len(who) else np.zeros(0, dtype=bool)
        window = np.where(first, np.minimum(span[who], 20), span[who])
        offset = rng.random(len(who)) * window * 86_400
        users.append(who + 1)
        kinds += [feature] * len(who)
        stamps.append(start[who] + offset.astype("timedelta64[s]"))
    events = pd.DataFrame(
        {
            "user_id": np.concatenate(users).astype(np.int64),
            "event_type": kinds,
            "event_ts": np.concatenate(stamps),
        }
    )
    events.insert(0, "event_id", np.arange(1, len(events) + 1, dtype=np.int64))
    return events


def _revenue(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per paying account and month at its plan's MRR, from the month after signup
    to the month before churn (or the end)."""
    rows: dict[str, list[object]] = {"user_id": [], "month": [], "plan_type": [], "mrr": []}
    last = END.replace(day=1)
    for user, signup, plan, churned, churn in frame.loc[
        frame["converted"], ["user_id", "signup_date", "plan_type", "churned", "churn_date"]
    ].itertuples(index=False):
        month = (signup + dt.timedelta(days=14)).replace(day=1)
        stop = churn.replace(day=1) if churned else last + dt.timedelta(days=31)
        while month < stop and month <= last:
            rows["user_id"].append(user)
            rows["month"].append(month)
            rows["plan_type"].append(plan)
            rows["mrr"].append(PLAN_MRR.get(plan, 50.0))
            month = (month + dt.timedelta(days=32)).replace(day=1)
    return pd.DataFrame(rows)
