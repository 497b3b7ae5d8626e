"""An eleventh held-out dataset for the answer bench: the same tables as ``dataset_tenth.py``,
new levels, new effects and a new span that ends the day before the set's today (2025-06-18 in
``holdout_eleventh.yaml``), so the current month holds signups and events but no revenue.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_tenth.py``), about 10,400 trial
signups from 2021-05-01 to 2025-06-17. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2025-06-17,
so many of the latest trials have not converted yet); churn only among converted accounts,
``churn_date`` only when ``churned`` (after the conversion day, on or before 2025-06-17); one
revenue row per paying account and month, from the conversion month up to but excluding the
churn month and the month observation ends in (June 2025), so the last revenue month is
2025-05-01 while signups and events run into June 2025; ``revenue.plan_type`` is the signup plan
except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events inside the
active window (the trial if never converted, else signup to churn day or 2025-06-17).

Levels: plans solo, duet, trio, quartet, orchestra (cheapest to dearest); industries optometry,
beekeeping, bookbinding, hydroponics, locksmithing, event_catering, auto_repair, tattoo_studio;
channels billboard, affiliate, newsletter_ad, app_store, word_of_mouth, direct_mail, hackathon;
sizes 1-4, 5-24, 25-99, 100-399, 400-1499, 1500+; countries IE NZ GH PE HR UY LK SN FI PH
(Ireland, New Zealand, Ghana, Peru, Croatia, Uruguay, Sri Lanka, Senegal, Finland, Philippines);
features csv_imported, dashboard_pinned, comment_posted, calendar_synced, photo_uploaded,
label_printed, alert_muted, recipe_saved, badge_awarded, voice_note_recorded.

Effects unlike dataset_tenth.py: conversion is highest on duet and lowest on orchestra (solo
second), while quartet churns least and solo most; word_of_mouth and hackathon signups convert
best, billboard and direct_mail worst; optometry and locksmithing convert best, tattoo_studio
worst; event_catering and beekeeping are set to churn most, bookbinding least; conversion peaks
in the middle size bands (25-99 best) and is lowest at both ends (1-4 and 1500+); NZ and FI
convert best, SN and PH worst; the conversion probability rises steadily over the span (0.80 to
1.16 times the base; by signup year the rate climbs from 2021 to 2023 and then levels off, partly
because the latest trials have not all ended); calendar_synced and csv_imported adopters churn
less, alert_muted adopters more. Signups grow by about 90% over the span, weekends weigh half a
weekday, with a December lull and a March surge.
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

USERS = 10_400
START = np.datetime64("2021-05-01", "D")
END = np.datetime64("2025-06-17", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2025-06-18

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "solo": (0.27, 0.25, 12.0, 1.70),
    "duet": (0.25, 0.29, 35.0, 1.05),
    "trio": (0.21, 0.20, 89.0, 0.90),
    "quartet": (0.16, 0.15, 240.0, 0.50),
    "orchestra": (0.11, 0.08, 720.0, 1.20),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"quartet", "orchestra"}  # price 0.78-1.04 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "optometry": (0.13, 1.45, 0.95),
    "beekeeping": (0.11, 0.92, 1.60),
    "bookbinding": (0.10, 1.05, 0.45),
    "hydroponics": (0.14, 0.85, 1.05),
    "locksmithing": (0.12, 1.33, 0.90),
    "event_catering": (0.15, 1.00, 1.85),
    "auto_repair": (0.14, 0.78, 1.10),
    "tattoo_studio": (0.11, 0.52, 1.00),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "billboard": (0.14, 0.50),
    "affiliate": (0.16, 0.96),
    "newsletter_ad": (0.15, 0.82),
    "app_store": (0.17, 1.12),
    "word_of_mouth": (0.12, 1.70),
    "direct_mail": (0.13, 0.62),
    "hackathon": (0.13, 1.44),
}
SIZES = {
    "1-4": (0.23, 0.60),
    "5-24": (0.24, 0.98),
    "25-99": (0.20, 1.40),
    "100-399": (0.15, 1.18),
    "400-1499": (0.11, 0.88),
    "1500+": (0.07, 0.66),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "IE": (0.11, 1.12),
    "NZ": (0.08, 1.55),
    "GH": (0.10, 0.90),
    "PE": (0.11, 0.97),
    "HR": (0.09, 1.05),
    "UY": (0.09, 1.20),
    "LK": (0.11, 0.84),
    "SN": (0.10, 0.55),
    "FI": (0.10, 1.40),
    "PH": (0.11, 0.66),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "csv_imported": (0.42, 1.30),
    "dashboard_pinned": (0.74, 1.85),
    "comment_posted": (0.82, 2.05),
    "calendar_synced": (0.33, 1.15),
    "photo_uploaded": (0.55, 1.50),
    "label_printed": (0.28, 0.90),
    "alert_muted": (0.47, 0.95),
    "recipe_saved": (0.60, 1.35),
    "badge_awarded": (0.21, 0.65),
    "voice_note_recorded": (0.15, 0.70),
}
BASE_HAZARD = 0.028  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.09
DOUBLE_UPGRADE_SHARE = 0.20  # of upgrades, the share that jump two plans
COUNT_CAP = 1500


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~90%, weekends 0.5 of a weekday, a December lull, a March surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=0.9, weekend=0.50, lull=(12, 0.55), surge=(3, 1.45)
    )
    user_id = np.arange(6_200_001, 6_200_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 10-30 day trial; conversion rises steadily over the span
    trial_days = rng.integers(10, 31, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        shared.col(PLANS, 1)[plan]
        * shared.col(INDUSTRIES, 1)[industry]
        * shared.col(CHANNELS, 1)[channel]
        * shared.col(SIZES, 1)[size]
        * shared.col(COUNTRIES, 1)[country]
        * (0.80 + 0.36 * age)
    )
    p_conv = np.clip(p_conv, 0.02, 0.80)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (synced calendars and imported CSVs make accounts
    # stickier, muted alerts less so)
    adopt, counts = shared.adopt_features(
        rng,
        trials,
        FEATURES,
        lift=(1.25, 0.70),
        max_p=0.95,
        mu=(0.55, 0.65, 0.25),
        sigma=0.80,
        cap=COUNT_CAP,
    )
    calendars = adopt[:, list(FEATURES).index("calendar_synced")]
    imports = adopt[:, list(FEATURES).index("csv_imported")]
    muted = adopt[:, list(FEATURES).index("alert_muted")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(calendars, 0.55, 1.0)
        * np.where(imports, 0.75, 1.0)
        * np.where(muted, 1.35, 1.0)
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

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_eleventh.duckdb")
    make_answer_dataset(out)
    print(out)
