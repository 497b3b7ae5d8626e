"""The demo dataset: a SaaS product's users, events and revenue, generated inside DuckDB.

Its shape and planted effects are in ``effects``, the SQL that builds each table in ``tables``,
and the writing of the DuckDB file in ``writer``.
"""

from chatter.demo.effects import (
    BASE_MONTHLY_CHURN,
    CHANNELS,
    COMPANY_SIZES,
    CORRELATED_PAIR,
    CORRELATION_RHO,
    COUNTRIES,
    END,
    FEATURES,
    INDUSTRIES,
    MAX_EVENTS_PER_FEATURE,
    PLANS,
    RETENTION_FEATURE,
    RETENTION_HAZARD_RATIO,
    SIGNUP_DAYS,
    START,
    UPGRADE_PROBABILITY,
    Feature,
    Level,
    Plan,
)
from chatter.demo.writer import MAX_USERS, DemoSummary, ensure_demo_database, generate_demo

__all__ = [
    "BASE_MONTHLY_CHURN",
    "CHANNELS",
    "COMPANY_SIZES",
    "CORRELATED_PAIR",
    "CORRELATION_RHO",
    "COUNTRIES",
    "END",
    "FEATURES",
    "INDUSTRIES",
    "MAX_EVENTS_PER_FEATURE",
    "MAX_USERS",
    "PLANS",
    "RETENTION_FEATURE",
    "RETENTION_HAZARD_RATIO",
    "SIGNUP_DAYS",
    "START",
    "UPGRADE_PROBABILITY",
    "DemoSummary",
    "Feature",
    "Level",
    "Plan",
    "ensure_demo_database",
    "generate_demo",
]
