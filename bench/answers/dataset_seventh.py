"""A seventh held-out dataset for the answer bench: the same tables as ``dataset_sixth.py``, new
levels, new effects and a new span.

``make_answer_dataset(path, seed=13)`` writes a DuckDB file with exactly the tables ``users``,
``events`` and ``revenue`` (same columns and types as ``dataset_sixth.py``), about 15,200 trial
signups from 2022-06-01 to 2024-11-30. Everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so the same seed always gives the same file.

Rules kept from the contract: ``converted`` decided at the trial's end (on or before 2024-11-30);
churn only among converted accounts, ``churn_date`` only when ``churned`` (after the conversion
day, on or before 2024-11-30); one revenue row per paying account and month, from the conversion
month up to but excluding the churn month, the last being 2024-11-01; ``revenue.plan_type`` is the
signup plan except after an upgrade (one or two plans up); ``mrr`` > 0 by the plan's price; events
inside the active window (the trial if never converted, else signup to churn day or 2024-11-30).

Levels: plans skiff, sloop, cutter, schooner, galleon (cheapest to dearest); industries
architecture, cybersecurity, fashion, fitness, maritime, chemicals, veterinary, waste_management;
channels tiktok_ads, reseller, community_forum, influencer, display_ads, conference; sizes 1-4,
5-29, 30-149, 150-749, 750+; countries GR HU RO EG NG KE PH PE UY MA (Greece, Hungary, Romania,
Egypt, Nigeria, Kenya, Philippines, Peru, Uruguay, Morocco); features note_created, board_viewed,
form_submitted, sprint_planned, report_scheduled, sms_sent, goal_set, budget_approved,
screen_shared.

Effects unlike dataset_sixth.py: the dearest plan (galleon) converts best and sloop worst, while
cutter churns least and skiff most; reseller and community_forum signups convert best,
display_ads worst; cybersecurity and veterinary convert best, fashion worst; maritime and
waste_management churn most, chemicals least; the mid-sized bands (30-149, 150-749) convert best;
KE and UY convert best, EG and PH worst; conversion rises into the middle of the span and eases
after; goal_set and report_scheduled adopters churn less. Signups grow ~1.6x, with an August lull
and a January surge.
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

USERS = 15_200
START = np.datetime64("2022-06-01", "D")
END = np.datetime64("2024-11-30", "D")  # last signup day and end of observation
DATA_END_EXCL = END + np.timedelta64(1, "D")  # 2024-12-01

# name: (share of signups, base conversion, list price $/month, churn hazard multiplier)
PLANS = {
    "skiff": (0.30, 0.19, 12.0, 1.60),
    "sloop": (0.25, 0.14, 39.0, 1.10),
    "cutter": (0.20, 0.22, 99.0, 0.55),
    "schooner": (0.15, 0.25, 290.0, 0.85),
    "galleon": (0.10, 0.31, 880.0, 0.70),
}
PLAN_ORDER = list(PLANS)
NEGOTIATED = {"schooner", "galleon"}  # price 0.80-1.05 of list, per account

# name: (share, conversion multiplier, churn multiplier)
INDUSTRIES = {
    "architecture": (0.13, 1.00, 1.00),
    "cybersecurity": (0.11, 1.40, 0.85),
    "fashion": (0.14, 0.60, 1.10),
    "fitness": (0.15, 0.90, 1.20),
    "maritime": (0.09, 1.05, 1.50),
    "chemicals": (0.10, 1.10, 0.55),
    "veterinary": (0.12, 1.35, 0.95),
    "waste_management": (0.16, 0.85, 1.45),
}
# name: (share, conversion multiplier)
CHANNELS = {
    "tiktok_ads": (0.18, 0.80),
    "reseller": (0.12, 1.45),
    "community_forum": (0.14, 1.35),
    "influencer": (0.17, 0.90),
    "display_ads": (0.22, 0.55),
    "conference": (0.17, 1.10),
}
SIZES = {
    "1-4": (0.26, 0.90),
    "5-29": (0.31, 1.00),
    "30-149": (0.22, 1.15),
    "150-749": (0.14, 1.25),
    "750+": (0.07, 0.95),
}
# ISO 3166 alpha-2 codes: (share, conversion multiplier)
COUNTRIES = {
    "GR": (0.09, 1.00),
    "HU": (0.08, 0.95),
    "RO": (0.11, 1.05),
    "EG": (0.12, 0.65),
    "NG": (0.14, 0.90),
    "KE": (0.07, 1.35),
    "PH": (0.13, 0.70),
    "PE": (0.10, 1.00),
    "UY": (0.05, 1.30),
    "MA": (0.11, 0.85),
}
# feature: (adoption probability, log-mean of the count per adopter)
FEATURES = {
    "note_created": (0.85, 2.00),
    "board_viewed": (0.90, 2.30),
    "form_submitted": (0.62, 1.20),
    "sprint_planned": (0.40, 0.80),
    "report_scheduled": (0.28, 0.60),
    "sms_sent": (0.35, 1.50),
    "goal_set": (0.22, 0.50),
    "budget_approved": (0.18, 0.70),
    "screen_shared": (0.55, 1.00),
}
BASE_HAZARD = 0.034  # monthly churn hazard of a paying account
UPGRADE_SHARE = 0.14
DOUBLE_UPGRADE_SHARE = 0.20  # of upgrades, the share that jump two plans
COUNT_CAP = 2000


def make_answer_dataset(path: Path, seed: int = 13, users: int = USERS) -> Path:
    """Write the dataset to ``path`` (replacing it) and return ``path``."""
    return shared.write_dataset(path, *_generate(np.random.default_rng(seed), users))


def _generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # --- signups: volume grows ~1.6x, weekends 0.5 of a weekday, an August lull, a January surge
    signup = shared.draw_signups(
        rng, START, DATA_END_EXCL, n, growth=0.6, weekend=0.5, lull=(8, 0.75), surge=(1, 1.35)
    )
    user_id = np.arange(1_400_001, 1_400_001 + n, dtype=np.int64)

    levels = shared.pick_levels(rng, n, PLANS, INDUSTRIES, CHANNELS, SIZES, COUNTRIES)
    plan, industry, channel, size, country = levels.picked

    # --- conversion at the end of a 7-30 day trial; conversion peaks mid-span
    trial_days = rng.integers(7, 31, size=n)
    conv_day = signup + trial_days.astype("timedelta64[D]")
    age = (signup - START).astype(np.int64) / float((END - START).astype(np.int64))
    p_conv = (
        shared.col(PLANS, 1)[plan]
        * shared.col(INDUSTRIES, 1)[industry]
        * shared.col(CHANNELS, 1)[channel]
        * shared.col(SIZES, 1)[size]
        * shared.col(COUNTRIES, 1)[country]
        * (0.90 + 0.8 * age * (1.0 - age))
    )
    p_conv = np.clip(p_conv, 0.02, 0.75)
    converted = (rng.random(n) < p_conv) & (conv_day <= END)
    trials = shared.Trials(user_id, signup, levels, trial_days, conv_day, converted, END)

    # --- feature adoption and counts (goals and scheduled reports make accounts stickier)
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
    goals = adopt[:, list(FEATURES).index("goal_set")]
    reports = adopt[:, list(FEATURES).index("report_scheduled")]

    # --- churn: constant monthly hazard from conversion
    hazard = (
        BASE_HAZARD
        * shared.col(PLANS, 3)[plan]
        * shared.col(INDUSTRIES, 2)[industry]
        * np.where(goals, 0.55, 1.0)
        * np.where(reports, 0.70, 1.0)
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

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "answers_seventh.duckdb")
    make_answer_dataset(out)
    print(out)
