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


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume roughly doubles, weekends 0.5 of a weekday, a December lull, a March surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=1.0, weekend=0.50, lull=(12, 0.65), surge=(3, 1.35)
    )
    user_id = np.arange(3_400_001, 3_400_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 7-21 day trial; conversion rises steadily over the span
    trial_days = rng.integers(7, 22, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        shared.col(PLANS, 1)[plan]
        * shared.col(INDUSTRIES, 1)[industry]
        * shared.col(CHANNELS, 1)[channel]
        * shared.col(SIZES, 1)[size]
        * shared.col(COUNTRIES, 1)[country]
        * (0.80 + 0.45 * age)
    )
    p_conv = np.clip(p_conv, 0.02, 0.78)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (synced inventory and scheduled shifts make accounts stickier)
    adopt, counts = shared.adopt_features(
        rng,
        trials,
        FEATURES,
        lift=(1.18, 0.78),
        max_p=0.97,
        mu=(0.45, 0.65, 0.20),
        sigma=0.80,
        cap=COUNT_CAP,
    )
    synced = adopt[:, list(FEATURES).index("inventory_synced")]
    shifts = adopt[:, list(FEATURES).index("shift_scheduled")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(synced, 0.55, 1.0)
        * np.where(shifts, 0.75, 1.0)
    )
    churn = shared.draw_churn(rng, trials, hazard)

    # --- prices and upgrades (one plan up, sometimes two)
    revenue = shared.draw_revenue(
        rng, trials, churn, NEGOTIATED, UPGRADE_SHARE, DOUBLE_UPGRADE_SHARE, price=(0.78, 1.04)
    )

    # --- events: uniform in the active window
    events = shared.draw_events(rng, trials, churn, counts)
    return shared.build_frames(trials, churn, revenue, FEATURES, events)


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_ninth.duckdb")
    make_answer_dataset(out)
    print(out)
