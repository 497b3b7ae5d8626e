"""A small dataset of our own, unlike the demo: other level names, other effects, or none.

The analyses are judged on data they have never seen, so tests plant effects here with names the
code cannot know (tiers bronze/silver/gold, features alpha..epsilon) and check each is found, and
that nothing is found when ``effects=False``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

PLANS = {"bronze": 10.0, "silver": 40.0, "gold": 120.0}
INDUSTRIES = ["aerospace", "agritech", "civic", "dental"]
CHANNELS = ["radio", "podcast", "events"]
SIZES = ["XS", "S", "M"]
COUNTRIES = ["NZ", "IE", "SG"]
FEATURES = ["alpha", "beta", "gamma", "delta", "epsilon"]
START, END = dt.date(2023, 1, 1), dt.date(2024, 6, 30)


def make_dataset(path: Path, *, users: int = 12_000, seed: int = 1, effects: bool = True) -> Path:
    rng = np.random.default_rng(seed)
    n = users
    days = (END - START).days - 30
    # Signups grow over time when effects are on, so MRR grows; flat otherwise.
    u = rng.random(n)
    offset = (np.sqrt(u) if effects else u) * days
    signup = np.array([START + dt.timedelta(days=int(d)) for d in offset])
    plan = rng.choice(list(PLANS), n, p=[0.5, 0.35, 0.15])
    industry = rng.choice(INDUSTRIES, n)
    channel = rng.choice(CHANNELS, n)
    size = rng.choice(SIZES, n)
    country = rng.choice(COUNTRIES, n)
    p_convert = np.full(n, 0.22)
    if effects:
        p_convert = np.where(industry == "dental", 0.36, p_convert)
        p_convert = np.where(channel == "radio", p_convert * 0.6, p_convert)
    converted = rng.random(n) < p_convert

    # Feature use: independent adoption and log-normal intensity; alpha and beta share a
    # latent intensity, and delta adoption rises with the plan, when effects are on.
    latent = rng.normal(size=n)
    counts = {}
    for f in FEATURES:
        adopt_p = np.full(n, 0.4)
        if effects and f == "delta":
            adopt_p = np.select([plan == "bronze", plan == "silver"], [0.15, 0.4], 0.75)
        z = rng.normal(size=n)
        if effects and f in ("alpha", "beta"):
            z = 0.8 * latent + 0.6 * z
            adopt_p = 1 / (1 + np.exp(-(latent * 1.2 - 0.4)))
        adopted = rng.random(n) < adopt_p
        counts[f] = np.where(adopted, 1 + np.floor(np.exp(0.5 + 0.9 * z)), 0).astype(int)

    hazard = np.full(n, 0.06)
    if effects:
        hazard = np.where(counts["gamma"] > 0, 0.025, hazard)
    lifetime_days = rng.exponential(1 / hazard) * 30.4
    conversion_day = np.array([s + dt.timedelta(days=14) for s in signup])
    churn_at = np.array(
        [c + dt.timedelta(days=int(x)) for c, x in zip(conversion_day, lifetime_days, strict=True)]
    )
    churned = converted & (churn_at <= END)
    users_df = pd.DataFrame(
        {
            "user_id": np.arange(1, n + 1, dtype=np.int64),
            "signup_date": signup,
            "plan_type": plan,
            "industry": industry,
            "acquisition_channel": channel,
            "company_size": size,
            "country": country,
            "converted": converted,
            "churned": churned,
            "churn_date": np.where(churned, churn_at, None),
        }
    )
    users_df["signup_date"] = pd.to_datetime(users_df["signup_date"]).dt.date
    users_df["churn_date"] = pd.to_datetime(users_df["churn_date"]).dt.date

    active_until = np.where(~converted, conversion_day, np.where(churned, churn_at, END))
    ev_user, ev_type, ev_ts = [], [], []
    for f in FEATURES:
        c = counts[f]
        who = np.repeat(np.arange(n), c)
        span = np.array([(active_until[i] - signup[i]).days for i in who], dtype=float)
        # An adopter starts using a feature in its first weeks (the first event within 20
        # days), then uses it across its active time: early use does not depend on how long
        # the account will live, as in real data.
        first = np.r_[True, who[1:] != who[:-1]] if len(who) else np.zeros(0, dtype=bool)
        offset = rng.random(len(who)) * np.where(first, np.minimum(span, 20.0), span)
        ts = [
            dt.datetime.combine(signup[i], dt.time()) + dt.timedelta(days=float(s))
            for i, s in zip(who, offset, strict=True)
        ]
        ev_user.append(who + 1)
        ev_type += [f] * len(who)
        ev_ts += ts
    events_df = pd.DataFrame(
        {
            "user_id": np.concatenate(ev_user).astype(np.int64),
            "event_type": ev_type,
            "event_ts": ev_ts,
        }
    )
    events_df.insert(0, "event_id", np.arange(1, len(events_df) + 1, dtype=np.int64))

    rev_user, rev_month, rev_plan, rev_mrr = [], [], [], []
    for i in np.flatnonzero(converted):
        month = conversion_day[i].replace(day=1)
        stop = (
            churn_at[i].replace(day=1) if churned[i] else END.replace(day=1) + dt.timedelta(days=31)
        )
        while month < stop and month <= END:
            rev_user.append(i + 1)
            rev_month.append(month)
            rev_plan.append(plan[i])
            rev_mrr.append(PLANS[plan[i]])
            month = (month + dt.timedelta(days=32)).replace(day=1)
    revenue_df = pd.DataFrame(
        {
            "user_id": np.asarray(rev_user, dtype=np.int64),
            "month": rev_month,
            "plan_type": rev_plan,
            "mrr": np.asarray(rev_mrr, dtype=float),
        }
    )

    write_contract_tables(path, users_df, events_df, revenue_df)
    return path


def write_contract_tables(
    path: Path, users: pd.DataFrame, events: pd.DataFrame, revenue: pd.DataFrame
) -> None:
    """The three tables of the contract's schema, with its column types, from data frames."""
    con = duckdb.connect(str(path))
    con.register("u", users)
    con.register("e", events)
    con.register("r", revenue)
    con.execute("""CREATE TABLE users AS SELECT user_id::BIGINT AS user_id,
        signup_date::DATE AS signup_date, plan_type::VARCHAR AS plan_type,
        industry::VARCHAR AS industry, acquisition_channel::VARCHAR AS acquisition_channel,
        company_size::VARCHAR AS company_size, country::VARCHAR AS country,
        converted::BOOLEAN AS converted, churned::BOOLEAN AS churned,
        churn_date::DATE AS churn_date FROM u""")
    con.execute("""CREATE TABLE events AS SELECT event_id::BIGINT AS event_id,
        user_id::BIGINT AS user_id, event_type::VARCHAR AS event_type,
        event_ts::TIMESTAMP AS event_ts FROM e""")
    con.execute("""CREATE TABLE revenue AS SELECT user_id::BIGINT AS user_id, month::DATE AS month,
        plan_type::VARCHAR AS plan_type, mrr::DOUBLE AS mrr FROM r""")
    con.close()
