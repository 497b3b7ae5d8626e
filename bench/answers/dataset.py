"""The answer bench's own dataset: the CONTRACT section 1 tables with levels unlike the demo's.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as the demo), about 20,000 trial signups from
2023-03-01 to 2024-12-31. Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed
order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` for roughly 15-40% of a segment's trials; churn only
among converted accounts, with ``churn_date`` set only when ``churned`` (strictly after the
conversion day, on or before 2024-12-31); one revenue row per paying account and month, from the
conversion month up to but excluding the churn month, the last month being 2024-12-01;
``revenue.plan_type`` is the signup plan except after an upgrade; ``mrr`` > 0 by the plan's price;
events fall inside the account's active window (the trial for accounts that never converted, else
from signup to the churn day or the end of 2024).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

USERS = 20_000
START = np.datetime64("2023-03-01", "D")
END = np.datetime64("2024-12-31", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2025-01-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "basic": (0.42, 0.17, 15.0, 1.20),
    "plus": (0.31, 0.21, 49.0, 1.00),
    "premium": (0.18, 0.26, 179.0, 0.80),
    "ultimate": (0.09, 0.31, 599.0, 0.55),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"premium", "ultimate"}  # price 0.85-1.15 of list, per account

# name: (share, conversion multiplier)
INDUSTRIES = {
    "gaming": (0.16, 0.90),
    "insurance": (0.12, 1.00),
    "hospitality": (0.14, 1.00),
    "agriculture": (0.08, 1.05),
    "legal": (0.10, 1.30),
    "nonprofit": (0.12, 0.70),
    "construction": (0.13, 1.00),
    "telecom": (0.15, 1.10),
}
CHANNELS = {
    "direct": (0.25, 1.00),
    "affiliate": (0.15, 1.10),
    "webinar": (0.12, 1.45),
    "podcast": (0.10, 0.75),
    "newsletter": (0.18, 1.00),
    "marketplace": (0.20, 0.95),
}
SIZES = {
    "1-5": (0.30, 0.95),
    "6-25": (0.30, 1.00),
    "26-100": (0.20, 1.03),
    "101-500": (0.13, 1.05),
    "501+": (0.07, 1.08),
}
# ISO 3166 alpha-2 codes; no effect on anything
COUNTRIES = {
    "PT": 0.12,
    "KR": 0.14,
    "MX": 0.15,
    "NO": 0.07,
    "ZA": 0.09,
    "PL": 0.12,
    "SE": 0.08,
    "NZ": 0.06,
    "AR": 0.10,
    "SG": 0.07,
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "file_upload": (0.88, 1.10),
    "comment_posted": (0.75, 1.00),
    "chat_message": (0.65, 1.20),
    "mobile_login": (0.55, 0.80),
    "calendar_sync": (0.45, 0.50),
    "invoice_sent": (0.40, 0.60),
    "pdf_export": (0.35, 0.40),
    "automation_run": (0.30, 0.90),
}
BASE_HAZARD = 0.04  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.12
COUNT_CAP = 1500


def _pick(rng: np.random.Generator, table: dict, n: int) -> np.ndarray:
    names = list(table)
    shares = np.array([v[0] if isinstance(v, tuple) else v for v in table.values()], dtype=float)
    return rng.choice(len(names), size=n, p=shares / shares.sum())


def _month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of datetime64[D] values."""
    return days.astype("datetime64[M]").astype(np.int64)


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    path = Path(path)
    rng = np.random.default_rng(seed)
    users_df, revenue_df, events_df = _generate(rng, users)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    if tmp.exists():
        tmp.unlink()
    con = duckdb.connect(str(tmp))
    try:
        con.register("users_df", users_df)
        con.register("revenue_df", revenue_df)
        con.register("events_df", events_df)
        con.execute(
            """
            CREATE TABLE users (
                user_id BIGINT, signup_date DATE, plan_type VARCHAR, industry VARCHAR,
                acquisition_channel VARCHAR, company_size VARCHAR, country VARCHAR,
                converted BOOLEAN, churned BOOLEAN, churn_date DATE);
            INSERT INTO users SELECT user_id::BIGINT, signup_date::DATE, plan_type, industry,
                acquisition_channel, company_size, country, converted::BOOLEAN, churned::BOOLEAN,
                churn_date::DATE FROM users_df ORDER BY user_id;
            CREATE TABLE events (event_id BIGINT, user_id BIGINT, event_type VARCHAR,
                event_ts TIMESTAMP);
            INSERT INTO events SELECT event_id::BIGINT, user_id::BIGINT, event_type,
                event_ts::TIMESTAMP FROM events_df ORDER BY event_id;
            CREATE TABLE revenue (user_id BIGINT, month DATE, plan_type VARCHAR, mrr DOUBLE);
            INSERT INTO revenue SELECT user_id::BIGINT, month::DATE, plan_type, mrr::DOUBLE
                FROM revenue_df ORDER BY month, user_id;
            CHECKPOINT;
            """
        )
    finally:
        con.close()
    os.replace(tmp, path)
    wal = tmp.with_name(tmp.name + ".wal")
    if wal.exists():
        wal.unlink()
    return path


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~2.1x over the period, weekends 0.6 of a weekday, a December dip
    days = np.arange(START, DATA_END_EXCL, dtype="datetime64[D]")
    t = np.linspace(0.0, 1.0, len(days))
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
    month_of_year = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weights = (1.0 + 1.1 * t) * np.where(weekday >= 5, 0.6, 1.0)
    weights *= np.where(month_of_year == 12, 0.85, 1.0) * np.where(month_of_year == 9, 1.12, 1.0)
    signup = np.sort(rng.choice(days, size=n, p=weights / weights.sum()))
    user_id = np.arange(1001, 1001 + n, dtype=np.int64)

    plan = _pick(rng, PLANS, n)
    industry = _pick(rng, INDUSTRIES, n)
    channel = _pick(rng, CHANNELS, n)
    size = _pick(rng, SIZES, n)
    country = _pick(rng, COUNTRIES, n)

    # --- conversion at the end of a 7-21 day trial (not yet decided if the trial runs past 2024)
    trial_days = rng.integers(7, 22, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    p_conv = (
        np.array([v[1] for v in PLANS.values()])[plan]
        * np.array([v[1] for v in INDUSTRIES.values()])[industry]
        * np.array([v[1] for v in CHANNELS.values()])[channel]
        * np.array([v[1] for v in SIZES.values()])[size]
    )
    p_conv = np.clip(p_conv, 0.03, 0.65)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)

    # --- feature adoption and counts (drawn before churn: automation users churn less)
    n_feat = len(FEATURES)
    adopt = np.empty((n, n_feat), dtype=bool)
    counts = np.zeros((n, n_feat), dtype=np.int64)
    life_days = np.where(converted, (DATA_END_EXCL - signup).astype(np.int64), trial_days)
    for j, (adoption, log_mean) in enumerate(FEATURES.values()):
        p = np.clip(adoption * np.where(converted, 1.05, 0.9), 0.0, 0.98)
        adopt[:, j] = rng.random(n) < p
        mu = log_mean - 0.3 + 0.5 * converted + 0.18 * np.log1p(life_days / 30.0)
        c = np.ceil(np.exp(rng.normal(mu, 0.95)))
        counts[:, j] = np.where(adopt[:, j], np.minimum(c, COUNT_CAP), 0).astype(np.int64)
    automation = adopt[:, list(FEATURES).index("automation_run")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * np.array([v[3] for v in PLANS.values()])[plan]
        * np.where(automation, 0.5, 1.0)
    )
    wait_days = np.maximum(1, np.ceil(rng.exponential(30.44 / hazard)).astype(np.int64))
    churn_day = conv_day + wait_days.astype("timedelta64[D]")
    churned = converted & (churn_day <= END)
    churn_date = np.where(churned, churn_day, np.datetime64("NaT"))

    # --- prices and upgrades
    price_factor = np.where(
        np.isin(plan, [PLAN_ORDER.index(p) for p in NEGOTIATED]), rng.uniform(0.85, 1.15, n), 1.0
    )
    first_month = _month_index(conv_day)
    end_month = np.where(
        churned, _month_index(churn_day), _month_index(np.array([DATA_END_EXCL]))[0]
    )
    n_months = np.where(converted, np.maximum(end_month - first_month, 0), 0)
    can_upgrade = (n_months >= 2) & (plan < len(PLANS) - 1)
    upgrades = can_upgrade & (rng.random(n) < UPGRADE_SHARE)
    upgrade_at = np.where(
        upgrades, 1 + np.floor(rng.random(n) * np.maximum(n_months - 1, 1)).astype(np.int64), 10**6
    )
    upgrade_factor = rng.uniform(0.85, 1.15, n)  # negotiated price of the plan moved to

    prices = np.array([v[2] for v in PLANS.values()])
    rows = np.repeat(np.arange(n), n_months)
    k = np.arange(rows.size) - np.repeat(np.cumsum(n_months) - n_months, n_months)
    moved = k >= upgrade_at[rows]
    rev_plan = plan[rows] + moved.astype(np.int64)
    rev_factor = np.where(
        moved,
        np.where(
            np.isin(rev_plan, [PLAN_ORDER.index(p) for p in NEGOTIATED]), upgrade_factor[rows], 1.0
        ),
        price_factor[rows],
    )
    rev_mrr = np.round(prices[rev_plan] * rev_factor, 2)
    rev_month = (first_month[rows] + k).astype("datetime64[M]").astype("datetime64[D]")

    # --- events: uniform in the active window
    window_start = signup.astype("datetime64[s]")
    window_end = np.where(
        converted,
        np.where(churned, churn_day + np.timedelta64(1, "D"), DATA_END_EXCL),
        np.minimum(signup + trial_days.astype("timedelta64[D]"), DATA_END_EXCL),
    ).astype("datetime64[s]")
    span = (window_end - window_start).astype(np.int64)
    flat = counts.ravel()
    ev_user = np.repeat(np.repeat(np.arange(n), n_feat), flat)
    ev_feat = np.repeat(np.tile(np.arange(n_feat), n), flat)
    offset = np.floor(rng.random(ev_user.size) * span[ev_user]).astype(np.int64)
    ev_ts = window_start[ev_user] + offset.astype("timedelta64[s]")
    order = np.lexsort((ev_feat, ev_user, ev_ts))
    ev_user, ev_feat, ev_ts = ev_user[order], ev_feat[order], ev_ts[order]

    plan_names = np.array(PLAN_ORDER, dtype=object)
    users_df = pd.DataFrame(
        {
            "user_id": user_id,
            "signup_date": signup,
            "plan_type": plan_names[plan],
            "industry": np.array(list(INDUSTRIES), dtype=object)[industry],
            "acquisition_channel": np.array(list(CHANNELS), dtype=object)[channel],
            "company_size": np.array(list(SIZES), dtype=object)[size],
            "country": np.array(list(COUNTRIES), dtype=object)[country],
            "converted": converted,
            "churned": churned,
            "churn_date": churn_date,
        }
    )
    revenue_df = pd.DataFrame(
        {
            "user_id": user_id[rows],
            "month": rev_month,
            "plan_type": plan_names[rev_plan],
            "mrr": rev_mrr,
        }
    )
    events_df = pd.DataFrame(
        {
            "event_id": np.arange(1, ev_user.size + 1, dtype=np.int64),
            "user_id": user_id[ev_user],
            "event_type": np.array(list(FEATURES), dtype=object)[ev_feat],
            "event_ts": ev_ts,
        }
    )
    return users_df, revenue_df, events_df


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers.duckdb")
    make_answer_dataset(out)
    print(out)
