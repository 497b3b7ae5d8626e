"""The mechanics the answer bench's dataset generators (``dataset*.py``) share.

Each generator keeps its own levels, dates, effects and the order of its draws; these helpers do
only the work that was the same in all of them, and each draws from ``rng`` exactly as the
generators did inline. A change here changes the data of every held-out set that uses it, so
nothing here may change what it draws or computes: add a new helper (or a new keyword whose
default keeps the old behaviour) for a later set's needs instead.

A generator is loaded by its file path (``bench/bench_answers.py``), not as part of a package, so
it loads this module by its path too (see any generator's imports).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd

# the users table's level columns, in the order a generator picks them
LEVEL_COLUMNS = ("plan_type", "industry", "acquisition_channel", "company_size", "country")


class Levels(NamedTuple):
    """The level tables (plans, industries, channels, sizes, countries) and, for each, every
    account's index into it."""

    tables: tuple[dict, ...]
    picked: tuple[np.ndarray, ...]


class Trials(NamedTuple):
    """Each account's signup and trial, as a generator drew them, and the end of observation."""

    user_id: np.ndarray
    signup: np.ndarray  # datetime64[D]
    levels: Levels
    trial_days: np.ndarray
    conv_day: np.ndarray  # the trial's last day, when it converts or not
    converted: np.ndarray
    end: np.datetime64  # the last day observed

    @property
    def end_excl(self) -> np.datetime64:
        return self.end + np.timedelta64(1, "D")


class Churn(NamedTuple):
    """Each account's churn day (drawn for all), whether it churned by the end, and its churn date
    (NaT unless churned)."""

    day: np.ndarray
    churned: np.ndarray
    date: np.ndarray


class Revenue(NamedTuple):
    """One row per paying account and month: the account's position, plan index, mrr, month."""

    rows: np.ndarray
    plan: np.ndarray
    mrr: np.ndarray
    month: np.ndarray


class Events(NamedTuple):
    """One row per event, in time order: the account's position, feature index, timestamp."""

    user: np.ndarray
    feature: np.ndarray
    ts: np.ndarray


def pick(rng: np.random.Generator, table: dict, n: int) -> np.ndarray:
    """``n`` level indices of ``table``, by its shares (a value's first item, or the value)."""
    shares = np.array([v[0] if isinstance(v, tuple) else v for v in table.values()], dtype=float)
    return rng.choice(len(table), size=n, p=shares / shares.sum())


def pick_levels(rng: np.random.Generator, n: int, *tables: dict) -> Levels:
    """``n`` accounts' levels, one ``pick`` per table in the order given."""
    return Levels(tables, tuple(pick(rng, table, n) for table in tables))


def col(table: dict, i: int) -> np.ndarray:
    """Item ``i`` of each of ``table``'s values, as floats in the table's order."""
    return np.array([v[i] for v in table.values()], dtype=float)


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of datetime64[D] values."""
    return days.astype("datetime64[M]").astype(np.int64)


def draw_signups(
    rng: np.random.Generator,
    start: np.datetime64,
    end_excl: np.datetime64,
    n: int,
    *,
    growth: float,
    weekend: float,
    lull: tuple[int, float],
    surge: tuple[int, float],
) -> np.ndarray:
    """``n`` sorted signup days in [start, end_excl): volume grows by ``growth`` over the span,
    a weekend day weighs ``weekend`` of a weekday, and each of ``lull`` and ``surge`` (a month of
    the year, a factor) scales its month."""
    days = np.arange(start, end_excl, dtype="datetime64[D]")
    t = np.linspace(0.0, 1.0, len(days))
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
    month_of_year = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weights = (1.0 + growth * t) * np.where(weekday >= 5, weekend, 1.0)
    weights *= np.where(month_of_year == lull[0], lull[1], 1.0) * np.where(
        month_of_year == surge[0], surge[1], 1.0
    )
    return np.sort(rng.choice(days, size=n, p=weights / weights.sum()))


def adopt_features(
    rng: np.random.Generator,
    trials: Trials,
    features: dict,
    *,
    lift: tuple[float, float],
    max_p: float,
    mu: tuple[float, float, float],
    sigma: float,
    cap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Which accounts adopted each feature (bool, accounts x features) and their event counts.

    A feature's adoption probability is scaled by ``lift`` (converted, not converted) and capped
    at ``max_p``; an adopter's count is lognormal around the feature's log-mean less ``mu[0]``,
    plus ``mu[1]`` if converted and ``mu[2]`` times log1p of the months alive, with ``sigma``,
    rounded up and capped at ``cap``."""
    signup, converted = trials.signup, trials.converted
    n, n_feat = len(signup), len(features)
    adopt = np.empty((n, n_feat), dtype=bool)
    counts = np.zeros((n, n_feat), dtype=np.int64)
    life_days = np.where(converted, (trials.end_excl - signup).astype(np.int64), trials.trial_days)
    for j, (adoption, log_mean) in enumerate(features.values()):
        p = np.clip(adoption * np.where(converted, lift[0], lift[1]), 0.0, max_p)
        adopt[:, j] = rng.random(n) < p
        m = log_mean - mu[0] + mu[1] * converted + mu[2] * np.log1p(life_days / 30.0)
        c = np.ceil(np.exp(rng.normal(m, sigma)))
        counts[:, j] = np.where(adopt[:, j], np.minimum(c, cap), 0).astype(np.int64)
    return adopt, counts


def draw_churn(rng: np.random.Generator, trials: Trials, hazard: np.ndarray) -> Churn:
    """Churn at a constant monthly ``hazard`` from the conversion day; only converted accounts
    churn, and only by the end of observation."""
    wait_days = np.maximum(1, np.ceil(rng.exponential(30.44 / hazard)).astype(np.int64))
    churn_day = trials.conv_day + wait_days.astype("timedelta64[D]")
    churned = trials.converted & (churn_day <= trials.end)
    return Churn(churn_day, churned, np.where(churned, churn_day, np.datetime64("NaT")))


def draw_revenue(
    rng: np.random.Generator,
    trials: Trials,
    churn: Churn,
    negotiated: set[str],
    upgrade_share: float,
    double_upgrade_share: float | None = None,
    *,
    price: tuple[float, float],
) -> Revenue:
    """Monthly revenue from the conversion month up to but excluding the churn month (or the end
    of observation), at the plan's list price (item 2 of a plans value) or, for a ``negotiated``
    plan, a per-account share of it in ``price``; ``upgrade_share`` of the accounts that pay two
    months or more move one plan up partway through, and of those ``double_upgrade_share`` move
    two (without it none do, and that draw is not made)."""
    plans = trials.levels.tables[0]
    plan = trials.levels.picked[0]
    n = len(plan)
    plan_order = list(plans)
    negotiated_idx = [plan_order.index(p) for p in sorted(negotiated)]
    price_factor = np.where(np.isin(plan, negotiated_idx), rng.uniform(*price, n), 1.0)
    first_month = month_index(trials.conv_day)
    end_month = np.where(
        churn.churned, month_index(churn.day), month_index(np.array([trials.end_excl]))[0]
    )
    n_months = np.where(trials.converted, np.maximum(end_month - first_month, 0), 0)
    can_upgrade = (n_months >= 2) & (plan < len(plans) - 1)
    upgrades = can_upgrade & (rng.random(n) < upgrade_share)
    step = None
    if double_upgrade_share is not None:
        step = np.where((rng.random(n) < double_upgrade_share) & (plan < len(plans) - 2), 2, 1)
    upgrade_at = np.where(
        upgrades, 1 + np.floor(rng.random(n) * np.maximum(n_months - 1, 1)).astype(np.int64), 10**6
    )
    upgrade_factor = rng.uniform(*price, n)  # negotiated price of the plan moved to

    prices = col(plans, 2)
    rows = np.repeat(np.arange(n), n_months)
    k = np.arange(rows.size) - np.repeat(np.cumsum(n_months) - n_months, n_months)
    moved = k >= upgrade_at[rows]
    steps = moved.astype(np.int64) if step is None else moved.astype(np.int64) * step[rows]
    rev_plan = plan[rows] + steps
    rev_factor = np.where(
        moved,
        np.where(np.isin(rev_plan, negotiated_idx), upgrade_factor[rows], 1.0),
        price_factor[rows],
    )
    rev_mrr = np.round(prices[rev_plan] * rev_factor, 2)
    rev_month = (first_month[rows] + k).astype("datetime64[M]").astype("datetime64[D]")
    return Revenue(rows, rev_plan, rev_mrr, rev_month)


def draw_events(
    rng: np.random.Generator, trials: Trials, churn: Churn, counts: np.ndarray
) -> Events:
    """Each account's ``counts`` events (accounts x features), uniform in its active window: the
    trial if never converted, else signup to the churn day or the end of observation."""
    n, n_feat = counts.shape
    end_excl = trials.end_excl
    window_start = trials.signup.astype("datetime64[s]")
    window_end = np.where(
        trials.converted,
        np.where(churn.churned, churn.day + np.timedelta64(1, "D"), end_excl),
        np.minimum(trials.signup + trials.trial_days.astype("timedelta64[D]"), end_excl),
    ).astype("datetime64[s]")
    span = (window_end - window_start).astype(np.int64)
    flat = counts.ravel()
    ev_user = np.repeat(np.repeat(np.arange(n), n_feat), flat)
    ev_feat = np.repeat(np.tile(np.arange(n_feat), n), flat)
    offset = np.floor(rng.random(ev_user.size) * span[ev_user]).astype(np.int64)
    ev_ts = window_start[ev_user] + offset.astype("timedelta64[s]")
    order = np.lexsort((ev_feat, ev_user, ev_ts))
    return Events(ev_user[order], ev_feat[order], ev_ts[order])


def _names(table: dict, index: np.ndarray) -> np.ndarray:
    return np.array(list(table), dtype=object)[index]


def build_frames(
    trials: Trials, churn: Churn, revenue: Revenue, features: dict, events: Events
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The users, revenue and events frames."""
    user_id, levels = trials.user_id, trials.levels
    level_columns = {
        column: _names(table, index)
        for column, table, index in zip(LEVEL_COLUMNS, levels.tables, levels.picked, strict=True)
    }
    users_df = pd.DataFrame(
        {
            "user_id": user_id,
            "signup_date": trials.signup,
            **level_columns,
            "converted": trials.converted,
            "churned": churn.churned,
            "churn_date": churn.date,
        }
    )
    revenue_df = pd.DataFrame(
        {
            "user_id": user_id[revenue.rows],
            "month": revenue.month,
            "plan_type": _names(levels.tables[0], revenue.plan),
            "mrr": revenue.mrr,
        }
    )
    events_df = pd.DataFrame(
        {
            "event_id": np.arange(1, events.user.size + 1, dtype=np.int64),
            "user_id": user_id[events.user],
            "event_type": _names(features, events.feature),
            "event_ts": events.ts,
        }
    )
    return users_df, revenue_df, events_df


def write_dataset(
    path: Path, users_df: pd.DataFrame, revenue_df: pd.DataFrame, events_df: pd.DataFrame
) -> Path:
    """Write the three tables to a DuckDB file at ``path`` (replacing it) and return ``path``."""
    path = Path(path)
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
