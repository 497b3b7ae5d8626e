"""Descriptive headlines from what an analysis step summarises: growth from first to last
period, expansion candidates and the revenue at stake, lifetime value by segment. A step's
shape (its summary keys and row columns) picks the frame; every name comes from its data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from chatter.number_text import p_value
from chatter.result import CAVEAT, Finding, StepResult
from chatter.tools.insight.wording import (
    TEST_NAMES,
    capitalise,
    humanise,
    number,
    percent,
    plural,
)


@dataclass
class Headline:
    """A sentence about one step with the evidence ids of every number it states."""

    step: str
    text: str
    evidence: list[str] = field(default_factory=list)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dimension(findings: Sequence[Finding], default: str) -> str:
    return next((f.dimension for f in findings if f.dimension), default)


def _period_label(value: Any, grain: Any) -> str:
    """A period as the step labels it: ``2025-03`` for a month, the start date otherwise."""
    text = str(value)
    return text[:7] if grain == "month" and len(text) >= 7 else text


def growth(step: StepResult, findings: Sequence[Finding]) -> Headline | None:
    """``MRR grew from 16,126 in 2024-02 to 750,522 in 2025-11: 18.2% compound growth per
    month, up in 22 of 22 months (median growth 10.6%).`` The first and last periods are the
    kept ones the growth rate is computed between (a tiny first or partial last period is left
    out; the step's caveat says which)."""
    s, rows = step.summary, step.rows
    if not (rows and all(_is_number(s.get(k)) for k in ("first", "last", "compound_growth"))):
        return None
    measure = next(
        (
            k
            for r in rows
            for k, v in r.items()
            if _is_number(v) and v == s["first"] and k != "growth"
        ),
        None,
    )
    if measure is None:
        return None
    ref = f"steps.{step.id}"
    evidence = [f"{ref}.summary.first", f"{ref}.summary.last", f"{ref}.summary.compound_growth"]
    grain = s.get("grain")
    start = end = ""
    if s.get("first_period") and s.get("last_period"):
        start = f" in {_period_label(s['first_period'], grain)}"
        end = f" in {_period_label(s['last_period'], grain)}"
        evidence += [f"{ref}.summary.first_period", f"{ref}.summary.last_period"]
    unit = humanise(grain if isinstance(grain, str) else _dimension(findings, "period"))
    verb = "grew" if s["last"] >= s["first"] else "fell"
    text = (
        f"{capitalise(humanise(measure))} {verb} from {number(s['first'])}{start} to "
        f"{number(s['last'])}{end}: {percent(s['compound_growth'])} compound growth per {unit}"
    )
    if all(_is_number(s.get(k)) for k in ("periods_growing", "periods_compared")):
        text += f", up in {s['periods_growing']} of {s['periods_compared']} {plural(unit)}"
        evidence += [f"{ref}.summary.periods_growing", f"{ref}.summary.periods_compared"]
        if _is_number(s.get("median_growth")):
            text += f" (median growth {percent(s['median_growth'])})"
            evidence.append(f"{ref}.summary.median_growth")
    text += "."
    if s.get("left_out_periods"):
        evidence.append(f"{ref}.summary.left_out_periods")
    if s.get("missing_periods"):
        evidence.append(f"{ref}.summary.missing_periods")
    if not any(f.significant for f in findings):
        # With no significant trend finding the caveat has no insight of its own to ride on.
        caveat = next((w for f in findings for w in f.warnings if w.startswith(CAVEAT)), None)
        if caveat:
            text += " " + capitalise(caveat.removeprefix(CAVEAT)) + "."
    return Headline(step.id, text, evidence)


def _no_expansion(step: StepResult, findings: Sequence[Finding]) -> Headline:
    """``No evidence of expansion: usage intensity does not differ significantly by plan type
    (Kruskal-Wallis p = 0.30, not below 0.05), so no account is proposed for the next plan type
    up.`` The p-value is the step's own, uncorrected, the one it decided on."""
    s = step.summary
    ref = f"steps.{step.id}.summary"
    unit = humanise(_dimension(findings, "plan"))
    test = next((f for f in findings if f.segment is None), None)
    usage = humanise(test.metric) if test else "usage"
    evidence = [f"{ref}.evidence", f"{ref}.candidates"]
    p, alpha = s.get("evidence_p_value"), s.get("evidence_alpha")
    if _is_number(p):
        shown = p_value(p)
        stated = [TEST_NAMES.get(test.test, humanise(test.test))] if test else []
        stated.append(f"p {shown}" if shown.startswith("<") else f"p = {shown}")
        evidence.append(f"{ref}.evidence_p_value")
        if _is_number(alpha):
            stated[-1] += f", not below {alpha:g}"
            evidence.append(f"{ref}.evidence_alpha")
        why = f"does not differ significantly by {unit} ({' '.join(stated)})"
    else:
        why = f"by {unit} could not be tested"
    text = f"No evidence of expansion: {usage} {why}, so no account is proposed for the next "
    text += f"{unit} up."
    return Headline(step.id, text, evidence)


def expansion(step: StepResult, findings: Sequence[Finding]) -> Headline | None:
    """``608 accounts use the product like the next plan type up: MRR at stake 195,099 in
    total; most from business to enterprise (230 of 740 accounts, MRR at stake 149,810).``
    When the step found no evidence that usage differs by plan, it says so instead."""
    s = step.summary
    plans = s.get("plans")
    if not (_is_number(s.get("candidates")) and isinstance(plans, list) and plans):
        return None
    if s.get("evidence") is False:
        return _no_expansion(step, findings)
    # The amount at stake is the number the summary totals over its plans (not a p-value or a
    # count of accounts left out, which the summary also holds).
    amount = next(
        (
            k
            for k in s
            if k not in ("candidates", "plans")
            and _is_number(s[k])
            and all(_is_number(p.get(k)) for p in plans)
        ),
        None,
    )
    unit = humanise(_dimension(findings, "plan"))
    ref = f"steps.{step.id}.summary"
    text = f"{number(s['candidates'])} accounts use the product like the next {unit} up"
    evidence = [f"{ref}.candidates"]
    if amount:
        text += f": {humanise(amount)} {number(s[amount])} in total"
        evidence.append(f"{ref}.{amount}")
    key = amount or "candidates"
    top = max(range(len(plans)), key=lambda i: (plans[i].get(key) or 0, -i))
    p = plans[top]
    names = [v for v in p.values() if isinstance(v, str)]
    if len(names) >= 2 and _is_number(p.get("candidates")):
        of = f" of {number(p['accounts'])}" if _is_number(p.get("accounts")) else ""
        money = f", {humanise(amount)} {number(p[amount])}" if amount else ""
        text += (
            f"; most from {names[0]} to {names[1]} ({number(p['candidates'])}{of} accounts{money})"
        )
        evidence.append(f"{ref}.plans")
    return Headline(step.id, text + ".", evidence)


def _compact(value: float) -> str:
    """An interval bound in about two significant digits (``41k``, ``1.9M``), readable when the
    interval is wide; exact enough to be matched back to its evidence."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.0f}k"
    return number(value)


def _ltv_terms(row: dict[str, Any], level: str) -> list[str]:
    """What one segment's LTV stands on: its interval, ARPU x lifetime, and its caveats (a
    heavy-tailed ARPU, few churns), as the clauses of its bracket."""
    terms = []
    low, high = row.get("ltv_low"), row.get("ltv_high")
    if _is_number(low) and _is_number(high):
        terms.append(f"{level}interval {_compact(low)} to {_compact(high)}")
    parts = [k for k in ("monthly_arpu", "expected_lifetime_months") if _is_number(row.get(k))]
    if parts:
        terms.append(" x ".join(f"{humanise(k)} {number(row[k])}" for k in parts))
    if row.get("arpu_heavy_tailed") is True and _is_number(row.get("median_monthly_revenue")):
        terms.append(f"mean ARPU; the median is {number(row['median_monthly_revenue'])}")
    churns, months = row.get("churns"), row.get("paying_months")
    if row.get("few_churns") is True and _is_number(churns) and _is_number(months):
        word = "churn" if churns == 1 else "churns"
        terms.append(f"rests on {number(churns)} {word} in {number(months)} paying months")
    return terms


def lifetime_value(step: StepResult, findings: Sequence[Finding]) -> Headline | None:
    """``LTV by plan type is highest for enterprise at 52,699 (95% interval 42k to 66k; monthly
    ARPU 903 x expected lifetime months 58.4) and lowest for starter at 942 (...).`` A segment's
    bracket says when its LTV rests on few churns or its ARPU is heavy-tailed; segments without
    a churn yet are said to have no LTV estimate."""
    named = [(j, r) for j, r in enumerate(step.rows) if "ltv" in r]
    if not named or not all(isinstance(r.get("segment"), str) for _, r in named):
        return None
    ref = f"steps.{step.id}"
    confidence = step.summary.get("confidence")
    level = f"{confidence * 100:g}% " if _is_number(confidence) else ""

    def describe(row: dict[str, Any]) -> str:
        terms = _ltv_terms(row, level)
        return f"{row['segment']} at {number(row['ltv'])}" + (
            f" ({'; '.join(terms)})" if terms else ""
        )

    valued = [(j, r) for j, r in named if _is_number(r["ltv"])]
    unknown = [
        (j, r)
        for j, r in named
        if r["ltv"] is None and r.get("churns") == 0 and (r.get("paying_months") or 0) > 0
    ]
    by = _dimension(findings, "")
    where = f" by {humanise(by)}" if by else ""
    sentences, cited = [], []
    if len(valued) >= 2:
        ordered = sorted(valued, key=lambda jr: (-jr[1]["ltv"], jr[0]))
        (hi_j, hi), (lo_j, lo) = ordered[0], ordered[-1]
        sentences.append(
            f"{humanise('ltv')}{where} is highest for {describe(hi)} and lowest for {describe(lo)}."
        )
        cited += [hi_j, lo_j]
    elif valued:
        j, row = valued[0]
        sentences.append(f"{humanise('ltv')}{where} is estimated for {describe(row)}.")
        cited.append(j)
    if unknown:
        said = ", ".join(
            f"{r['segment']} (no churns in {number(r['paying_months'])} paying months)"
            for _, r in unknown
        )
        sentences.append(f"{humanise('ltv')} cannot be estimated yet for {said}.")
        cited += [j for j, _ in unknown]
    if not sentences:
        return None
    evidence = [f"{ref}.rows[{j}]" for j in cited]
    if level and valued:
        evidence.append(f"{ref}.summary.confidence")
    return Headline(step.id, " ".join(sentences), evidence)


_FRAMES: tuple[Callable[[StepResult, Sequence[Finding]], Headline | None], ...] = (
    growth,
    expansion,
    lifetime_value,
)


def headlines(steps: Sequence[StepResult], findings: Sequence[Finding]) -> list[Headline]:
    """One headline per completed step whose shape a frame recognises, in step order."""
    out = []
    for step in steps:
        if step.status != "completed":
            continue
        own = [f for f in findings if f.source_step == step.id]
        for frame in _FRAMES:
            found = frame(step, own)
            if found is not None:
                out.append(found)
                break
    return out
