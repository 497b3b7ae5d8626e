"""Usage analyses: power users (top decile of activity) and, per pair of features, co-adoption
and the correlation of their counts among accounts using both."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field
from sqlglot import exp

from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.model_names import EventSource, event_source
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.sql_template import build_sql, built_once
from chatter.tools.params import Dimension, Measure, Params, Table
from chatter.tools.stats import (
    GroupStats,
    TestResult,
    level_vs_rest_test,
    weighted_correlation_pairs,
    welch_t_test,
)
from chatter.tools.stats.correlation import Method, phi_test

_ACTIVITY_SQL = """
SELECT A_EV.C_KEY AS entity, COUNT(*) AS total
FROM T_EV AS A_EV WHERE A_EV.C_FEATURE IS NOT NULL GROUP BY 1
"""


def feature_pivot(src: EventSource, count: int) -> exp.Select:
    """One pass over the events: per active entity, its total uses and its uses of each of
    ``count`` features (``c0``, ``c1``, ... for parameters ``$f0``, ``$f1``, ...); a pivot, so
    no join."""
    activity = build_sql(
        _ACTIVITY_SQL,
        {"T_EV": src.table, "A_EV": src.alias, "C_KEY": src.key, "C_FEATURE": src.feature},
    )
    assert isinstance(activity, exp.Select)
    feature = exp.column(src.feature, table=src.alias, quoted=True)
    return activity.select(
        *(
            exp.alias_(
                exp.Filter(
                    this=exp.Count(this=exp.Star()),
                    expression=exp.Where(
                        this=exp.EQ(this=feature, expression=exp.Placeholder(this=f"f{i}"))
                    ),
                ),
                f"c{i}",
                quoted=True,
            )
            for i in range(count)
        ),
        append=True,
    )


def power_user_sql(src: EventSource, features: Sequence[str]) -> exp.Expr:
    """Each active entity's total and per-feature uses, the activity cut, then per tier the
    moments of every feature's uses (the caller's own tree: built once per source and number
    of features, whose names are parameters)."""
    return _power_user_sql(src, len(features))


@built_once
def _power_user_sql(src: EventSource, count: int) -> exp.Expr:
    wide = feature_pivot(src, count)
    per_tier: list[exp.Expr] = [
        exp.alias_(
            exp.GTE(
                this=exp.column("total", table="wide"),
                expression=exp.column("threshold", table="cut"),
            ),
            "is_power",
        ),
        exp.alias_(exp.AnyValue(this=exp.column("threshold", table="cut")), "threshold"),
        exp.alias_(exp.Count(this=exp.Star()), "accounts"),
    ]
    for i in range(count):
        uses = exp.column(f"c{i}", table="wide", quoted=True)
        per_tier += [
            exp.alias_(
                exp.Filter(
                    this=exp.Count(this=exp.Star()),
                    expression=exp.Where(this=exp.GT(this=uses, expression=exp.Literal.number(0))),
                ),
                f"a{i}",
            ),
            exp.alias_(exp.Sum(this=uses), f"s{i}"),
            exp.alias_(exp.Sum(this=exp.Mul(this=uses, expression=uses.copy())), f"q{i}"),
        ]
    cut = exp.select(
        exp.alias_(
            # A typed node, not a named function: each dialect writes its own spelling
            # (QUANTILE_CONT in DuckDB, PERCENTILE_CONT ... WITHIN GROUP in PostgreSQL).
            exp.PercentileCont(
                this=exp.column("total"), expression=exp.Placeholder(this="quantile")
            ),
            "threshold",
        )
    ).from_("wide")
    return (
        exp.select(*per_tier)
        .from_("wide")
        .join("cut", join_type="CROSS")
        .group_by(exp.column("total", table="wide") >= exp.column("threshold", table="cut"))
        .with_("wide", as_=wide)
        .with_("cut", as_=cut)
    )


def _usage_stats(uses: float, uses_squared: float, accounts: int) -> GroupStats:
    """Mean and sample variance of per-account uses, counting accounts with none as zeros."""
    mean = uses / accounts if accounts else 0.0
    variance = (uses_squared - uses * uses / accounts) / (accounts - 1) if accounts > 1 else 0.0
    return GroupStats(n=accounts, mean=mean, variance=max(variance, 0.0))


class PowerUserParams(Params):
    """What share of the most active accounts counts as power users."""

    feature_dimension: Dimension = "event_type"
    entity_table: Table = "users"
    top_share: float = Field(default=0.10, gt=0, lt=1)


def power_users(warehouse: Warehouse, params: PowerUserParams | None = None) -> AnalysisResult:
    """Power users are the active accounts at or above the (1 - ``top_share``) quantile of total
    events. Per feature: adoption among power users vs the rest (two-proportion or Fisher) and
    uses per account, zeros included (Welch t on moments from SQL)."""
    p = params or PowerUserParams()
    rec = Recorder(warehouse)
    src = event_source(warehouse.model, p.feature_dimension, p.entity_table)
    features = sorted(
        str(r[p.feature_dimension])
        for r in rec.query({"dimensions": [p.feature_dimension]})
        if r[p.feature_dimension] is not None
    )
    bound: dict[str, Any] = {f"f{i}": f for i, f in enumerate(features)}
    data = rec.arrays(power_user_sql(src, features), {**bound, "quantile": 1.0 - p.top_share})
    by_feature: dict[str, dict[bool, dict[str, float]]] = {f: {} for f in features}
    accounts: dict[bool, int] = {}
    for row in range(len(data.get("accounts", []))):
        tier = bool(data["is_power"][row])
        accounts[tier] = int(data["accounts"][row])
        for i, name in enumerate(features):
            by_feature[name][tier] = {
                "adopters": float(data[f"a{i}"][row]),
                "uses": float(data[f"s{i}"][row] or 0),
                "uses_squared": float(data[f"q{i}"][row] or 0),
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
                descriptive=True,  # power users are the most active by definition
            )
        )
        findings.append(
            to_finding(
                welch_t_test(p_stats, r_stats, ("power users", "rest")),
                metric="uses_per_account",
                dimension="activity_tier",
                segment="power users",
                subject=feature,
                descriptive=True,  # power users are the most active by definition
            )
        )
    threshold = float(data["threshold"][0]) if len(data.get("threshold", [])) else None
    notes = [
        f"Power users: active accounts with at least {threshold:g} events, the top "
        f"{p.top_share:.0%} by activity (ties at the cut are included)."
        if threshold
        else "No activity: nothing to rank.",
        "Uses per account count accounts that never used a feature as zero. Power users are "
        "more active by definition, so their adoption and uses are compared descriptively: "
        "reported with p-values but outside the run's correction and never significant; the "
        "share of uses shows how their mix differs.",
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


_ENTITIES_SQL = "SELECT COUNT(*) AS entities FROM T_U AS A_U"


def usage_distribution_sql(src: EventSource, features: Sequence[str]) -> exp.Expr:
    """Active entities' use counts per feature as their joint distribution: each distinct
    combination of counts once, with how many entities share it. Exact for any statistic of the
    counts, and small: usage counts repeat, so millions of accounts come back as few rows.
    (The caller's own tree, built once per source and number of features.)"""
    return _usage_distribution_sql(src, len(features))


@built_once
def _usage_distribution_sql(src: EventSource, count: int) -> exp.Expr:
    columns = [exp.column(f"c{i}", quoted=True) for i in range(count)]
    return (
        exp.select(*columns, exp.alias_(exp.Count(this=exp.Star()), "weight"))
        .from_("wide")
        .group_by(*columns)
        .with_("wide", as_=feature_pivot(src, count))
    )


class CorrelationParams(Params):
    """Which correlation of per-account feature counts, over how many features, and how many
    accounts must use both features of a pair before their intensities are correlated."""

    feature_dimension: Dimension = "event_type"
    entity_table: Table = "users"
    adopters: Measure = "active_users"
    method: Literal["spearman", "pearson"] = "spearman"
    max_features: int = Field(default=25, ge=2, le=100)
    min_both_users: int = Field(default=10, ge=3)


class _Counts:
    """The joint distribution of use counts, held by feature (one contiguous column each), with
    every pair's adoption table worked out at once: per pair, only the accounts using both are
    read again, for their intensity."""

    def __init__(self, values: np.ndarray, weights: np.ndarray) -> None:
        self.columns = np.ascontiguousarray(values.T)
        self.weights = weights
        self.adopted = self.columns > 0
        self.rows_using = [np.flatnonzero(used) for used in self.adopted]
        self.whole = [_whole_counts(c) if c.size else True for c in self.columns]
        used = self.adopted.astype(np.float64)
        # Weights are whole counts of accounts, so these sums are exact in float64.
        self.both = (used * weights) @ used.T
        self.users = used @ weights
        self.total = float(weights.sum())

    def adoption_table(self, i: int, j: int) -> tuple[int, int, int, int]:
        """Accounts that adopted both features, only the first, only the second, neither."""
        both = self.both[i, j]
        first, second = self.users[i] - both, self.users[j] - both
        return (
            round(float(both)),
            round(float(first)),
            round(float(second)),
            round(self.total - float(both + first + second)),
        )

    def intensity(self, i: int, j: int, names: tuple[str, str], method: Method) -> TestResult:
        """The correlation of two features' counts among the accounts that used both, over the
        distinct (count, count) pairs with their weights: exact, and few rows to rank."""
        # From the rows of the rarer feature: fewer to read than every row, per pair.
        rare, other = (i, j) if len(self.rows_using[i]) <= len(self.rows_using[j]) else (j, i)
        rows = self.rows_using[rare]
        both = rows[self.adopted[other][rows]]
        pairs, summed = _distinct_pairs(
            self.columns[i][both],
            self.columns[j][both],
            self.weights[both],
            whole=self.whole[i] and self.whole[j],
        )
        return weighted_correlation_pairs(pairs, summed, names, method)[0][2]


_DENSE_CELLS = 1 << 22  # a count grid up to this size is summed directly: no sort at all


def _whole_counts(x: np.ndarray) -> bool:
    return bool(x.min() >= 0 and np.all(x == np.floor(x)))


def _distinct_pairs(
    a: np.ndarray, b: np.ndarray, weights: np.ndarray, *, whole: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (a, b) pairs in lexical order, with their summed weights. Counts are
    small whole numbers, so a grid of them is binned in one pass where it fits; sorting
    rows (``np.unique(axis=0)``) took most of a million-account run. ``whole``: whether both
    are known to be whole counts already (checked here when not given)."""
    if whole is None:
        whole = bool(a.size) and _whole_counts(a) and _whole_counts(b)
    if a.size and whole:
        width = int(b.max()) + 1
        cells = (int(a.max()) + 1) * width
        if cells <= _DENSE_CELLS:
            summed = np.bincount(
                a.astype(np.int64) * width + b.astype(np.int64), weights=weights, minlength=cells
            )
            used = np.flatnonzero(summed)
            pairs = np.column_stack([used // width, used % width]).astype(np.float64)
            return pairs, summed[used]
    pairs, inverse = np.unique(np.column_stack([a, b]), axis=0, return_inverse=True)
    return pairs, np.bincount(inverse.ravel(), weights=weights, minlength=len(pairs))


def _usage_counts(
    rec: Recorder, warehouse: Warehouse, p: CorrelationParams, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Every account's use counts of ``names`` as their joint distribution (distinct count
    vectors and how many accounts share each), accounts with no use at all included."""
    src = event_source(warehouse.model, p.feature_dimension, p.entity_table)
    bound = {f"f{i}": name for i, name in enumerate(names)}
    data = rec.arrays(usage_distribution_sql(src, names), bound)
    table = warehouse.model.tables[p.entity_table]
    entities = int(
        rec.arrays(build_sql(_ENTITIES_SQL, {"T_U": table.table, "A_U": table.name}))["entities"][0]
    )
    values = (
        np.column_stack([data[f"c{i}"] for i in range(len(names))]).astype(np.float64)
        if len(data["weight"])
        else np.zeros((0, len(names)))
    )
    weights = np.asarray(data["weight"], dtype=np.float64)
    idle = entities - int(weights.sum())
    if idle > 0:  # accounts that used nothing: one all-zero row carries them all
        values = np.vstack([values, np.zeros((1, len(names)))])
        weights = np.append(weights, idle)
    return values, weights


def usage_correlation(
    warehouse: Warehouse, params: CorrelationParams | None = None
) -> AnalysisResult:
    """Two questions per pair of features, each tested. Co-adoption: over all accounts, does
    adopting one go with adopting the other (2x2 table; phi, chi-square or Fisher)? Intensity:
    among the accounts that used both, do their counts go together (Spearman by default:
    usage is heavy-tailed; Pearson on request)? Asked as one correlation over all accounts with
    zeros for never-used, the many shared zeros make co-adoption read as correlated intensity,
    even when heavier use of one goes with lighter use of the other. DuckDB returns the counts'
    joint distribution, so any number of accounts fits and both questions come from it."""
    p = params or CorrelationParams()
    rec = Recorder(warehouse)
    adoption = rec.query(
        {
            "measures": [p.adopters],
            "dimensions": [p.feature_dimension],
            "order_by": [{"field": p.adopters, "descending": True}],
            "limit": p.max_features,
        }
    )
    names = sorted(
        str(r[p.feature_dimension]) for r in adoption if r[p.feature_dimension] is not None
    )
    if len(names) < 2:
        return rec.result(
            "usage_correlation",
            [],
            [],
            [f"Fewer than two features in {p.feature_dimension}: nothing to pair."],
        )
    values, weights = _usage_counts(rec, warehouse, p, names)
    n = round(float(weights.sum()))
    counts = _Counts(values, weights)
    rows: list[dict[str, Any]] = []
    findings = []
    too_few: list[str] = []
    for (i, a), (j, b) in itertools.combinations(enumerate(names), 2):
        subject = f"{a} ~ {b}"
        table = counts.adoption_table(i, j)
        co_adoption = phi_test(*table, names=(a, b))
        findings.append(
            to_finding(
                co_adoption,
                metric="feature_co_adoption",
                dimension=p.feature_dimension,
                subject=subject,
            )
        )
        both_users = table[0]
        intensity: TestResult | None = None
        if both_users >= p.min_both_users:
            intensity = counts.intensity(i, j, (a, b), p.method)
            # Said by the finding itself: this correlation is over the accounts using both.
            intensity.estimates["accounts_using_both"] = float(both_users)
            findings.append(
                to_finding(
                    intensity,
                    metric="usage_correlation",
                    dimension=p.feature_dimension,
                    subject=subject,
                )
            )
        else:
            too_few.append(f"{subject} ({both_users:,})")
        rows.append(
            {
                "feature_a": a,
                "feature_b": b,
                "co_adoption_phi": co_adoption.effect_size,
                "co_adoption_p_value": co_adoption.p_value,
                "intensity_correlation": intensity.effect_size if intensity else None,
                "intensity_p_value": intensity.p_value if intensity else None,
                "both_users": both_users,
                "accounts": n,
            }
        )
    rows.sort(
        key=lambda r: -max(abs(r["co_adoption_phi"] or 0.0), abs(r["intensity_correlation"] or 0.0))
    )
    method = "Pearson" if p.method == "pearson" else "Spearman"
    notes = [
        f"{len(names)} features over {n:,} accounts of {p.entity_table}. Co-adoption: adopters "
        "(at least one use) against non-adopters of each feature of a pair, over all accounts; "
        "effect phi (the correlation of the two adoption indicators), chi-square test without "
        "continuity correction, Fisher's exact test when an expected count is below 5.",
        f"Intensity: the {method} correlation of the two features' counts among the accounts "
        "that used both, so never-used zeros cannot pass for correlated use; it describes "
        "accounts that chose both features, not all accounts.",
    ]
    if too_few:
        notes.append(
            f"No intensity correlation where fewer than {p.min_both_users} accounts used both "
            f"features: {', '.join(too_few)}."
        )
    return rec.result(
        "usage_correlation",
        rows,
        findings,
        notes,
        summary={
            "features": names,
            "accounts": n,
            "min_both_users": p.min_both_users,
            "pairs_without_intensity": len(too_few),
        },
    )
