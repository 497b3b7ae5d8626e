"""Expansion opportunities: accounts on a lower plan whose usage looks like the next plan up's,
with the monthly revenue at stake."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from pydantic import Field
from sqlglot import exp

from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.model_names import event_source, revenue_source
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.sql_template import build_sql
from chatter.tools.params import Dimension, Measure, Params, Table
from chatter.tools.stats import kruskal_wallis_test

_EXPANSION_SQL = """
WITH latest AS (
    SELECT MAX(A_REV.C_PERIOD) AS period FROM T_REV AS A_REV
), current_accounts AS (
    SELECT A_REV.C_RKEY AS entity, A_REV.C_PLAN AS plan, A_REV.C_AMOUNT AS amount
    FROM T_REV AS A_REV JOIN latest ON A_REV.C_PERIOD = latest.period
), usage AS (
    SELECT A_EV.C_EKEY AS entity, A_EV.C_FEATURE AS feature, COUNT(*) AS uses
    FROM T_EV AS A_EV WHERE A_EV.C_FEATURE IS NOT NULL GROUP BY 1, 2
)
SELECT current_accounts.entity, current_accounts.plan, current_accounts.amount
FROM current_accounts LEFT JOIN usage ON current_accounts.entity = usage.entity
GROUP BY 1, 2, 3
"""


def _uses_of(i: int) -> exp.Expr:
    """Column ``c<i>``: the account's uses of feature parameter ``$f<i>`` (zero if none)."""
    uses = exp.Filter(
        this=exp.Sum(this=exp.column("uses", table="usage")),
        expression=exp.Where(
            this=exp.EQ(
                this=exp.column("feature", table="usage"), expression=exp.Placeholder(this=f"f{i}")
            )
        ),
    )
    return exp.alias_(
        exp.Coalesce(this=uses, expressions=[exp.Literal.number(0)]), f"c{i}", quoted=True
    )


class ExpansionParams(Params):
    """Where to look for accounts that use more than their plan."""

    plan_dimension: Dimension = "plan_type"
    revenue: Measure = "mrr"
    period_dimension: Dimension = "month"
    feature_dimension: Dimension = "event_type"
    entity_table: Table = "users"
    max_rows: int = Field(default=100, ge=1, le=10_000)


def expansion_opportunities(
    warehouse: Warehouse, params: ExpansionParams | None = None
) -> AnalysisResult:
    """Accounts paying for a lower plan whose feature usage is closer to the next plan up than to
    their own, with the monthly revenue at stake if they moved up.

    Plans are ordered by their average revenue per account (levels come from the data). Usage is
    each account's log(1 + uses) per feature; "closer" is Euclidean distance to each plan's mean.
    """
    p = params or ExpansionParams()
    rec = Recorder(warehouse)
    model = warehouse.model
    rev = revenue_source(model, p.revenue, p.period_dimension, p.plan_dimension, p.entity_table)
    ev = event_source(model, p.feature_dimension, p.entity_table)
    features = sorted(
        str(r[p.feature_dimension])
        for r in rec.query({"dimensions": [p.feature_dimension]})
        if r[p.feature_dimension] is not None
    )
    base = build_sql(
        _EXPANSION_SQL,
        {
            "T_REV": rev.table,
            "A_REV": rev.alias,
            "C_RKEY": rev.key,
            "C_PERIOD": rev.period,
            "C_PLAN": rev.plan,
            "C_AMOUNT": rev.amount,
            "T_EV": ev.table,
            "A_EV": ev.alias,
            "C_EKEY": ev.key,
            "C_FEATURE": ev.feature,
        },
    )
    assert isinstance(base, exp.Select)
    statement = base.select(*(_uses_of(i) for i in range(len(features))), append=True)
    data = rec.arrays(statement, {f"f{i}": f for i, f in enumerate(features)})
    if not len(data["entity"]):
        return rec.result(
            "expansion_opportunities", [], [], ["No paying accounts in the last period."]
        )
    entities = data["entity"]
    plan = np.asarray([str(p) for p in data["plan"]], dtype=object)
    amount = data["amount"].astype(np.float64)
    usage = (
        np.column_stack([data[f"c{i}"].astype(np.float64) for i in range(len(features))])
        if features
        else np.zeros((len(entities), 0))
    )
    profile = np.log1p(usage)
    levels = sorted({str(p) for p in plan}, key=lambda p: float(amount[plan == p].mean()))
    price = {p: float(amount[plan == p].mean()) for p in levels}
    centroid = {p: profile[plan == p].mean(axis=0) for p in levels}
    candidates: list[dict[str, Any]] = []
    summary_rows: list[dict[str, Any]] = []
    for lower, upper in pairwise(levels):
        members = np.flatnonzero(plan == lower)
        own = np.linalg.norm(profile[members] - centroid[lower], axis=1)
        up = np.linalg.norm(profile[members] - centroid[upper], axis=1)
        chosen = members[up < own]
        uplift = np.maximum(price[upper] - amount[chosen], 0.0)
        summary_rows.append(
            {
                "plan": lower,
                "next_plan": upper,
                "accounts": len(members),
                "candidates": len(chosen),
                "mrr_at_stake": float(uplift.sum()),
            }
        )
        candidates += [
            {
                "entity": entities[i].item(),
                "plan": lower,
                "suggested_plan": upper,
                "current_mrr": float(amount[i]),
                "next_plan_mrr": price[upper],
                "mrr_at_stake": float(u),
            }
            for i, u in zip(chosen, uplift, strict=True)
        ]
    candidates.sort(key=lambda c: (-c["mrr_at_stake"], str(c["entity"])))
    score = profile.sum(axis=1)
    findings = [
        to_finding(
            kruskal_wallis_test({p: score[plan == p] for p in levels}),
            metric="usage_intensity",
            dimension=p.plan_dimension,
            subject="log usage per account across plans",
        )
    ]
    notes = [
        f"Plans ordered by average {p.revenue} per account in the last period: "
        + " < ".join(levels)
        + ".",
        "mrr_at_stake: the next plan's average MRR minus the account's current MRR; rows list "
        f"the top {p.max_rows} candidates by MRR at stake.",
    ]
    return rec.result(
        "expansion_opportunities",
        candidates[: p.max_rows],
        findings,
        notes,
        summary={
            "plans": summary_rows,
            "candidates": sum(s["candidates"] for s in summary_rows),
            "mrr_at_stake": sum(s["mrr_at_stake"] for s in summary_rows),
        },
    )
