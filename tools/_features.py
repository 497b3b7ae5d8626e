"""Feature analyses: adoption by segment, power users, usage correlation, churn of adopters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chatter.semantic.warehouse import Warehouse
from chatter.tools._analysis_result import AnalysisResult, Recorder, to_finding
from chatter.tools._model_names import event_source, qualify
from chatter.tools._sql_template import build_sql
from chatter.tools.stats import (
    GroupStats,
    chi_square_test,
    correlation_pairs,
    level_vs_rest_test,
    welch_t_test,
)


def adoption_by_segment(
    warehouse: Warehouse,
    *,
    feature_dimension: str = "event_type",
    segment_dimension: str = "plan_type",
    adopters: str = "active_users",
    population: str = "users",
    entity_table: str = "users",
    filters: Sequence[dict[str, Any]] = (),
) -> AnalysisResult:
    """Share of each segment's accounts that used each feature; per feature, a chi-square test
    of whether adoption differs across the segment's levels."""
    rec = Recorder(warehouse)
    segment = qualify(warehouse.model, segment_dimension, entity_table)
    seg = segment.split(".")[-1]
    used = rec.query(
        {
            "measures": [adopters],
            "dimensions": [feature_dimension, segment],
            "filters": list(filters),
        }
    )
    sizes = {
        r[seg]: r[population] or 0
        for r in rec.query(
            {"measures": [population], "dimensions": [segment], "filters": list(filters)}
        )
    }
    by_feature: dict[str, dict[Any, int]] = {}
    for r in used:
        if r[feature_dimension] is not None and r[seg] in sizes:
            by_feature.setdefault(r[feature_dimension], {})[r[seg]] = r[adopters] or 0
    rows, findings = [], []
    levels = [level for level in sizes if sizes[level]]
    for feature in sorted(by_feature):
        counts = by_feature[feature]
        for level in levels:
            n_used = counts.get(level, 0)
            rows.append(
                {
                    "feature": feature,
                    "segment": level,
                    "adopters": n_used,
                    "accounts": sizes[level],
                    "adoption_rate": n_used / sizes[level],
                }
            )
        table = [[counts.get(level, 0), sizes[level] - counts.get(level, 0)] for level in levels]
        findings.append(
            to_finding(
                chi_square_test(table, [str(level) for level in levels], ("used", "did not use")),
                metric="adoption_rate",
                dimension=seg,
                subject=feature,
            )
        )
    notes = [
        f"An adopter of a feature is an account of {entity_table} with at least one "
        f"{feature_dimension} event of it; segments are {segment}."
    ]
    return rec.result("adoption_by_segment", rows, findings, notes)


_POWER_SQL = """
WITH per_feature AS (
    SELECT A_EV.C_KEY AS entity, A_EV.C_FEATURE AS feature, COUNT(*) AS uses
    FROM T_EV AS A_EV WHERE A_EV.C_FEATURE IS NOT NULL GROUP BY 1, 2
), activity AS (
    SELECT entity, SUM(uses) AS total FROM per_feature GROUP BY 1
), cut AS (
    SELECT QUANTILE_CONT(total, $quantile) AS threshold FROM activity
), tiers AS (
    SELECT activity.entity, activity.total >= cut.threshold AS is_power, cut.threshold
    FROM activity CROSS JOIN cut
)
SELECT per_feature.feature, tiers.is_power, COUNT(*) AS adopters,
    SUM(per_feature.uses) AS uses, SUM(per_feature.uses * per_feature.uses) AS uses_squared,
    (SELECT COUNT(*) FROM tiers AS t WHERE t.is_power = tiers.is_power) AS accounts,
    ANY_VALUE(tiers.threshold) AS threshold
FROM per_feature JOIN tiers ON per_feature.entity = tiers.entity
GROUP BY 1, 2 ORDER BY 1, 2
"""


def _usage_stats(uses: float, uses_squared: float, accounts: int) -> GroupStats:
    """Mean and sample variance of per-account uses, counting accounts with none as zeros."""
    mean = uses / accounts if accounts else 0.0
    variance = (uses_squared - uses * uses / accounts) / (accounts - 1) if accounts > 1 else 0.0
    return GroupStats(n=accounts, mean=mean, variance=max(variance, 0.0))


def power_users(
    warehouse: Warehouse,
    *,
    feature_dimension: str = "event_type",
    entity_table: str = "users",
    top_share: float = 0.10,
) -> AnalysisResult:
    """Power users are the active accounts at or above the (1 - ``top_share``) quantile of total
    events. Per feature: adoption among power users vs the rest (two-proportion or Fisher) and
    uses per account, zeros included (Welch t on moments from SQL)."""
    rec = Recorder(warehouse)
    src = event_source(warehouse.model, feature_dimension, entity_table)
    ast = build_sql(
        _POWER_SQL,
        {"T_EV": src.table, "A_EV": src.alias, "C_KEY": src.key, "C_FEATURE": src.feature},
    )
    data = rec.arrays(ast, {"quantile": 1.0 - top_share})
    by_feature: dict[str, dict[bool, dict[str, float]]] = {}
    accounts: dict[bool, int] = {}
    for i, feature in enumerate(data.get("feature", [])):
        tier = bool(data["is_power"][i])
        accounts[tier] = int(data["accounts"][i])
        by_feature.setdefault(str(feature), {})[tier] = {
            "adopters": float(data["adopters"][i]),
            "uses": float(data["uses"][i]),
            "uses_squared": float(data["uses_squared"][i]),
        }
    n_power, n_rest = accounts.get(True, 0), accounts.get(False, 0)
    rows, findings = [], []
    total_uses = {
        tier: sum(f.get(tier, {}).get("uses", 0.0) for f in by_feature.values())
        for tier in (True, False)
    }
    for feature, tiers in sorted(by_feature.items()):
        power, rest = tiers.get(True, {}), tiers.get(False, {})
        p_stats = _usage_stats(power.get("uses", 0.0), power.get("uses_squared", 0.0), n_power)
        r_stats = _usage_stats(rest.get("uses", 0.0), rest.get("uses_squared", 0.0), n_rest)
        adopt_p, adopt_r = int(power.get("adopters", 0)), int(rest.get("adopters", 0))
        rows.append(
            {
                "feature": feature,
                "power_adoption_rate": adopt_p / n_power if n_power else None,
                "rest_adoption_rate": adopt_r / n_rest if n_rest else None,
                "power_uses_per_account": p_stats.mean,
                "rest_uses_per_account": r_stats.mean,
                "uses_ratio": p_stats.mean / r_stats.mean if r_stats.mean else None,
                "power_share_of_uses": power.get("uses", 0.0) / total_uses[True]
                if total_uses[True]
                else None,
                "rest_share_of_uses": rest.get("uses", 0.0) / total_uses[False]
                if total_uses[False]
                else None,
            }
        )
        findings.append(
            to_finding(
                level_vs_rest_test(adopt_p, n_power, adopt_r, n_rest, label="power users"),
                metric="adoption_rate",
                dimension="activity_tier",
                segment="power users",
                subject=feature,
            )
        )
        findings.append(
            to_finding(
                welch_t_test(p_stats, r_stats, ("power users", "rest")),
                metric="uses_per_account",
                dimension="activity_tier",
                segment="power users",
                subject=feature,
            )
        )
    threshold = float(data["threshold"][0]) if len(data.get("threshold", [])) else None
    notes = [
        f"Power users: active accounts with at least {threshold:g} events, the top "
        f"{top_share:.0%} by activity (ties at the cut are included)."
        if threshold
        else "No activity: nothing to rank.",
        "Uses per account count accounts that never used a feature as zero. Power users are "
        "more active by definition; the share of uses shows how their mix differs.",
    ]
    return rec.result(
        "power_users",
        rows,
        findings,
        notes,
        summary={
            "power_users": n_power,
            "other_active_accounts": n_rest,
            "threshold_events": threshold,
        },
    )


_USAGE_SQL = """
SELECT A_EV.C_KEY AS entity, A_EV.C_FEATURE AS feature, COUNT(*) AS uses
FROM T_EV AS A_EV WHERE A_EV.C_FEATURE IS NOT NULL GROUP BY 1, 2
"""


def usage_matrix(
    rec: Recorder, feature_dimension: str, entity_table: str, population: str, max_features: int
) -> tuple[np.ndarray, list[str]]:
    """Accounts x features matrix of use counts, with a zero row for every account of the
    population that used nothing; the ``max_features`` most adopted features."""
    src = event_source(rec.warehouse.model, feature_dimension, entity_table)
    data = rec.arrays(
        build_sql(
            _USAGE_SQL,
            {"T_EV": src.table, "A_EV": src.alias, "C_KEY": src.key, "C_FEATURE": src.feature},
        )
    )
    entities, row = np.unique(data["entity"], return_inverse=True)
    features, col = np.unique(data["feature"].astype(str), return_inverse=True)
    matrix = np.zeros((len(entities), len(features)), dtype=np.float64)
    matrix[row, col] = data["uses"]
    size = rec.query({"measures": [population]})[0][population] or 0
    if size > len(entities):
        matrix = np.vstack([matrix, np.zeros((size - len(entities), len(features)))])
    keep = np.argsort(-(matrix > 0).sum(axis=0), kind="stable")[:max_features]
    keep.sort()
    return matrix[:, keep], [str(features[i]) for i in keep]


def usage_correlation(
    warehouse: Warehouse,
    *,
    feature_dimension: str = "event_type",
    entity_table: str = "users",
    population: str = "users",
    method: str = "spearman",
    max_features: int = 25,
) -> AnalysisResult:
    """Correlation of every pair of per-account feature counts (zero for accounts that never
    used a feature), each pair tested; Spearman by default because usage is heavy-tailed."""
    rec = Recorder(warehouse)
    matrix, names = usage_matrix(rec, feature_dimension, entity_table, population, max_features)
    pairs = correlation_pairs(matrix, names, "pearson" if method == "pearson" else "spearman")
    rows, findings = [], []
    for a, b, result in pairs:
        rows.append(
            {
                "feature_a": a,
                "feature_b": b,
                "correlation": result.effect_size,
                "p_value": result.p_value,
                "accounts": result.n,
            }
        )
        findings.append(
            to_finding(
                result,
                metric="usage_correlation",
                dimension=feature_dimension,
                subject=f"{a} ~ {b}",
            )
        )
    rows.sort(key=lambda r: -abs(r["correlation"] or 0.0))
    notes = [
        f"{len(names)} features over {matrix.shape[0]:,} accounts of {entity_table}, "
        "counting accounts that never used a feature as zero."
    ]
    return rec.result(
        "usage_correlation",
        rows,
        findings,
        notes,
        summary={"features": names, "accounts": int(matrix.shape[0])},
    )


def churn_relationship(
    warehouse: Warehouse,
    *,
    feature_dimension: str = "event_type",
    customers: str = "converted_users",
    churned: str = "churned_users",
    metric: str = "churn_rate",
    filters: Sequence[dict[str, Any]] = (),
) -> AnalysisResult:
    """Churn of each feature's adopters against the paying accounts that never used it, tested
    (two-proportion z-test, or Fisher's exact test for small counts)."""
    rec = Recorder(warehouse)
    by_feature = rec.query(
        {
            "measures": [customers, churned],
            "dimensions": [feature_dimension],
            "filters": list(filters),
        }
    )
    total = rec.query({"measures": [customers, churned], "filters": list(filters)})[0]
    all_customers, all_churned = total[customers] or 0, total[churned] or 0
    rows, findings = [], []
    for r in by_feature:
        feature = r[feature_dimension]
        if feature is None:
            continue
        n_a, c_a = r[customers] or 0, r[churned] or 0
        n_r, c_r = all_customers - n_a, all_churned - c_a
        rate_a = c_a / n_a if n_a else None
        rate_r = c_r / n_r if n_r else None
        rows.append(
            {
                "feature": feature,
                "adopters": n_a,
                "adopter_churn_rate": rate_a,
                "non_adopters": n_r,
                "non_adopter_churn_rate": rate_r,
                "difference": rate_a - rate_r
                if rate_a is not None and rate_r is not None
                else None,
                "relative_risk": rate_a / rate_r if rate_a is not None and rate_r else None,
            }
        )
        findings.append(
            to_finding(
                level_vs_rest_test(c_a, n_a, c_r, n_r, label=str(feature)),
                metric=metric,
                dimension=feature_dimension,
                segment=str(feature),
                subject=f"adopters of {feature} vs non-adopters",
            )
        )
    notes = [
        "Among paying accounts. Observational: adopters may differ from non-adopters in "
        "other ways (tenure, plan, size), so a difference is an association, not proof "
        "that the feature causes retention."
    ]
    return rec.result(
        "churn_relationship",
        rows,
        findings,
        notes,
        summary={"paying_accounts": all_customers, "churned": all_churned},
    )
