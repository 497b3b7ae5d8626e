"""What the engine parity tests share: the demo's size and seed, the templates, the single
queries and questions asked of every engine, and ``same`` (equal rows, floats to a relative
1e-9: engines add floating-point numbers in other orders)."""

from __future__ import annotations

import math
from typing import Any

USERS, SEED = 4_000, 11
TOLERANCE = 1e-9
TEMPLATES = ("conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization")


def same(a: Any, b: Any, where: str = "") -> None:
    """``a`` equals ``b``, floats to a relative TOLERANCE (None and NaN alike)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), (where, a, b)
        if math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), (where, a, b)
        else:
            assert math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-12), (where, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (where, a, b)
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (where, len(a), b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


QUERIES: list[list[str]] = [
    ["-m", "users", "-d", "plan_type"],
    ["-m", "conversion_rate", "-d", "acquisition_channel", "--order", "-conversion_rate"],
    ["-m", "mrr", "-d", "month", "--time-grain", "quarter"],
    ["-m", "arpu", "-d", "plan_type"],
    ["-m", "events", "-d", "event_type", "-d", "plan_type"],
    ["-m", "users", "-d", "country", "-f", "industry = fintech", "--limit", "3"],
    ["-m", "churn_rate", "-d", "company_size", "-f", "signup_date >= 2024-06-01"],
    ["-m", "revenue", "-m", "avg_mrr", "-d", "industry"],
    ["-m", "events_per_user", "-m", "active_users", "-d", "company_size"],
    ["-m", "users", "-d", "signup_date", "--time-grain", "month", "-f", "country in US,DE"],
    [
        "-m",
        "events",
        "-d",
        "event_ts",
        "--time-grain",
        "week",
        "--order",
        "-events",
        "--limit",
        "5",
    ],
    ["-m", "users", "-f", "industry contains Tech"],
    ["-m", "events", "-d", "event_ts", "--time-grain", "day", "--limit", "10"],
    ["-m", "users", "-d", "signup_date", "--time-grain", "year", "-d", "plan_type"],
]


QUESTIONS = [
    "conversion rate by plan",
    "mrr by month",
    "which channel converts best",
    "how many users signed up in 2024 by country",
]
