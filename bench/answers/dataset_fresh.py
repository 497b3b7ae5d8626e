"""A fresh held-out dataset for the answer bench: the same tables as ``dataset.py``, new levels.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset.py``), about 20,000 trial signups
from 2022-07-01 to 2024-06-30. Everything is drawn from ``numpy.random.default_rng(seed)`` in a
fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2024-06-30);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2024-06-30); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2024-06-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2024-06-30).
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
START = np.datetime64("2022-07-01", "D")
END = np.datetime64("2024-06-30", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2024-07-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "solo": (0.34, 0.14, 12.0, 1.45),
    "team": (0.28, 0.20, 39.0, 1.10),
    "studio": (0.19, 0.24, 99.0, 0.90),
    "scale": (0.12, 0.29, 299.0, 0.70),
    "corporate": (0.07, 0.36, 899.0, 0.45),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"scale", "corporate"}  # price 0.80-1.10 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "retail": (0.18, 0.95, 1.15),
    "logistics": (0.12, 1.10, 0.90),
    "manufacturing": (0.14, 1.05, 0.85),
    "media": (0.13, 0.80, 1.30),
    "energy": (0.07, 1.20, 0.80),
    "biotech": (0.10, 1.40, 0.75),
    "government": (0.09, 0.60, 0.70),
    "automotive": (0.17, 1.00, 1.00),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "seo": (0.27, 1.00),
    "google_ads": (0.22, 0.85),
    "linkedin_ads": (0.14, 0.95),
    "partner": (0.13, 1.55),
    "cold_email": (0.11, 0.55),
    "trade_show": (0.13, 1.25),
}
SIZES = {
    "1-10": (0.33, 0.85),
    "11-50": (0.27, 1.00),
    "51-200": (0.21, 1.10),
    "201-1000": (0.13, 1.20),
    "1001+": (0.06, 1.30),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "US": (0.24, 1.05),
    "DE": (0.11, 1.00),
    "GB": (0.10, 1.02),
    "FR": (0.08, 0.95),
    "CA": (0.07, 1.00),
    "BR": (0.09, 0.85),
    "IN": (0.12, 0.80),
    "JP": (0.06, 1.10),
    "NL": (0.05, 1.08),
    "AU": (0.08, 1.00),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "dashboard_view": (0.92, 1.60),
    "search_query": (0.80, 1.30),
    "report_export": (0.58, 0.70),
    "invite_sent": (0.50, 0.30),
    "data_import": (0.47, 0.50),
    "alert_created": (0.38, 0.60),
    "api_call": (0.26, 2.10),
    "integration_added": (0.22, 0.20),
    "workflow_published": (0.17, 0.80),
}
BASE_HAZARD = 0.035  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.15
DOUBLE_UPGRADE_SHARE = 0.2  # of upgrades, the share that jump two plans
COUNT_CAP = 2000


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~1.6x, weekends 0.45 of a weekday, an August lull, a January surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=0.6, weekend=0.45, lull=(8, 0.75), surge=(1, 1.25)
    )
    user_id = np.arange(50_001, 50_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 10-30 day trial; conversion improves slowly over time
    trial_days = rng.integers(10, 31, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        shared.col(PLANS, 1)[plan]
        * shared.col(INDUSTRIES, 1)[industry]
        * shared.col(CHANNELS, 1)[channel]
        * shared.col(SIZES, 1)[size]
        * shared.col(COUNTRIES, 1)[country]
        * (0.85 + 0.3 * age)
    )
    p_conv = np.clip(p_conv, 0.02, 0.70)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (integrations and workflows make accounts stickier)
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
    integration = adopt[:, list(FEATURES).index("integration_added")]
    workflow = adopt[:, list(FEATURES).index("workflow_published")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(integration, 0.4, 1.0)
        * np.where(workflow, 0.7, 1.0)
    )
    churn = shared.draw_churn(rng, trials, hazard)

    # --- prices and upgrades (one plan up, sometimes two)
    revenue = shared.draw_revenue(
        rng, trials, churn, NEGOTIATED, UPGRADE_SHARE, DOUBLE_UPGRADE_SHARE, price=(0.80, 1.10)
    )

    # --- events: uniform in the active window
    events = shared.draw_events(rng, trials, churn, counts)
    return shared.build_frames(trials, churn, revenue, FEATURES, events)


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_fresh.duckdb")
    make_answer_dataset(out)
    print(out)
