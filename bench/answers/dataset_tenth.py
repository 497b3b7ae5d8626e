"""A tenth held-out dataset for the answer bench: the same tables as ``dataset_ninth.py``, new
levels, new effects and a new span.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_ninth.py``), about 9,650 trial
signups from 2020-09-01 to 2024-02-29. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2024-02-29);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2024-02-29); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2024-02-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2024-02-29).

Levels: plans wren, finch, kestrel, osprey, condor (cheapest to dearest); industries
aquaculture, pharmacy, forestry, translation, ceramics, landscaping, freight_brokerage,
music_tuition; channels radio_spot, cold_email, community_forum, reseller, sponsorship,
review_platform, qr_flyer; sizes 1-7, 8-30, 31-120, 121-600, 601-2500, 2501+; countries PT EE KE
UG CR BG EC JO TN MN (Portugal, Estonia, Kenya, Uganda, Costa Rica, Bulgaria, Ecuador, Jordan,
Tunisia, Mongolia); features invoice_exported, barcode_scanned, timesheet_approved, map_pinned,
survey_launched, ticket_escalated, whiteboard_drawn, reminder_snoozed, folder_archived,
signature_captured.

Effects unlike dataset_ninth.py: conversion falls with the price of the plan (wren converts best,
condor worst), while finch churns least and condor most; reseller and community_forum signups
convert best, radio_spot worst; pharmacy and translation convert best, aquaculture worst; forestry
and ceramics are set to churn most, music_tuition least; conversion rises with the size band
(2501+ best, 1-7 worst); EE and PT convert best, UG and MN worst; conversion dips in the middle
of the span and recovers; timesheet_approved and barcode_scanned adopters churn less,
survey_launched adopters a little more. Signups grow by about 60% over the span, with an August
lull and a January surge.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

USERS = 9_650
START = np.datetime64("2020-09-01", "D")
END = np.datetime64("2024-02-29", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2024-03-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "wren": (0.28, 0.30, 9.0, 1.15),
    "finch": (0.26, 0.24, 29.0, 0.55),
    "kestrel": (0.20, 0.19, 79.0, 1.00),
    "osprey": (0.15, 0.14, 210.0, 0.85),
    "condor": (0.11, 0.09, 640.0, 1.60),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"osprey", "condor"}  # price 0.80-1.05 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "aquaculture": (0.12, 0.55, 1.05),
    "pharmacy": (0.13, 1.42, 0.90),
    "forestry": (0.11, 0.95, 1.75),
    "translation": (0.14, 1.28, 1.00),
    "ceramics": (0.10, 1.02, 1.55),
    "landscaping": (0.15, 0.88, 0.80),
    "freight_brokerage": (0.13, 0.76, 1.20),
    "music_tuition": (0.12, 1.10, 0.40),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "radio_spot": (0.13, 0.48),
    "cold_email": (0.18, 0.74),
    "community_forum": (0.12, 1.46),
    "reseller": (0.11, 1.62),
    "sponsorship": (0.15, 0.92),
    "review_platform": (0.17, 1.15),
    "qr_flyer": (0.14, 0.63),
}
SIZES = {
    "1-7": (0.24, 0.62),
    "8-30": (0.25, 0.84),
    "31-120": (0.20, 1.02),
    "121-600": (0.15, 1.20),
    "601-2500": (0.10, 1.38),
    "2501+": (0.06, 1.60),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "PT": (0.11, 1.38),
    "EE": (0.07, 1.52),
    "KE": (0.12, 0.86),
    "UG": (0.10, 0.57),
    "CR": (0.09, 1.06),
    "BG": (0.11, 0.95),
    "EC": (0.10, 0.91),
    "JO": (0.09, 1.12),
    "TN": (0.11, 0.80),
    "MN": (0.10, 0.64),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "invoice_exported": (0.80, 2.00),
    "barcode_scanned": (0.38, 1.40),
    "timesheet_approved": (0.31, 1.10),
    "map_pinned": (0.57, 1.25),
    "survey_launched": (0.45, 0.85),
    "ticket_escalated": (0.70, 1.60),
    "whiteboard_drawn": (0.50, 1.05),
    "reminder_snoozed": (0.64, 1.75),
    "folder_archived": (0.26, 0.75),
    "signature_captured": (0.19, 0.60),
}
BASE_HAZARD = 0.031  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.08
DOUBLE_UPGRADE_SHARE = 0.25  # of upgrades, the share that jump two plans
COUNT_CAP = 1500


def _pick(rng: np.random.Generator, table: dict, n: int) -> np.ndarray:
    shares = np.array([v[0] for v in table.values()], dtype=float)
    return rng.choice(len(table), size=n, p=shares / shares.sum())


def _col(table: dict, i: int) -> np.ndarray:
    return np.array([v[i] for v in table.values()], dtype=float)


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
    # --- signups: volume grows ~60%, weekends 0.4 of a weekday, an August lull, a January surge
    days = np.arange(START, DATA_END_EXCL, dtype="datetime64[D]")
    t = np.linspace(0.0, 1.0, len(days))
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
    month_of_year = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weights = (1.0 + 0.6 * t) * np.where(weekday >= 5, 0.40, 1.0)
    weights *= np.where(month_of_year == 8, 0.60, 1.0) * np.where(month_of_year == 1, 1.40, 1.0)
    signup = np.sort(rng.choice(days, size=n, p=weights / weights.sum()))
    user_id = np.arange(5_100_001, 5_100_001 + n, dtype=np.int64)

    plan = _pick(rng, PLANS, n)
    industry = _pick(rng, INDUSTRIES, n)
    channel = _pick(rng, CHANNELS, n)
    size = _pick(rng, SIZES, n)
    country = _pick(rng, COUNTRIES, n)

    # --- conversion at the end of a 10-30 day trial; conversion dips mid-span and recovers
    trial_days = rng.integers(10, 31, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        _col(PLANS, 1)[plan]
        * _col(INDUSTRIES, 1)[industry]
        * _col(CHANNELS, 1)[channel]
        * _col(SIZES, 1)[size]
        * _col(COUNTRIES, 1)[country]
        * (1.15 - 0.40 * np.sin(np.pi * age))
    )
    p_conv = np.clip(p_conv, 0.02, 0.80)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)

    # --- feature adoption and counts (approved timesheets and scanned barcodes make accounts
    # stickier, launched surveys a little less so)
    n_feat = len(FEATURES)
    adopt = np.empty((n, n_feat), dtype=bool)
    counts = np.zeros((n, n_feat), dtype=np.int64)
    life_days = np.where(converted, (DATA_END_EXCL - signup).astype(np.int64), trial_days)
    for j, (adoption, log_mean) in enumerate(FEATURES.values()):
        p = np.clip(adoption * np.where(converted, 1.20, 0.75), 0.0, 0.96)
        adopt[:, j] = rng.random(n) < p
        mu = log_mean - 0.50 + 0.70 * converted + 0.22 * np.log1p(life_days / 30.0)
        c = np.ceil(np.exp(rng.normal(mu, 0.85)))
        counts[:, j] = np.where(adopt[:, j], np.minimum(c, COUNT_CAP), 0).astype(np.int64)
    timesheets = adopt[:, list(FEATURES).index("timesheet_approved")]
    barcodes = adopt[:, list(FEATURES).index("barcode_scanned")]
    surveys = adopt[:, list(FEATURES).index("survey_launched")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * _col(PLANS, 3)[plan]
        * _col(INDUSTRIES, 2)[industry]
        * np.where(timesheets, 0.50, 1.0)
        * np.where(barcodes, 0.70, 1.0)
        * np.where(surveys, 1.20, 1.0)
    )
    wait_days = np.maximum(1, np.ceil(rng.exponential(30.44 / hazard)).astype(np.int64))
    churn_day = conv_day + wait_days.astype("timedelta64[D]")
    churned = converted & (churn_day <= END)
    churn_date = np.where(churned, churn_day, np.datetime64("NaT"))

    # --- prices and upgrades (one plan up, sometimes two)
    negotiated_idx = [PLAN_ORDER.index(p) for p in sorted(NEGOTIATED)]
    price_factor = np.where(np.isin(plan, negotiated_idx), rng.uniform(0.80, 1.05, n), 1.0)
    first_month = _month_index(conv_day)
    end_month = np.where(
        churned, _month_index(churn_day), _month_index(np.array([DATA_END_EXCL]))[0]
    )
    n_months = np.where(converted, np.maximum(end_month - first_month, 0), 0)
    can_upgrade = (n_months >= 2) & (plan < len(PLANS) - 1)
    upgrades = can_upgrade & (rng.random(n) < UPGRADE_SHARE)
    step = np.where((rng.random(n) < DOUBLE_UPGRADE_SHARE) & (plan < len(PLANS) - 2), 2, 1)
    upgrade_at = np.where(
        upgrades, 1 + np.floor(rng.random(n) * np.maximum(n_months - 1, 1)).astype(np.int64), 10**6
    )
    upgrade_factor = rng.uniform(0.80, 1.05, n)  # negotiated price of the plan moved to

    prices = _col(PLANS, 2)
    rows = np.repeat(np.arange(n), n_months)
    k = np.arange(rows.size) - np.repeat(np.cumsum(n_months) - n_months, n_months)
    moved = k >= upgrade_at[rows]
    rev_plan = plan[rows] + moved.astype(np.int64) * step[rows]
    rev_factor = np.where(
        moved,
        np.where(np.isin(rev_plan, negotiated_idx), upgrade_factor[rows], 1.0),
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

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_tenth.duckdb")
    make_answer_dataset(out)
    print(out)
