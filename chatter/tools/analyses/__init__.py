"""Analyses a workflow step can run, each returning rows plus the findings it tested.

Every analysis takes the Warehouse (semantic model + database + cache) and its parameter model,
whose fields name things in the semantic model, with defaults for the packaged ``saas`` model;
a user's own model works when it names the same roles.
"""

from chatter.tools.analyses.churn_features import ChurnParams, churn_relationship
from chatter.tools.analyses.cohorts import CohortParams, cohort_analysis
from chatter.tools.analyses.comparison import CompareParams, compare_filters, compare_rows
from chatter.tools.analyses.expansion import ExpansionParams, expansion_opportunities
from chatter.tools.analyses.features import AdoptionParams, adoption_by_segment
from chatter.tools.analyses.growth import GrowthParams, revenue_growth
from chatter.tools.analyses.ltv import LtvParams, ltv_by_segment
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.segments import SegmentTestParams, segment_rate_tests
from chatter.tools.analyses.usage import (
    CorrelationParams,
    PowerUserParams,
    power_users,
    usage_correlation,
)

__all__ = [
    "AdoptionParams",
    "AnalysisResult",
    "ChurnParams",
    "CohortParams",
    "CompareParams",
    "CorrelationParams",
    "ExpansionParams",
    "GrowthParams",
    "LtvParams",
    "PowerUserParams",
    "Recorder",
    "SegmentTestParams",
    "adoption_by_segment",
    "churn_relationship",
    "cohort_analysis",
    "compare_filters",
    "compare_rows",
    "expansion_opportunities",
    "ltv_by_segment",
    "power_users",
    "revenue_growth",
    "segment_rate_tests",
    "to_finding",
    "usage_correlation",
]
