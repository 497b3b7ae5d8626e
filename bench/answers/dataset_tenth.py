"""A tenth held-out dataset for the answer bench: the same tables as ``dataset_ninth.py``, new
levels, new effects and a new span.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_ninth.py``), about 9,650 trial
signups from 2020-09-01 to 2024-02-29. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2024-02-29);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2024-02-29); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2024-02-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2024-02-29).

Levels: plans wren, finch, kestrel, osprey, condor (cheapest to dearest); industries
aquaculture, pharmacy, forestry, translation, ceramics, landscaping, freight_brokerage,
music_tuition; channels radio_spot, cold_email, community_forum, reseller, sponsorship,
review_platform, qr_flyer; sizes 1-7, 8-30, 31-120, 121-600, 601-2500, 2501+; countries PT EE KE
UG CR BG EC JO TN MN (Portugal, Estonia, Kenya, Uganda, Costa Rica, Bulgaria, Ecuador, Jordan,
Tunisia, Mongolia); features invoice_exported, barcode_scanned, timesheet_approved, map_pinned,
survey_launched, ticket_escalated, whiteboard_drawn, reminder_snoozed, folder_archived,
signature_captured.

Effects unlike dataset_ninth.py: conversion falls with the price of the plan (wren converts best,
condor worst), while finch churns least and condor most; reseller and community_forum signups
convert best, radio_spot worst; pharmacy and translation convert best, aquaculture worst; forestry
and ceramics are set to churn most, music_tuition least; conversion rises with the size band
(2501+ best, 1-7 worst); EE and PT convert best, UG and MN worst; conversion dips in the middle
of the span and recovers; timesheet_approved and barcode_scanned adopters churn less,
survey_launched adopters a little more. Signups grow by about 60% over the span, with an August
lull and a January surge.
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

USERS = 9_650
START = np.datetime64("2020-09-01", "D")
END = np.datetime64("2024-02-29", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2024-03-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "wren": (0.28, 0.30, 9.0, 1.15),
    "finch": (0.26, 0.24, 29.0, 0.55),
    "kestrel": (0.20, 0.19, 79.0, 1.00),
    "osprey": (0.15, 0.14, 210.0, 0.85),
    "condor": (0.11, 0.09, 640.0, 1.60),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"osprey", "condor"}  # price 0.80-1.05 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "aquaculture": (0.12, 0.55, 1.05),
    "pharmacy": (0.13, 1.42, 0.90),
    "forestry": (0.11, 0.95, 1.75),
    "translation": (0.14, 1.28, 1.00),
    "ceramics": (0.10, 1.02, 1.55),
    "landscaping": (0.15, 0.88, 0.80),
    "freight_brokerage": (0.13, 0.76, 1.20),
    "music_tuition": (0.12, 1.10, 0.40),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "radio_spot": (0.13, 0.48),
    "cold_email": (0.18, 0.74),
    "community_forum": (0.12, 1.46),
    "reseller": (0.11, 1.62),
    "sponsorship": (0.15, 0.92),
    "review_platform": (0.17, 1.15),
    "qr_flyer": (0.14, 0.63),
}
SIZES = {
    "1-7": (0.24, 0.62),
    "8-30": (0.25, 0.84),
    "31-120": (0.20, 1.02),
    "121-600": (0.15, 1.20),
    "601-2500": (0.10, 1.38),
    "2501+": (0.06, 1.60),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "PT": (0.11, 1.38),
    "EE": (0.07, 1.52),
    "KE": (0.12, 0.86),
    "UG": (0.10, 0.57),
    "CR": (0.09, 1.06),
    "BG": (0.11, 0.95),
    "EC": (0.10, 0.91),
    "JO": (0.09, 1.12),
    "TN": (0.11, 0.80),
    "MN": (0.10, 0.64),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "invoice_exported": (0.80, 2.00),
    "barcode_scanned": (0.38, 1.40),
    "timesheet_approved": (0.31, 1.10),
    "map_pinned": (0.57, 1.25),
    "survey_launched": (0.45, 0.85),
    "ticket_escalated": (0.70, 1.60),
    "whiteboard_drawn": (0.50, 1.05),
    "reminder_snoozed": (0.64, 1.75),
    "folder_archived": (0.26, 0.75),
    "signature_captured": (0.19, 0.60),
}
BASE_HAZARD = 0.031  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.08
DOUBLE_UPGRADE_SHARE = 0.25  # of upgrades, the share that jump two plans
COUNT_CAP = 1500


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~60%, weekends 0.4 of a weekday, an August lull, a January surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=0.6, weekend=0.40, lull=(8, 0.60), surge=(1, 1.40)
    )
    user_id = np.arange(5_100_001, 5_100_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 10-30 day trial; conversion dips mid-span and recovers
    trial_days = rng.integers(10, 31, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        shared.col(PLANS, 1)[plan]
        * shared.col(INDUSTRIES, 1)[industry]
        * shared.col(CHANNELS, 1)[channel]
        * shared.col(SIZES, 1)[size]
        * shared.col(COUNTRIES, 1)[country]
        * (1.15 - 0.40 * np.sin(np.pi * age))
    )
    p_conv = np.clip(p_conv, 0.02, 0.80)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (approved timesheets and scanned barcodes make accounts
    # stickier, launched surveys a little less so)
    adopt, counts = shared.adopt_features(
        rng,
        trials,
        FEATURES,
        lift=(1.20, 0.75),
        max_p=0.96,
        mu=(0.50, 0.70, 0.22),
        sigma=0.85,
        cap=COUNT_CAP,
    )
    timesheets = adopt[:, list(FEATURES).index("timesheet_approved")]
    barcodes = adopt[:, list(FEATURES).index("barcode_scanned")]
    surveys = adopt[:, list(FEATURES).index("survey_launched")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(timesheets, 0.50, 1.0)
        * np.where(barcodes, 0.70, 1.0)
        * np.where(surveys, 1.20, 1.0)
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

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_tenth.duckdb")
    make_answer_dataset(out)
    print(out)
