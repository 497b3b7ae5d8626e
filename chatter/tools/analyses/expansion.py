"""Expansion opportunities: accounts on a lower plan whose usage looks like the next plan up's,
with the monthly revenue at stake, proposed only when usage differs by plan at all."""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import numpy as np
from pydantic import Field
from sqlglot import exp

from chatter.number_text import number, p_value
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.model_names import (
    EventSource,
    RevenueSource,
    event_source,
    revenue_source,
)
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.sql_template import build_sql, built_once
from chatter.tools.params import Dimension, Measure, Params, Table
from chatter.tools.stats import TestResult, kruskal_wallis_test

#: The step's own bar for "usage differs by plan", on its uncorrected p-value: when usage does
#: not differ, an account closer to the next plan's mean usage is so by chance (about half of
#: them), and proposing it would be noise. The run still corrects the finding with the others.
EVIDENCE_ALPHA = 0.05

# A NULL amount is read as zero, so it is left out with the other accounts that pay nothing.
# The CTEs' names cannot be a table's (a model's table named "usage" would be shadowed).
_CURRENT_ACCOUNTS = """
WITH __expansion_latest AS (
    SELECT MAX(A_REV.C_PERIOD) AS period FROM T_REV AS A_REV
), __expansion_accounts AS (
    SELECT A_REV.C_RKEY AS entity, A_REV.C_PLAN AS plan, COALESCE(A_REV.C_AMOUNT, 0) AS amount
    FROM T_REV AS A_REV JOIN __expansion_latest ON A_REV.C_PERIOD = __expansion_latest.period
)"""

# The plans billed in the last period: the levels the accounts' plan codes point into.
_PLANS_SQL = f"""{_CURRENT_ACCOUNTS}
SELECT DISTINCT __expansion_accounts.plan AS plan
FROM __expansion_accounts WHERE __expansion_accounts.plan IS NOT NULL
"""

_EXPANSION_SQL = f"""{_CURRENT_ACCOUNTS}, __expansion_usage AS (
    SELECT A_EV.C_EKEY AS entity, A_EV.C_FEATURE AS feature, COUNT(*) AS uses
    FROM T_EV AS A_EV WHERE A_EV.C_FEATURE IS NOT NULL GROUP BY 1, 2
)
SELECT __expansion_accounts.entity, __expansion_accounts.amount
FROM __expansion_accounts
  LEFT JOIN __expansion_usage ON __expansion_accounts.entity = __expansion_usage.entity
GROUP BY __expansion_accounts.entity, __expansion_accounts.plan, __expansion_accounts.amount
"""


def _uses_of(i: int) -> exp.Expr:
    """Column ``c<i>``: the account's uses of feature parameter ``$f<i>`` (zero if none)."""
    uses = exp.Filter(
        this=exp.Sum(this=exp.column("uses", table="__expansion_usage")),
        expression=exp.Where(
            this=exp.EQ(
                this=exp.column("feature", table="__expansion_usage"),
                expression=exp.Placeholder(this=f"f{i}"),
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


def plan_order(plan: np.ndarray, amount: np.ndarray) -> list[str]:
    """Plans from cheapest to dearest by median revenue per account (a few large accounts
    cannot lift a plan above a dearer one, as they can its mean), ties by mean, then name."""
    return _ordered(_members(plan), amount)


def _members(plan: np.ndarray) -> dict[str, np.ndarray]:
    """Each plan's accounts as a mask, from the plans' names."""
    codes: dict[str, int] = {}
    code = np.fromiter(
        (codes.setdefault(str(p), len(codes)) for p in plan), dtype=np.int64, count=len(plan)
    )
    return {name: code == k for name, k in codes.items()}


def _plan_code(plans: int) -> exp.Expr:
    """Column ``plan_code``: the position of the account's plan among the ``plans`` known
    (parameters ``$plan0, ...``), ``plans`` for none. A million accounts' plan names cost
    seconds to read into Python one by one; their codes come back as one integer array."""
    case = exp.Case(default=exp.Literal.number(plans))
    for k in range(plans):
        case = case.when(
            exp.EQ(
                this=exp.column("plan", table="__expansion_accounts"),
                expression=exp.Placeholder(this=f"plan{k}"),
            ),
            exp.Literal.number(k),
        )
    return exp.alias_(case, "plan_code")


def _ordered(members: dict[str, np.ndarray], amount: np.ndarray) -> list[str]:
    return list(_medians(members, amount))


def _medians(members: Mapping[str, np.ndarray | slice], amount: np.ndarray) -> dict[str, float]:
    """Each plan's median amount, the plans in order: by median, then mean, then name
    (``members``: each plan's accounts, as a mask or a slice of ``amount``)."""
    paid = {p: amount[mask] for p, mask in members.items()}
    key = {p: (float(np.median(a)), float(a.mean()), p) for p, a in paid.items()}
    return {p: key[p][0] for p in sorted(key, key=key.__getitem__)}


def log_usage(usage: np.ndarray) -> np.ndarray:
    """Each account's total log(1 + uses) over its features, as log of the product of
    (1 + uses) taken in exact integers: accounts whose sums are equal (1 and 5 uses, or 2 and
    3) get the same number, where summing rounded logs can split them by a last bit and so
    break a tie in the ranks the Kruskal-Wallis test works on."""
    factors = usage + 1.0  # whole numbers, exact as floats
    product = factors.prod(axis=1)
    # Below 2**53 every partial product of whole factors is a whole float: exact as it is.
    small = product < 2.0**53
    out = np.empty(len(product))
    out[small] = np.log(product[small])
    big = np.flatnonzero(~small)
    if big.size:
        exact = factors[big].astype(np.int64).astype(object).prod(axis=1)
        out[big] = [math.log(v) for v in exact]
    return out


def _first_k(values: np.ndarray, entities: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k rows that come first by value (largest first), ties by entity as
    text: the order of the rows shown. Prices repeat, so thousands of accounts can tie at the
    k-th value; only the ones that can be shown become rows."""
    if len(values) <= k:
        return np.arange(len(values))
    kth = np.partition(values, len(values) - k)[len(values) - k]
    above = np.flatnonzero(values > kth)
    tied = np.flatnonzero(values == kth)
    tied = tied[np.argsort(entities[tied].astype(str), kind="stable")[: k - len(above)]]
    return np.concatenate([above, tied])


def usage_differs(test: TestResult) -> bool:
    """Whether the step's own test says usage differs by plan (uncorrected, EVIDENCE_ALPHA)."""
    return test.testable and test.p_value is not None and test.p_value < EVIDENCE_ALPHA


def _evidence_note(test: TestResult, plan_dimension: str, differs: bool) -> str:
    if test.p_value is None:
        return (
            f"Usage across {plan_dimension} could not be tested ({test.reason}): without "
            "evidence that usage differs by plan, no account is proposed."
        )
    shown = p_value(test.p_value)
    p = f"p {shown}" if shown.startswith("<") else f"p = {shown}"
    if differs:
        return (
            f"Usage differs by {plan_dimension} (Kruskal-Wallis on log usage per account, {p}, "
            f"below {EVIDENCE_ALPHA:g} before correction), so accounts whose usage is closer to "
            "the next plan's are proposed; the run's multiple-comparison correction still "
            "applies to the finding."
        )
    return (
        f"No evidence of expansion: usage does not differ significantly by {plan_dimension} "
        f"(Kruskal-Wallis on log usage per account, {p}, not below {EVIDENCE_ALPHA:g}), so an "
        "account closer to the next plan's usage may be so by chance alone and no account is "
        "proposed. The run's multiple-comparison correction still applies to the finding."
    )


def _names(rev: RevenueSource, ev: EventSource | None = None) -> dict[str, str]:
    names = {
        "T_REV": rev.table,
        "A_REV": rev.alias,
        "C_RKEY": rev.key,
        "C_PERIOD": rev.period,
        "C_PLAN": rev.plan,
        "C_AMOUNT": rev.amount,
    }
    if ev is not None:
        names |= {"T_EV": ev.table, "A_EV": ev.alias, "C_EKEY": ev.key, "C_FEATURE": ev.feature}
    return names


def _plans_statement(rev: RevenueSource) -> exp.Expr:
    return build_sql(_PLANS_SQL, _names(rev))


@built_once
def _statement(rev: RevenueSource, ev: EventSource, features: int, plans: int) -> exp.Expr:
    """Each paying account's plan code, amount and uses of each feature (names and plans are
    parameters, so the tree is built once per source and number of each)."""
    base = build_sql(_EXPANSION_SQL, _names(rev, ev))
    assert isinstance(base, exp.Select)
    return base.select(_plan_code(plans), *(_uses_of(i) for i in range(features)), append=True)


def expansion_opportunities(
    warehouse: Warehouse, params: ExpansionParams | None = None
) -> AnalysisResult:
    """Accounts paying for a lower plan whose feature usage is closer to the next plan up than to
    their own, with the monthly revenue at stake if they moved up.

    Only paying accounts (revenue above zero in the last period) count. Plans are ordered by
    their median revenue per account (levels come from the data). Usage is each account's
    log(1 + uses) per feature; "closer" is Euclidean distance to each plan's mean. Candidates
    are proposed only when total usage differs by plan (Kruskal-Wallis, EVIDENCE_ALPHA).
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
    # From the rows the codes are taken from (the same scope and cleaning): a plan no account
    # signed up with, or one outside the caller's scope, is still a level of its own.
    plans = sorted((r["plan"] for r in rec.rows(_plans_statement(rev))), key=lambda plan: str(plan))
    statement = _statement(rev, ev, len(features), len(plans))
    bound = {f"f{i}": f for i, f in enumerate(features)} | {
        f"plan{k}": plan for k, plan in enumerate(plans)
    }
    data = rec.arrays(statement, bound)
    amount = data["amount"].astype(np.float64)
    # Zero, negative or missing revenue: not paying for the plan it is on, so it says nothing
    # about what the plan costs or how its payers use it, and has no price to move up from.
    paying = amount > 0
    notes = []
    left_out = int((~paying).sum())
    if left_out:
        notes.append(
            f"{number(left_out)} accounts with zero, negative or missing {p.revenue} in the last "
            "period are left out: of the plan medians, the usage test and the candidates."
        )
    if not paying.any():
        return rec.result(
            "expansion_opportunities", [], [], ["No paying accounts in the last period.", *notes]
        )
    # Each plan's accounts side by side, in their order (so every number is as with masks):
    # a plan is a slice of the arrays, and its usage a view, not a copy per use.
    code = np.asarray(data["plan_code"], dtype=np.int64)
    # str(None): what the plan of an account without one was always called here; a plan of
    # that name and the accounts without one are one level, as they always were.
    names = [str(plan) for plan in plans]
    if str(None) in names:
        code = np.where(code == len(plans), names.index(str(None)), code)
    names.append(str(None))
    order = np.concatenate([np.flatnonzero(paying & (code == k)) for k in range(len(plans) + 1)])
    code = code[order]
    entities = data["entity"][order]
    amount = amount[order]
    usage = (
        np.column_stack([data[f"c{i}"][order] for i in range(len(features))]).astype(
            np.float64, copy=False
        )
        if features
        else np.zeros((len(entities), 0))
    )
    bounds = np.searchsorted(code, np.arange(len(names) + 1))
    members_of = {
        name: slice(int(bounds[k]), int(bounds[k + 1]))
        for k, name in enumerate(names)
        if bounds[k + 1] > bounds[k]
    }
    profile = np.log1p(usage)
    price = _medians(members_of, amount)
    levels = list(price)
    centroid = {p: profile[members_of[p]].mean(axis=0) for p in levels}
    score = log_usage(usage)
    test = kruskal_wallis_test({p: score[members_of[p]] for p in levels})
    differs = usage_differs(test)
    candidates: list[dict[str, Any]] = []
    summary_rows: list[dict[str, Any]] = []
    stakes: list[float] = []
    for lower, upper in pairwise(levels):
        span = members_of[lower]
        members = np.arange(span.start, span.stop)
        own = np.linalg.norm(profile[span] - centroid[lower], axis=1)
        up = np.linalg.norm(profile[span] - centroid[upper], axis=1)
        chosen = members[up < own] if differs else members[:0]
        uplift = np.maximum(price[upper] - amount[chosen], 0.0)
        stakes.extend(uplift.tolist())
        summary_rows.append(
            {
                "plan": lower,
                "next_plan": upper,
                "accounts": len(members),
                "candidates": len(chosen),
                # Exact sums: the same whatever order the database returned the rows in.
                "mrr_at_stake": math.fsum(uplift),
                "next_plan_mrr": price[upper],
            }
        )
        # Only those that can be among the rows shown become rows (the sort below orders them
        # with the other pairs' by the same key).
        top = _first_k(uplift, entities[chosen], p.max_rows)
        candidates += [
            {
                "entity": entities[i].item(),
                "plan": lower,
                "suggested_plan": upper,
                "current_mrr": float(amount[i]),
                "next_plan_mrr": price[upper],
                "mrr_at_stake": float(u),
            }
            for i, u in zip(chosen[top], uplift[top], strict=True)
        ]
    candidates.sort(key=lambda c: (-c["mrr_at_stake"], str(c["entity"])))
    findings = [
        to_finding(
            test,
            metric="usage_intensity",
            dimension=p.plan_dimension,
            subject="log usage per account across plans",
        )
    ]
    notes = [
        _evidence_note(test, p.plan_dimension, differs),
        f"Plans ordered by median {p.revenue} per paying account in the last period (ties by "
        "mean, then name): " + " < ".join(levels) + ".",
        "mrr_at_stake: the next plan's median MRR minus the account's current MRR (not below "
        f"zero); rows list the top {p.max_rows} candidates by MRR at stake.",
        *notes,
    ]
    return rec.result(
        "expansion_opportunities",
        candidates[: p.max_rows],
        findings,
        notes,
        summary={
            "plans": summary_rows,
            "candidates": sum(s["candidates"] for s in summary_rows),
            "mrr_at_stake": math.fsum(stakes),
            "evidence": differs,
            "evidence_p_value": test.p_value,
            "evidence_alpha": EVIDENCE_ALPHA,
            "non_paying_accounts": left_out,
        },
    )
