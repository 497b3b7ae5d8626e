"""Lifetime value by segment: monthly revenue per account times the expected lifetime, and whether
churn differs across the segments."""

from __future__ import annotations

from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.model_names import qualify
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.params import Dimension, FilteredParams, Measure, Table
from chatter.tools.stats import chi_square_test


class LtvParams(FilteredParams):
    """What lifetime value is made of, and by which segment."""

    segment_dimension: Dimension = "plan_type"
    entity_table: Table = "users"
    revenue: Measure = "revenue"
    monthly_revenue: Measure = "avg_mrr"
    exposure: Measure = "paying_months"
    revenue_accounts: Measure = "paying_users"
    customers: Measure = "converted_users"
    churned: Measure = "churned_users"


def ltv_by_segment(warehouse: Warehouse, params: LtvParams | None = None) -> AnalysisResult:
    """Lifetime value per segment: monthly ARPU x expected lifetime (1 / monthly churn), beside
    the revenue observed so far per account. Tests whether churn differs across segments."""
    p = params or LtvParams()
    rec = Recorder(warehouse)
    segment = qualify(warehouse.model, p.segment_dimension, p.entity_table)
    seg = segment.split(".")[-1]
    money = {
        r[seg]: r
        for r in rec.query(
            {
                "measures": [p.revenue, p.monthly_revenue, p.exposure, p.revenue_accounts],
                "dimensions": [segment],
                "filters": list(p.filters),
            }
        )
    }
    churn = {
        r[seg]: r
        for r in rec.query(
            {
                "measures": [p.customers, p.churned],
                "dimensions": [segment],
                "filters": list(p.filters),
            }
        )
    }
    rows, table, labels = [], [], []
    for level in sorted((k for k in churn if k is not None), key=str):
        c = churn[level]
        m = money.get(level, {})
        paying, lost = c[p.customers] or 0, c[p.churned] or 0
        months = m.get(p.exposure) or 0
        hazard = lost / months if months else None
        arpu = m.get(p.monthly_revenue)
        lifetime = 1 / hazard if hazard else None
        rows.append(
            {
                "segment": level,
                "paying_accounts": paying,
                "churned_accounts": lost,
                "paying_months": months,
                "monthly_churn": hazard,
                "monthly_arpu": arpu,
                "expected_lifetime_months": lifetime,
                "ltv": arpu * lifetime if arpu is not None and lifetime is not None else None,
                "observed_revenue_per_account": (m.get(p.revenue) or 0.0) / m[p.revenue_accounts]
                if m.get(p.revenue_accounts)
                else None,
            }
        )
        if paying:
            table.append([lost, paying - lost])
            labels.append(str(level))
    findings = [
        to_finding(
            chi_square_test(table, labels, ("churned", "retained")),
            metric="churn_rate",
            dimension=seg,
        )
    ]
    notes = [
        "monthly_churn = churned accounts / paying account-months (a constant monthly hazard); "
        "expected_lifetime_months = 1 / monthly_churn; ltv = monthly_arpu x "
        "expected_lifetime_months, undiscounted and before costs.",
        "observed_revenue_per_account = revenue so far / accounts billed: a floor on lifetime "
        "value, since accounts still paying will pay more.",
        f"Segments are {segment}, fixed per account.",
    ]
    return rec.result("ltv_by_segment", rows, findings, notes)
