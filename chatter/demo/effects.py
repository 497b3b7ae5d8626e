"""The demo dataset's shape: its calendar, the levels of each column with their shares, and the
effects planted in it.

The effects planted here are listed in docs/demo-data.md; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Signups run from START to START + SIGNUP_DAYS; the books close on END (revenue months, churn).
START = "2024-01-01"
END = "2025-12-31"
SIGNUP_DAYS = 710  # last signup 2025-12-10: its trial (at most 21 days) resolves by END


@dataclass(frozen=True)
class Level:
    """One level of a categorical column: its share of users and its conversion multiplier."""

    name: str
    weight: float
    conversion: float = 1.0


@dataclass(frozen=True)
class Plan:
    name: str
    weight: float
    price: float  # list price per month
    conversion: float  # base trial-to-paid probability
    churn: float  # monthly churn hazard multiplier
    api_adoption: float  # share of accounts that use the API
    api_intensity: float  # log-scale shift of API calls per adopter


@dataclass(frozen=True)
class Feature:
    name: str
    adoption: float  # share of users with at least one event
    mu: float  # log-scale intensity of events per adopter
    sigma: float


PLANS = (
    Plan("starter", 0.45, 29.0, 0.20, 1.15, 0.10, 0.0),
    Plan("growth", 0.30, 79.0, 0.23, 1.00, 0.20, 0.4),
    Plan("business", 0.17, 249.0, 0.26, 0.85, 0.40, 0.9),
    Plan("enterprise", 0.08, 899.0, 0.31, 0.60, 0.60, 1.4),
)
INDUSTRIES = (
    Level("software", 0.20),
    Level("fintech", 0.14, conversion=0.60),  # planted: converts worse
    Level("healthcare", 0.12),
    Level("retail", 0.14),
    Level("education", 0.10, conversion=1.35),  # planted: converts better
    Level("media", 0.10),
    Level("manufacturing", 0.10),
    Level("logistics", 0.10),
)
CHANNELS = (
    Level("organic", 0.30),
    Level("paid_search", 0.22),
    Level("referral", 0.12, conversion=1.60),  # planted: converts better
    Level("social", 0.14, conversion=0.75),  # planted: converts worse
    Level("partner", 0.10),
    Level("outbound", 0.12),
)
# No effect on anything: an analyst must find nothing here.
COMPANY_SIZES = (
    Level("1-10", 0.35),
    Level("11-50", 0.30),
    Level("51-200", 0.20),
    Level("201-1000", 0.10),
    Level("1000+", 0.05),
)
COUNTRIES = (
    Level("US", 0.38),
    Level("GB", 0.10),
    Level("DE", 0.09),
    Level("IN", 0.08),
    Level("FR", 0.06),
    Level("CA", 0.06),
    Level("BR", 0.06),
    Level("AU", 0.05),
    Level("NL", 0.04),
    Level("JP", 0.04),
    Level("ES", 0.04),
)
FEATURES = (
    Feature("dashboard_view", 0.92, 0.4, 1.0),
    Feature("search", 0.60, 0.1, 1.0),
    Feature("data_import", 0.50, 0.0, 0.8),
    Feature("report_export", 0.45, 0.3, 1.0),  # planted: usage correlates with dashboard_view
    Feature("team_invite", 0.35, -0.5, 0.7),
    Feature("integration_setup", 0.30, -1.0, 0.6),  # planted: adopters churn at half the rate
    Feature("alert_created", 0.25, 0.2, 1.0),
    Feature("api_call", 0.0, 1.0, 1.3),  # adoption and intensity come from the plan
)
CORRELATED_PAIR = ("dashboard_view", "report_export")
CORRELATION_RHO = 0.7  # between the pair's latent intensities (and 0.5 between adoptions)
RETENTION_FEATURE = "integration_setup"
RETENTION_HAZARD_RATIO = 0.5
BASE_MONTHLY_CHURN = 0.035
UPGRADE_PROBABILITY = 0.12
MAX_EVENTS_PER_FEATURE = 5000  # < 8192, the per-feature key space of event draws
