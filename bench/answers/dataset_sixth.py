"""A sixth held-out dataset for the answer bench: the same tables as ``dataset_fifth.py``, new
levels, new effects and a new span.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_fifth.py``), about 13,600 trial
signups from 2023-02-01 to 2025-07-31. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2025-07-31);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2025-07-31); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2025-07-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2025-07-31).

Levels: plans solo, duet, trio, quartet, orchestra (cheapest to dearest); industries agriculture,
hospitality, insurance, construction, pharmaceuticals, aerospace, public_sector, food_beverage;
channels podcast_ads, webinar, affiliate, app_marketplace, linkedin_ads, word_of_mouth; sizes
1-14, 15-74, 75-299, 300-1499, 1500+; countries ES PL SE IE CA MX ZA KR NZ PT; features
workflow_run, comment_added, file_uploaded, template_used, calendar_synced, webhook_created,
task_assigned, export_pdf, integration_connected.

Effects unlike dataset_fifth.py: the cheapest plan (solo) converts best and quartet worst, while
quartet churns least and duet most; webinar and word_of_mouth signups convert best, affiliate
worst; pharmaceuticals and public_sector convert best, hospitality worst; construction and
agriculture churn most, public_sector least; SE and NZ convert best, MX and ZA worst; conversion
declines over the span; webhook_created and calendar_synced adopters churn less. Signups grow
~1.4x, with a December lull and a March surge.
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

USERS = 13_600
START = np.datetime64("2023-02-01", "D")
END = np.datetime64("2025-07-31", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2025-08-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "solo": (0.32, 0.30, 15.0, 1.20),
    "duet": (0.24, 0.24, 45.0, 1.55),
    "trio": (0.20, 0.21, 120.0, 1.00),
    "quartet": (0.14, 0.15, 320.0, 0.45),
    "orchestra": (0.10, 0.22, 950.0, 0.70),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"quartet", "orchestra"}  # price 0.80-1.05 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "agriculture": (0.12, 1.00, 1.35),
    "hospitality": (0.14, 0.55, 1.05),
    "insurance": (0.13, 1.10, 0.90),
    "construction": (0.15, 0.85, 1.55),
    "pharmaceuticals": (0.10, 1.45, 0.95),
    "aerospace": (0.09, 0.90, 0.80),
    "public_sector": (0.12, 1.30, 0.60),
    "food_beverage": (0.15, 0.75, 1.10),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "podcast_ads": (0.14, 0.95),
    "webinar": (0.15, 1.50),
    "affiliate": (0.20, 0.60),
    "app_marketplace": (0.17, 1.10),
    "linkedin_ads": (0.21, 0.85),
    "word_of_mouth": (0.13, 1.40),
}
SIZES = {
    "1-14": (0.28, 1.05),
    "15-74": (0.30, 1.15),
    "75-299": (0.21, 0.95),
    "300-1499": (0.14, 0.85),
    "1500+": (0.07, 1.20),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "ES": (0.13, 1.00),
    "PL": (0.11, 0.95),
    "SE": (0.07, 1.30),
    "IE": (0.06, 1.10),
    "CA": (0.15, 1.05),
    "MX": (0.12, 0.70),
    "ZA": (0.09, 0.75),
    "KR": (0.10, 0.90),
    "NZ": (0.05, 1.25),
    "PT": (0.12, 1.00),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "workflow_run": (0.82, 2.10),
    "comment_added": (0.70, 1.60),
    "file_uploaded": (0.76, 1.30),
    "template_used": (0.52, 0.70),
    "calendar_synced": (0.31, 0.50),
    "webhook_created": (0.16, 0.90),
    "task_assigned": (0.88, 1.90),
    "export_pdf": (0.45, 0.60),
    "integration_connected": (0.38, 0.40),
}
BASE_HAZARD = 0.038  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.12
DOUBLE_UPGRADE_SHARE = 0.25  # of upgrades, the share that jump two plans
COUNT_CAP = 2000


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~1.4x, weekends 0.5 of a weekday, a December lull, a March surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=0.4, weekend=0.5, lull=(12, 0.7), surge=(3, 1.3)
    )
    user_id = np.arange(1_200_001, 1_200_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 7-30 day trial; conversion declines over time
    trial_days = rng.integers(7, 31, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        shared.col(PLANS, 1)[plan]
        * shared.col(INDUSTRIES, 1)[industry]
        * shared.col(CHANNELS, 1)[channel]
        * shared.col(SIZES, 1)[size]
        * shared.col(COUNTRIES, 1)[country]
        * (1.15 - 0.3 * age)
    )
    p_conv = np.clip(p_conv, 0.02, 0.75)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (webhooks and calendar sync make accounts stickier)
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
    webhooks = adopt[:, list(FEATURES).index("webhook_created")]
    calendar = adopt[:, list(FEATURES).index("calendar_synced")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(webhooks, 0.50, 1.0)
        * np.where(calendar, 0.75, 1.0)
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

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_sixth.duckdb")
    make_answer_dataset(out)
    print(out)
