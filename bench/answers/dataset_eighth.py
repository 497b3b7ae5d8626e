"""An eighth held-out dataset for the answer bench: the same tables as ``dataset_seventh.py``, new
levels, new effects and a new span.

``make_answer_dataset(path, seed=11)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_seventh.py``), about 14,600 trial
signups from 2021-09-01 to 2024-03-31. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2024-03-31);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2024-03-31); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2024-03-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2024-03-31).

Levels: plans wren, finch, heron, falcon, condor (cheapest to dearest); industries publishing,
cartography, optometry, forestry, jewelry, solar_energy, mortgage_lending, aquaculture; channels
cold_outreach, product_hunt, print_magazine, meetup, review_sites, radio_ads; sizes 1-6, 7-34,
35-179, 180-899, 900+; countries PK BD TW EE LT BG TZ EC UG SN (Pakistan, Bangladesh, Taiwan,
Estonia, Lithuania, Bulgaria, Tanzania, Ecuador, Uganda, Senegal); features receipt_scanned,
chart_built, survey_launched, contract_signed, ticket_closed, backup_run, snippet_saved,
whiteboard_opened, call_logged.

Effects unlike dataset_seventh.py: the middle plan (heron) converts best and the cheapest (wren)
worst, while the dearest (condor) churns least and finch most; meetup and product_hunt signups
convert best, radio_ads worst; optometry and cartography convert best, jewelry worst; forestry and
aquaculture are set to churn most (at seed 11 jewelry's few paying accounts churn more still),
mortgage_lending least; conversion rises with company size (900+ best, 1-6 worst); EE and TW
convert best, BD and UG worst; conversion falls into the middle of the span and partly recovers
after; contract_signed and backup_run adopters churn less. Signups grow ~1.5x, with a July lull
and a September surge.
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

USERS = 14_600
START = np.datetime64("2021-09-01", "D")
END = np.datetime64("2024-03-31", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2024-04-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "wren": (0.28, 0.14, 15.0, 1.30),
    "finch": (0.24, 0.20, 45.0, 1.75),
    "heron": (0.21, 0.30, 120.0, 0.90),
    "falcon": (0.16, 0.24, 340.0, 0.80),
    "condor": (0.11, 0.18, 950.0, 0.45),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"falcon", "condor"}  # price 0.80-1.05 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "publishing": (0.14, 1.00, 1.00),
    "cartography": (0.10, 1.30, 0.90),
    "optometry": (0.12, 1.45, 0.80),
    "forestry": (0.11, 0.95, 1.60),
    "jewelry": (0.13, 0.60, 1.05),
    "solar_energy": (0.15, 1.08, 1.12),
    "mortgage_lending": (0.12, 0.88, 0.50),
    "aquaculture": (0.13, 0.80, 1.40),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "cold_outreach": (0.20, 0.82),
    "product_hunt": (0.13, 1.38),
    "print_magazine": (0.16, 0.97),
    "meetup": (0.12, 1.52),
    "review_sites": (0.18, 1.12),
    "radio_ads": (0.21, 0.57),
}
SIZES = {
    "1-6": (0.27, 0.78),
    "7-34": (0.30, 0.94),
    "35-179": (0.22, 1.06),
    "180-899": (0.14, 1.18),
    "900+": (0.07, 1.38),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "PK": (0.12, 0.92),
    "BD": (0.13, 0.62),
    "TW": (0.09, 1.30),
    "EE": (0.07, 1.42),
    "LT": (0.08, 1.10),
    "BG": (0.10, 1.00),
    "TZ": (0.11, 0.84),
    "EC": (0.10, 1.05),
    "UG": (0.12, 0.68),
    "SN": (0.08, 0.96),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "receipt_scanned": (0.80, 1.90),
    "chart_built": (0.88, 2.20),
    "survey_launched": (0.45, 1.00),
    "contract_signed": (0.25, 0.60),
    "ticket_closed": (0.66, 1.60),
    "backup_run": (0.30, 0.90),
    "snippet_saved": (0.58, 1.30),
    "whiteboard_opened": (0.38, 0.80),
    "call_logged": (0.50, 1.10),
}
BASE_HAZARD = 0.031  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.12
DOUBLE_UPGRADE_SHARE = 0.25  # of upgrades, the share that jump two plans
COUNT_CAP = 2000


def make_answer_dataset(path: Path, seed: int = 11, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~1.5x, weekends 0.45 of a weekday, a July lull, a September surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=0.5, weekend=0.45, lull=(7, 0.70), surge=(9, 1.30)
    )
    user_id = np.arange(2_100_001, 2_100_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 10-30 day trial; conversion dips mid-span, partly recovers
    trial_days = rng.integers(10, 31, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        shared.col(PLANS, 1)[plan]
        * shared.col(INDUSTRIES, 1)[industry]
        * shared.col(CHANNELS, 1)[channel]
        * shared.col(SIZES, 1)[size]
        * shared.col(COUNTRIES, 1)[country]
        * (1.20 - 1.6 * age * (1.0 - age))
    )
    p_conv = np.clip(p_conv, 0.02, 0.75)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (signed contracts and backups make accounts stickier)
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
    contracts = adopt[:, list(FEATURES).index("contract_signed")]
    backups = adopt[:, list(FEATURES).index("backup_run")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(contracts, 0.60, 1.0)
        * np.where(backups, 0.72, 1.0)
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

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_eighth.duckdb")
    make_answer_dataset(out)
    print(out)
