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

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

# the mechanics every generator shares; loaded by its path, as bench_answers.py loads this file
_spec = importlib.util.spec_from_file_location(
    "bench_answers_shared", Path(__file__).with_name("_shared.py")
)
shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shared)

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


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~2.1x over the period, weekends 0.6 of a weekday, a December dip
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=1.1, weekend=0.6, lull=(12, 0.85), surge=(9, 1.12)
    )
    user_id = np.arange(1001, 1001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size = levels.picked[:4]  # the country has no effect

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
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (drawn before churn: automation users churn less)
    adopt, counts = shared.adopt_features(
        rng,
        trials,
        FEATURES,
        lift=(1.05, 0.9),
        max_p=0.98,
        mu=(0.3, 0.5, 0.18),
        sigma=0.95,
        cap=COUNT_CAP,
    )
    automation = adopt[:, list(FEATURES).index("automation_run")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * np.array([v[3] for v in PLANS.values()])[plan]
        * np.where(automation, 0.5, 1.0)
    )
    churn = shared.draw_churn(rng, trials, hazard)

    # --- prices and upgrades
    revenue = shared.draw_revenue(rng, trials, churn, NEGOTIATED, UPGRADE_SHARE, price=(0.85, 1.15))

    # --- events: uniform in the active window
    events = shared.draw_events(rng, trials, churn, counts)
    return shared.build_frames(trials, churn, revenue, FEATURES, events)


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers.duckdb")
    make_answer_dataset(out)
    print(out)
