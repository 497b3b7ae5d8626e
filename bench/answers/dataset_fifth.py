"""A fifth held-out dataset for the answer bench: the same tables as ``dataset_fourth.py``, new
levels, new effects and a new span.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_fourth.py``), about 14,000 trial
signups from 2022-04-01 to 2024-09-30. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2024-09-30);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2024-09-30); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2024-09-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2024-09-30).

Effects unlike dataset_fourth.py: the middle plans (nova, nebula) convert best and meteor worst,
while galaxy churns least and meteor most; trade_show and partner_program signups convert best,
youtube_ads worst; legal_services and biotech convert best, gaming worst; mining and gaming churn
most; conversion improves over the span; api_request and alert_configured adopters churn less.
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

USERS = 14_000
START = np.datetime64("2022-04-01", "D")
END = np.datetime64("2024-09-30", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2024-10-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "meteor": (0.30, 0.17, 19.0, 1.40),
    "comet": (0.25, 0.22, 59.0, 1.10),
    "nova": (0.20, 0.29, 149.0, 0.90),
    "nebula": (0.15, 0.27, 399.0, 0.70),
    "galaxy": (0.10, 0.19, 1190.0, 0.45),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"nebula", "galaxy"}  # price 0.80-1.05 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "biotech": (0.11, 1.35, 0.85),
    "logistics": (0.15, 1.00, 1.00),
    "legal_services": (0.12, 1.50, 0.75),
    "higher_education": (0.13, 0.90, 0.95),
    "gaming": (0.12, 0.60, 1.30),
    "energy": (0.10, 1.10, 0.80),
    "automotive": (0.14, 0.95, 1.05),
    "mining": (0.13, 0.80, 1.55),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "trade_show": (0.12, 1.55),
    "youtube_ads": (0.22, 0.55),
    "newsletter": (0.17, 1.05),
    "partner_program": (0.15, 1.35),
    "cold_email": (0.18, 0.75),
    "review_site": (0.16, 1.15),
}
SIZES = {
    "1-19": (0.31, 0.90),
    "20-99": (0.27, 1.10),
    "100-499": (0.22, 1.15),
    "500-1999": (0.13, 0.95),
    "2000+": (0.07, 0.80),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "BR": (0.15, 0.80),
    "FR": (0.13, 1.00),
    "NL": (0.10, 1.15),
    "DK": (0.06, 1.25),
    "FI": (0.07, 1.10),
    "CH": (0.08, 1.20),
    "AU": (0.12, 1.05),
    "TH": (0.09, 0.85),
    "VN": (0.09, 0.75),
    "CL": (0.11, 0.90),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "report_exported": (0.72, 1.20),
    "dashboard_shared": (0.64, 1.50),
    "query_saved": (0.85, 1.80),
    "alert_configured": (0.28, 0.60),
    "api_request": (0.18, 2.60),
    "invite_sent": (0.48, 0.30),
    "filter_applied": (0.90, 2.00),
    "data_imported": (0.55, 0.80),
    "sheet_linked": (0.33, 1.00),
}
BASE_HAZARD = 0.035  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.10
DOUBLE_UPGRADE_SHARE = 0.20  # of upgrades, the share that jump two plans
COUNT_CAP = 2000


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~1.6x, weekends 0.45 of a weekday, a July lull, a September surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=0.6, weekend=0.45, lull=(7, 0.75), surge=(9, 1.25)
    )
    user_id = np.arange(900_001, 900_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 10-28 day trial; conversion improves over time
    trial_days = rng.integers(10, 29, size=n)
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
    p_conv = np.clip(p_conv, 0.02, 0.75)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (API use and alerts make accounts stickier)
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
    api = adopt[:, list(FEATURES).index("api_request")]
    alerts = adopt[:, list(FEATURES).index("alert_configured")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(api, 0.55, 1.0)
        * np.where(alerts, 0.70, 1.0)
    )
    churn = shared.draw_churn(rng, trials, hazard)

    # --- prices and upgrades (one plan up, sometimes two)
    revenue = shared.draw_revenue(
        rng, trials, churn, NEGOTIATED, UPGRADE_SHARE, DOUBLE_UPGRADE_SHARE, price=(0.80, 1.05)
    )

    # --- events: uniform in the active window
    events = shared.draw_events(rng, trials, churn, counts)
    return shared.build_frames(trials, churn, revenue, FEATURES, events)


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_fifth.duckdb")
    make_answer_dataset(out)
    print(out)
