"""Expansion candidates only on evidence: none when usage does not differ by plan, plans in
order of their median revenue, and accounts that pay nothing never proposed.

Each test writes a small DuckDB file of its own design (plans tin < copper < zinc, features
that are no demo's), and checks the step against numpy and scipy on the generated arrays."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from run_findings import corrected
from scipy import stats as sps
from synthetic import write_contract_tables

from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.query import Filter
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.analyses.expansion import plan_order
from chatter.tools.insight import audit_insights, render_insights

pytestmark = pytest.mark.integration

FEATURES = ("knit", "purl", "cast")
LAST, EARLIER = dt.date(2024, 5, 1), dt.date(2024, 4, 1)
ALL_ROWS = analyses.ExpansionParams(max_rows=10_000)


@dataclass
class Accounts:
    """One row per account: its plan and revenue in the last month (NaN: NULL), its uses of
    each feature, and optionally what it paid the month before."""

    plan: np.ndarray
    mrr: np.ndarray
    uses: np.ndarray
    earlier_mrr: np.ndarray | None = None


def write(path: Path, acc: Accounts) -> Path:
    n = len(acc.plan)
    ids = np.arange(1, n + 1, dtype=np.int64)
    signup = dt.date(2024, 1, 1)
    users = pd.DataFrame(
        {
            "user_id": ids,
            "signup_date": [signup] * n,
            "plan_type": acc.plan,
            "industry": "loom",
            "acquisition_channel": "fair",
            "company_size": "S",
            "country": "NZ",
            "converted": True,
            "churned": False,
            "churn_date": pd.to_datetime(pd.Series([None] * n)).dt.date,
        }
    )
    who = [np.repeat(ids, acc.uses[:, j]) for j in range(len(FEATURES))]
    kinds = [f for j, f in enumerate(FEATURES) for _ in range(len(who[j]))]
    users_of = np.concatenate(who)
    start = dt.datetime(2024, 1, 2)
    events = pd.DataFrame(
        {
            "event_id": np.arange(1, len(users_of) + 1, dtype=np.int64),
            "user_id": users_of,
            "event_type": kinds,
            "event_ts": [start + dt.timedelta(minutes=int(k)) for k in range(len(users_of))],
        }
    )
    months = [(LAST, acc.mrr)] + (
        [(EARLIER, acc.earlier_mrr)] if acc.earlier_mrr is not None else []
    )
    revenue = pd.concat(
        [
            pd.DataFrame(
                {
                    "user_id": ids,
                    "month": [month] * n,
                    "plan_type": acc.plan,
                    "mrr": [None if np.isnan(v) else float(v) for v in mrr],
                }
            )
            for month, mrr in months
        ]
    )
    write_contract_tables(path, users, events, revenue)
    return path


def run(path: Path, params: analyses.ExpansionParams = ALL_ROWS) -> analyses.AnalysisResult:
    with Warehouse(Engine(path), default_model()) as wh:
        return analyses.expansion_opportunities(wh, params)


def insight_texts(result: analyses.AnalysisResult) -> tuple[str, list[str]]:
    """The run's insights over this one step, and the problems the audit finds in them."""
    steps = [result.to_step("expansion_opportunities", "analysis")]
    findings = corrected({"expansion_opportunities": result})
    insights = render_insights(steps, findings)
    # The run's alpha is a setting the "nothing significant" insight may name.
    problems = audit_insights(insights, steps, findings, parameters=[0.05])
    return " ".join(i.text for i in insights), problems


def closer_to_next(acc: Accounts, order: list[str]) -> dict[str, np.ndarray]:
    """The rule on its own, in numpy: per lower plan, the paying accounts whose log usage is
    nearer (Euclidean) the next plan's mean than their own plan's."""
    paying = acc.mrr > 0
    profile = np.log1p(acc.uses.astype(float))
    centre = {p: profile[paying & (acc.plan == p)].mean(axis=0) for p in order}
    out = {}
    for lower, upper in pairwise(order):
        members = np.flatnonzero(paying & (acc.plan == lower))
        own = np.linalg.norm(profile[members] - centre[lower], axis=1)
        up = np.linalg.norm(profile[members] - centre[upper], axis=1)
        out[lower] = members[up < own]
    return out


def kruskal_p(acc: Accounts) -> float:
    """scipy's Kruskal-Wallis on the product of (1 + uses): the same ranks as the sum of
    log(1 + uses), with the ties that sum has in exact arithmetic (1 and 5 uses, 2 and 3)."""
    paying = acc.mrr > 0
    score = np.prod(acc.uses + 1, axis=1).astype(float)  # exact: far below 2**53 here
    groups = [score[paying & (acc.plan == p)] for p in sorted(set(acc.plan))]
    return float(sps.kruskal(*groups).pvalue)


PRICES = {"tin": 20.0, "copper": 60.0, "zinc": 150.0}


def priced(rng: np.random.Generator, plan: np.ndarray) -> np.ndarray:
    """Revenue around each plan's price, skewed (discounts, add-ons), so median != mean."""
    base = np.array([PRICES[p] for p in plan])
    return np.round(base * rng.lognormal(0.0, 0.35, len(plan)), 2)


# ---- (a) usage independent of plan -------------------------------------------------------


@pytest.fixture(scope="module")
def null_accounts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Accounts, Path]:
    rng = np.random.default_rng(11)
    n = 900
    plan = rng.choice(list(PRICES), n, p=[0.45, 0.35, 0.2])
    acc = Accounts(plan, priced(rng, plan), rng.poisson(6.0, (n, len(FEATURES))))
    return acc, write(tmp_path_factory.mktemp("null") / "null.duckdb", acc)


def test_the_trap_is_real_on_null_usage(null_accounts: tuple[Accounts, Path]) -> None:
    # Without the gate, chance alone proposes a large share of the lower plans: the gate is
    # what the next test checks, not an empty dataset.
    acc, _ = null_accounts
    chosen = closer_to_next(acc, ["tin", "copper", "zinc"])
    lower = np.isin(acc.plan, ["tin", "copper"]).sum()
    assert sum(len(c) for c in chosen.values()) > 0.3 * lower


def test_no_candidates_when_usage_does_not_differ_by_plan(
    null_accounts: tuple[Accounts, Path],
) -> None:
    acc, path = null_accounts
    result = run(path)
    (finding,) = result.findings
    assert finding.test == "kruskal_wallis"
    assert finding.p_value == pytest.approx(kruskal_p(acc), rel=1e-9)
    assert finding.p_value >= 0.05
    assert result.rows == []
    s = result.summary
    assert s["evidence"] is False and s["candidates"] == 0 and s["mrr_at_stake"] == 0
    assert s["evidence_p_value"] == pytest.approx(finding.p_value)
    assert all(p["candidates"] == 0 and p["mrr_at_stake"] == 0 for p in s["plans"])
    note = next(n for n in result.notes if "does not differ" in n)
    assert "No evidence of expansion" in note and "no account is proposed" in note
    assert f"p = {finding.p_value:.2f}" in note
    assert "correction still applies" in note
    text, problems = insight_texts(result)
    assert "No evidence of expansion" in text and "does not differ significantly" in text
    assert "use the product like the next" not in text and "MRR at stake" not in text
    assert problems == []


# ---- (b) planted: lower-plan accounts that use like the plan above ---------------------


@pytest.fixture(scope="module")
def planted_accounts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Accounts, Path, np.ndarray]:
    rng = np.random.default_rng(5)
    n = 900
    plan = rng.choice(list(PRICES), n, p=[0.45, 0.35, 0.2])
    rate = np.select([plan == "tin", plan == "copper"], [2.0, 8.0], 25.0)
    # A fifth of tin uses like copper and a fifth of copper like zinc: the planted upsells.
    planted = (plan != "zinc") & (rng.random(n) < 0.2)
    rate = np.where(planted & (plan == "tin"), 8.0, rate)
    rate = np.where(planted & (plan == "copper"), 25.0, rate)
    uses = rng.poisson(rate[:, None] * np.ones(len(FEATURES)))
    acc = Accounts(plan, priced(rng, plan), uses)
    return acc, write(tmp_path_factory.mktemp("planted") / "planted.duckdb", acc), planted


def test_planted_upsells_are_found_with_mrr_at_stake_as_numpy_computes_it(
    planted_accounts: tuple[Accounts, Path, np.ndarray],
) -> None:
    acc, path, planted = planted_accounts
    result = run(path)
    (finding,) = corrected({"expansion_opportunities": result})
    assert finding.p_value == pytest.approx(kruskal_p(acc), rel=1e-9)
    assert finding.significant and result.summary["evidence"] is True
    order = ["tin", "copper", "zinc"]
    chosen = closer_to_next(acc, order)
    median = {p: float(np.median(acc.mrr[acc.plan == p])) for p in order}
    mean = {p: float(acc.mrr[acc.plan == p].mean()) for p in order}
    stake = {
        lower: np.maximum(median[upper] - acc.mrr[chosen[lower]], 0.0)
        for lower, upper in pairwise(order)
    }
    by_plan = {p["plan"]: p for p in result.summary["plans"]}
    for lower, upper in pairwise(order):
        assert by_plan[lower]["next_plan"] == upper
        assert by_plan[lower]["candidates"] == len(chosen[lower])
        assert by_plan[lower]["next_plan_mrr"] == pytest.approx(median[upper])
        assert by_plan[lower]["mrr_at_stake"] == pytest.approx(stake[lower].sum())
        # The mean would give another price: the test tells the two apart.
        assert abs(mean[upper] - median[upper]) > 1.0
    total = sum(float(v.sum()) for v in stake.values())
    assert result.summary["mrr_at_stake"] == pytest.approx(total)
    proposed = {r["entity"] for r in result.rows}
    assert proposed == {int(i) + 1 for c in chosen.values() for i in c}
    found = np.isin(np.arange(1, len(acc.plan) + 1), list(proposed))
    assert found[planted].mean() > 0.9  # the planted accounts are found...
    assert found[~planted & (acc.plan != "zinc")].mean() < 0.2  # ...and few others
    stakes = [r["mrr_at_stake"] for r in result.rows]
    assert stakes == sorted(stakes, reverse=True)
    assert any("Usage differs by plan_type" in n for n in result.notes)
    text, problems = insight_texts(result)
    assert "accounts use the product like the next plan type up" in text
    assert "MRR at stake" in text and "No evidence" not in text
    assert problems == []


def test_a_short_list_is_the_head_of_the_full_one_when_stakes_tie(tmp_path: Path) -> None:
    # Whole-dollar prices: many candidates tie on MRR at stake, across the cut of a short list
    # and across the two pairs of plans; the short list is still the full list's first rows,
    # ties by account id as text (10 before 9).
    rng = np.random.default_rng(21)
    n = 900
    plan = rng.choice(list(PRICES), n, p=[0.45, 0.35, 0.2])
    rate = np.select([plan == "tin", plan == "copper"], [2.0, 8.0], 25.0)
    heavy = (plan != "zinc") & (rng.random(n) < 0.3)
    rate = np.where(heavy, np.where(plan == "tin", 8.0, 25.0), rate)
    mrr = np.array([PRICES[p] for p in plan]) - rng.integers(0, 3, n)
    path = write(
        tmp_path / "ties.duckdb", Accounts(plan, mrr, rng.poisson(rate[:, None] * np.ones(3)))
    )
    full = run(path).rows
    stakes = [r["mrr_at_stake"] for r in full]
    assert len(full) > 40 and len(set(stakes[:40])) < 10  # the ties are there
    for k in (1, 7, 25, 40):
        assert run(path, analyses.ExpansionParams(max_rows=k)).rows == full[:k]
    assert full == sorted(full, key=lambda r: (-r["mrr_at_stake"], str(r["entity"])))


def test_plans_are_the_ones_billed_whatever_the_signup_plan_or_scope(tmp_path: Path) -> None:
    # The plan billed in the last month, not the one chosen at signup: a plan nobody signed
    # up with is a level of its own, and a scope on the signup plan keeps the billed names.
    rng = np.random.default_rng(4)
    n = 600
    plan = rng.choice(list(PRICES), n, p=[0.5, 0.3, 0.2])
    path = write(
        tmp_path / "billed.duckdb", Accounts(plan, priced(rng, plan), rng.poisson(4.0, (n, 3)))
    )
    con = duckdb.connect(str(path))
    moved = [int(i) + 1 for i in np.flatnonzero(plan == "zinc")[:40]]
    con.execute(
        "UPDATE revenue SET plan_type = 'pewter', mrr = 400 WHERE month = ? AND user_id IN "
        f"({', '.join(map(str, moved))})",
        [LAST],
    )
    upgraded = [int(i) + 1 for i in np.flatnonzero(plan == "tin")[:30]]
    con.execute(
        "UPDATE revenue SET plan_type = 'copper' WHERE month = ? AND user_id IN "
        f"({', '.join(map(str, upgraded))})",
        [LAST],
    )
    con.close()
    steps = [(s["plan"], s["next_plan"], s["accounts"]) for s in run(path).summary["plans"]]
    billed = {"tin": (plan == "tin").sum() - 30, "copper": (plan == "copper").sum() + 30}
    assert steps == [
        ("tin", "copper", billed["tin"]),
        ("copper", "zinc", billed["copper"]),
        ("zinc", "pewter", (plan == "zinc").sum() - 40),
    ]
    scope = (Filter(field="users.plan_type", op="=", value="tin"),)
    with Warehouse(Engine(path), default_model(), scope=scope) as wh:
        scoped = analyses.expansion_opportunities(wh, ALL_ROWS)
    # Within the scope: the tin sign-ups, billed tin or (30 of them, at tin's price) copper.
    ((lower, upper, accounts),) = [
        (s["plan"], s["next_plan"], s["accounts"]) for s in scoped.summary["plans"]
    ]
    assert (lower, upper, accounts) == ("copper", "tin", 30)
    assert not any("None" in note for note in scoped.notes)


# ---- (c) heavy-tailed revenue: plans by their median -------------------------------------


def test_plans_are_ordered_by_median_not_mean(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    per = 120
    plan = np.repeat(["tin", "copper", "zinc"], per)
    mrr = np.concatenate(
        [
            np.full(per, 50.0),  # tin: median 50, but a few whales lift its mean to the top
            np.full(per, 100.0),  # copper: median 100, mean 100
            np.r_[np.full(per - 20, 100.0), np.full(20, 220.0)],  # zinc: median 100, mean 120
        ]
    )
    mrr[rng.choice(per, 6, replace=False)] = 5_000.0
    acc = Accounts(plan, mrr, rng.poisson(4.0, (len(plan), len(FEATURES))))
    means = {p: mrr[plan == p].mean() for p in ("tin", "copper", "zinc")}
    assert sorted(means, key=means.__getitem__) == ["copper", "zinc", "tin"]  # the trap
    result = run(write(tmp_path / "tail.duckdb", acc))
    steps = [(p["plan"], p["next_plan"]) for p in result.summary["plans"]]
    assert steps == [("tin", "copper"), ("copper", "zinc")]  # copper, zinc: a tie, by mean
    assert result.summary["plans"][0]["next_plan_mrr"] == 100.0
    note = next(n for n in result.notes if n.startswith("Plans ordered"))
    assert "median mrr" in note and note.endswith("tin < copper < zinc.")


def test_ties_on_median_and_mean_go_by_name() -> None:
    plan = np.array(["b", "b", "a", "a", "c"], dtype=object)
    amount = np.array([10.0, 10.0, 10.0, 10.0, 5.0])
    assert plan_order(plan, amount) == ["c", "a", "b"]


# ---- (d) accounts that pay nothing ---------------------------------------------------------


def test_accounts_paying_nothing_are_never_candidates(
    tmp_path: Path, planted_accounts: tuple[Accounts, Path, np.ndarray]
) -> None:
    planted, _, _ = planted_accounts
    rng = np.random.default_rng(8)
    n = len(planted.plan)
    mrr = planted.mrr.copy()
    # Heavy users of tin that pay nothing now (free, refunded, missing): each would be a
    # candidate with the largest MRR at stake if it counted; they paid the month before.
    heavy = closer_to_next(planted, ["tin", "copper", "zinc"])["tin"]
    free = rng.choice(heavy, 12, replace=False)
    mrr[free[:5]], mrr[free[5:9]], mrr[free[9:]] = 0.0, -15.0, np.nan
    # And a share of zinc at zero, which would pull zinc's median down if it counted.
    zinc = np.flatnonzero(planted.plan == "zinc")
    mrr[zinc[: len(zinc) // 3]] = 0.0
    left_out = 12 + len(zinc) // 3
    acc = Accounts(planted.plan, mrr, planted.uses, earlier_mrr=np.full(n, 500.0))
    result = run(write(tmp_path / "free.duckdb", acc))
    assert result.summary["evidence"] is True and result.rows
    proposed = {r["entity"] for r in result.rows}
    assert not proposed & {int(i) + 1 for i in free}
    assert all(r["current_mrr"] > 0 for r in result.rows)
    assert result.summary["non_paying_accounts"] == left_out
    note = next(n for n in result.notes if "left out" in n)
    assert re.match(rf"{left_out} accounts with zero, negative or missing mrr", note)
    paying_zinc = mrr[zinc][mrr[zinc] > 0]
    by_plan = {p["plan"]: p for p in result.summary["plans"]}
    assert by_plan["copper"]["next_plan_mrr"] == pytest.approx(np.median(paying_zinc))
    assert np.median(np.nan_to_num(mrr[zinc])) < np.median(paying_zinc)  # it would differ
    chosen = closer_to_next(acc, ["tin", "copper", "zinc"])
    assert proposed == {int(i) + 1 for c in chosen.values() for i in c}
