"""A ninth held-out dataset for the answer bench: the same tables as ``dataset_eighth.py``, new
levels, new effects and a new span.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_eighth.py``), about 12,300 trial
signups from 2022-02-01 to 2025-05-31. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2025-05-31);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2025-05-31); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2025-05-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2025-05-31).

Levels: plans lento, andante, allegro, vivace, presto (cheapest to dearest); industries
architecture, dentistry, veterinary, textiles, winemaking, robotics, event_planning, tax_advisory;
channels webinar, affiliate_network, newsletter, billboard, influencer, app_marketplace,
direct_mail; sizes 1-3, 4-19, 20-89, 90-449, 450-1999, 2000+; countries PE CL HR SI GH RS UY NP
KZ NZ LK (Peru, Chile, Croatia, Slovenia, Ghana, Serbia, Uruguay, Nepal, Kazakhstan, New Zealand,
Sri Lanka); features photo_uploaded, shift_scheduled, label_printed, route_planned, quote_sent,
inventory_synced, review_requested, playlist_created, badge_awarded, voicenote_recorded.

Effects unlike dataset_eighth.py: the second-dearest plan (vivace) converts best and the middle
one (allegro) worst, while vivace also churns least and andante most; webinar and newsletter
signups convert best, billboard worst; veterinary and winemaking convert best, robotics worst;
textiles and event_planning are set to churn most, dentistry least; conversion peaks in the middle
size band (20-89) and is lowest for 1-3; SI and UY convert best, GH and NP worst; conversion rises
steadily over the span; inventory_synced and shift_scheduled adopters churn less. Signups roughly
double over the span, with a December lull and a March surge.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

USERS = 12_300
START = np.datetime64("2022-02-01", "D")
END = np.datetime64("2025-05-31", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2025-06-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "lento": (0.30, 0.21, 12.0, 1.20),
    "andante": (0.25, 0.18, 39.0, 1.70),
    "allegro": (0.20, 0.11, 99.0, 1.00),
    "vivace": (0.15, 0.29, 260.0, 0.45),
    "presto": (0.10, 0.15, 780.0, 0.80),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"vivace", "presto"}  # price 0.78-1.04 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "architecture": (0.13, 1.00, 1.00),
    "dentistry": (0.12, 1.05, 0.45),
    "veterinary": (0.11, 1.48, 0.95),
    "textiles": (0.14, 0.92, 1.70),
    "winemaking": (0.10, 1.32, 1.10),
    "robotics": (0.15, 0.58, 0.85),
    "event_planning": (0.13, 0.86, 1.45),
    "tax_advisory": (0.12, 1.12, 0.70),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "webinar": (0.11, 1.55),
    "affiliate_network": (0.17, 0.96),
    "newsletter": (0.13, 1.34),
    "billboard": (0.15, 0.52),
    "influencer": (0.18, 0.83),
    "app_marketplace": (0.14, 1.10),
    "direct_mail": (0.12, 0.72),
}
SIZES = {
    "1-3": (0.22, 0.66),
    "4-19": (0.26, 0.95),
    "20-89": (0.21, 1.34),
    "90-449": (0.15, 1.14),
    "450-1999": (0.10, 0.88),
    "2000+": (0.06, 0.78),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "PE": (0.10, 0.96),
    "CL": (0.09, 1.08),
    "HR": (0.08, 1.00),
    "SI": (0.07, 1.45),
    "GH": (0.11, 0.60),
    "RS": (0.09, 0.90),
    "UY": (0.07, 1.36),
    "NP": (0.12, 0.70),
    "KZ": (0.10, 0.84),
    "NZ": (0.08, 1.20),
    "LK": (0.09, 1.02),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "photo_uploaded": (0.84, 2.10),
    "shift_scheduled": (0.35, 1.00),
    "label_printed": (0.62, 1.50),
    "route_planned": (0.48, 1.20),
    "quote_sent": (0.74, 1.80),
    "inventory_synced": (0.28, 0.80),
    "review_requested": (0.55, 1.10),
    "playlist_created": (0.41, 0.90),
    "badge_awarded": (0.67, 1.35),
    "voicenote_recorded": (0.22, 0.70),
}
BASE_HAZARD = 0.028  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.10
DOUBLE_UPGRADE_SHARE = 0.30  # of upgrades, the share that jump two plans
COUNT_CAP = 1800


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
    # --- signups: volume roughly doubles, weekends 0.5 of a weekday, a December lull, a March surge
    days = np.arange(START, DATA_END_EXCL, dtype="datetime64[D]")
    t = np.linspace(0.0, 1.0, len(days))
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
    month_of_year = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weights = (1.0 + 1.0 * t) * np.where(weekday >= 5, 0.50, 1.0)
    weights *= np.where(month_of_year == 12, 0.65, 1.0) * np.where(month_of_year == 3, 1.35, 1.0)
    signup = np.sort(rng.choice(days, size=n, p=weights / weights.sum()))
    user_id = np.arange(3_400_001, 3_400_001 + n, dtype=np.int64)

    plan = _pick(rng, PLANS, n)
    industry = _pick(rng, INDUSTRIES, n)
    channel = _pick(rng, CHANNELS, n)
    size = _pick(rng, SIZES, n)
    country = _pick(rng, COUNTRIES, n)

    # --- conversion at the end of a 7-21 day trial; conversion rises steadily over the span
    trial_days = rng.integers(7, 22, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        _col(PLANS, 1)[plan]
        * _col(INDUSTRIES, 1)[industry]
        * _col(CHANNELS, 1)[channel]
        * _col(SIZES, 1)[size]
        * _col(COUNTRIES, 1)[country]
        * (0.80 + 0.45 * age)
    )
    p_conv = np.clip(p_conv, 0.02, 0.78)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)

    # --- feature adoption and counts (synced inventory and scheduled shifts make accounts stickier)
    n_feat = len(FEATURES)
    adopt = np.empty((n, n_feat), dtype=bool)
    counts = np.zeros((n, n_feat), dtype=np.int64)
    life_days = np.where(converted, (DATA_END_EXCL - signup).astype(np.int64), trial_days)
    for j, (adoption, log_mean) in enumerate(FEATURES.values()):
        p = np.clip(adoption * np.where(converted, 1.18, 0.78), 0.0, 0.97)
        adopt[:, j] = rng.random(n) < p
        mu = log_mean - 0.45 + 0.65 * converted + 0.20 * np.log1p(life_days / 30.0)
        c = np.ceil(np.exp(rng.normal(mu, 0.80)))
        counts[:, j] = np.where(adopt[:, j], np.minimum(c, COUNT_CAP), 0).astype(np.int64)
    synced = adopt[:, list(FEATURES).index("inventory_synced")]
    shifts = adopt[:, list(FEATURES).index("shift_scheduled")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * _col(PLANS, 3)[plan]
        * _col(INDUSTRIES, 2)[industry]
        * np.where(synced, 0.55, 1.0)
        * np.where(shifts, 0.75, 1.0)
    )
    wait_days = np.maximum(1, np.ceil(rng.exponential(30.44 / hazard)).astype(np.int64))
    churn_day = conv_day + wait_days.astype("timedelta64[D]")
    churned = converted & (churn_day <= END)
    churn_date = np.where(churned, churn_day, np.datetime64("NaT"))

    # --- prices and upgrades (one plan up, sometimes two)
    negotiated_idx = [PLAN_ORDER.index(p) for p in NEGOTIATED]
    price_factor = np.where(np.isin(plan, negotiated_idx), rng.uniform(0.78, 1.04, n), 1.0)
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
    upgrade_factor = rng.uniform(0.78, 1.04, n)  # negotiated price of the plan moved to

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

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_ninth.duckdb")
    make_answer_dataset(out)
    print(out)
