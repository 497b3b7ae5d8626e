"""A fourth held-out dataset for the answer bench: the same tables as ``dataset_fresh.py``, new
levels, new effects and a new span.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_fresh.py``), about 18,000 trial
signups from 2023-01-01 to 2025-03-31. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2025-03-31);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2025-03-31); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2025-03-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2025-03-31).

Effects unlike dataset_fresh.py: the cheaper plans convert better (diamond converts worst) while
platinum churns least; webinar and affiliate signups convert best, reddit_ads worst; aerospace and
insurance convert best, hospitality worst; hospitality and nonprofit churn most; sso_login and
webhook_fired adopters churn less.
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

USERS = 18_000
START = np.datetime64("2023-01-01", "D")
END = np.datetime64("2025-03-31", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2025-04-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "bronze": (0.31, 0.30, 15.0, 1.35),
    "silver": (0.26, 0.26, 45.0, 1.05),
    "gold": (0.20, 0.22, 129.0, 0.85),
    "platinum": (0.15, 0.18, 349.0, 0.55),
    "diamond": (0.08, 0.13, 990.0, 0.75),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"platinum", "diamond"}  # price 0.75-1.05 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "insurance": (0.14, 1.30, 0.80),
    "hospitality": (0.13, 0.65, 1.45),
    "agriculture": (0.10, 0.90, 0.95),
    "telecom": (0.15, 1.05, 1.00),
    "construction": (0.12, 0.85, 1.10),
    "real_estate": (0.14, 1.00, 0.90),
    "aerospace": (0.08, 1.45, 0.70),
    "nonprofit": (0.14, 0.75, 1.35),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "podcast": (0.15, 1.10),
    "webinar": (0.14, 1.50),
    "affiliate": (0.18, 1.30),
    "reddit_ads": (0.20, 0.60),
    "app_marketplace": (0.19, 0.95),
    "outbound": (0.14, 0.80),
}
SIZES = {
    "1-9": (0.28, 1.15),
    "10-49": (0.26, 1.05),
    "50-249": (0.20, 0.95),
    "250-999": (0.13, 0.90),
    "1000-4999": (0.08, 0.85),
    "5000+": (0.05, 0.80),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "MX": (0.14, 0.85),
    "ES": (0.12, 1.00),
    "SE": (0.08, 1.20),
    "PL": (0.10, 0.95),
    "KR": (0.11, 1.10),
    "SG": (0.07, 1.15),
    "ZA": (0.09, 0.80),
    "IE": (0.09, 1.05),
    "NZ": (0.06, 1.10),
    "PT": (0.14, 0.95),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "chart_created": (0.88, 1.40),
    "comment_posted": (0.75, 1.70),
    "file_uploaded": (0.66, 1.00),
    "template_cloned": (0.45, 0.40),
    "bulk_edit": (0.36, 0.90),
    "calendar_synced": (0.30, 0.20),
    "mobile_session": (0.52, 1.90),
    "sso_login": (0.20, 1.20),
    "webhook_fired": (0.15, 2.30),
}
BASE_HAZARD = 0.04  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.12
DOUBLE_UPGRADE_SHARE = 0.25  # of upgrades, the share that jump two plans
COUNT_CAP = 2000


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~1.4x, weekends 0.55 of a weekday, a December lull, a March surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=0.4, weekend=0.55, lull=(12, 0.70), surge=(3, 1.20)
    )
    user_id = np.arange(700_001, 700_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 7-21 day trial; conversion slips slowly over time
    trial_days = rng.integers(7, 22, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        shared.col(PLANS, 1)[plan]
        * shared.col(INDUSTRIES, 1)[industry]
        * shared.col(CHANNELS, 1)[channel]
        * shared.col(SIZES, 1)[size]
        * shared.col(COUNTRIES, 1)[country]
        * (1.10 - 0.2 * age)
    )
    p_conv = np.clip(p_conv, 0.02, 0.70)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (SSO and webhooks make accounts stickier)
    adopt, counts = shared.adopt_features(
        rng,
        trials,
        FEATURES,
        lift=(1.15, 0.8),
        max_p=0.97,
        mu=(0.4, 0.6, 0.22),
        sigma=0.85,
        cap=COUNT_CAP,
    )
    sso = adopt[:, list(FEATURES).index("sso_login")]
    webhook = adopt[:, list(FEATURES).index("webhook_fired")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(sso, 0.5, 1.0)
        * np.where(webhook, 0.65, 1.0)
    )
    churn = shared.draw_churn(rng, trials, hazard)

    # --- prices and upgrades (one plan up, sometimes two)
    revenue = shared.draw_revenue(
        rng, trials, churn, NEGOTIATED, UPGRADE_SHARE, DOUBLE_UPGRADE_SHARE, price=(0.75, 1.05)
    )

    # --- events: uniform in the active window
    events = shared.draw_events(rng, trials, churn, counts)
    return shared.build_frames(trials, churn, revenue, FEATURES, events)


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_fourth.duckdb")
    make_answer_dataset(out)
    print(out)
