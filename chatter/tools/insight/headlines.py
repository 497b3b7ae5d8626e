"""Descriptive headlines from what an analysis step summarises: growth from first to last
period, expansion candidates and the revenue at stake, lifetime value by segment. A step's
shape (its summary keys and row columns) picks the frame; every name comes from its data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatter.result import Finding, StepResult
from chatter.tools.insight.wording import capitalise, humanise, number, percent, plural


@dataclass
class Headline:
    """A sentence about one step with the evidence ids of every number it states."""

    step: str
    text: str
    evidence: list[str] = field(default_factory=list)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dimension(findings: Sequence[Finding], default: str) -> str:
    return next((f.dimension for f in findings if f.dimension), default)


def growth(step: StepResult, findings: Sequence[Finding]) -> Headline | None:
    """``MRR grew from 16,126 in 2024-01-01 to 750,522 in 2025-12-01: 18.2% compound growth
    per month, up in 23 of 23 months (median growth 10.6%).``"""
    s, rows = step.summary, step.rows
    if not (rows and all(_is_number(s.get(k)) for k in ("first", "last", "compound_growth"))):
        return None
    measure = next(
        (k for k, v in rows[0].items() if _is_number(v) and v == s["first"] and k != "growth"),
        None,
    )
    if measure is None:
        return None
    period = next((k for k, v in rows[0].items() if isinstance(v, str)), None)
    unit = humanise(_dimension(findings, period or "period"))
    ref = f"steps.{step.id}"
    evidence = [f"{ref}.summary.first", f"{ref}.summary.last", f"{ref}.summary.compound_growth"]
    start = end = ""
    if period:
        start, evidence = f" in {rows[0][period]}", [*evidence, f"{ref}.rows[0]"]
        if rows[-1].get(measure) == s["last"]:
            end = f" in {rows[-1][period]}"
            evidence.append(f"{ref}.rows[{len(rows) - 1}]")
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
    return Headline(step.id, text + ".", evidence)


def expansion(step: StepResult, findings: Sequence[Finding]) -> Headline | None:
    """``608 accounts use the product like the next plan type up: MRR at stake 195,099 in
    total; most from business to enterprise (230 of 740 accounts, MRR at stake 149,810).``"""
    s = step.summary
    plans = s.get("plans")
    if not (_is_number(s.get("candidates")) and isinstance(plans, list) and plans):
        return None
    amount = next((k for k in s if k not in ("candidates", "plans") and _is_number(s[k])), None)
    unit = humanise(_dimension(findings, "plan"))
    ref = f"steps.{step.id}.summary"
    text = f"{number(s['candidates'])} accounts use the product like the next {unit} up"
    evidence = [f"{ref}.candidates"]
    if amount:
        text += f": {humanise(amount)} {number(s[amount])} in total"
        evidence.append(f"{ref}.{amount}")
    key = amount if amount and all(_is_number(p.get(amount)) for p in plans) else "candidates"
    top = max(range(len(plans)), key=lambda i: (plans[i].get(key) or 0, -i))
    p = plans[top]
    names = [v for v in p.values() if isinstance(v, str)]
    if len(names) >= 2 and _is_number(p.get("candidates")):
        of = f" of {number(p['accounts'])}" if _is_number(p.get("accounts")) else ""
        money = f", {humanise(amount)} {number(p[amount])}" if key == amount else ""
        text += (
            f"; most from {names[0]} to {names[1]} ({number(p['candidates'])}{of} accounts{money})"
        )
        evidence.append(f"{ref}.plans")
    return Headline(step.id, text + ".", evidence)


def lifetime_value(step: StepResult, findings: Sequence[Finding]) -> Headline | None:
    """``LTV by plan type is highest for enterprise at 52,699 (monthly ARPU 903 x expected
    lifetime months 58.4) and lowest for starter at 1,041 (...).``"""
    rows = [(j, r) for j, r in enumerate(step.rows) if _is_number(r.get("ltv"))]
    if len(rows) < 2 or not all(isinstance(r.get("segment"), str) for _, r in rows):
        return None
    ordered = sorted(rows, key=lambda jr: (-jr[1]["ltv"], jr[0]))
    parts = [k for k in ("monthly_arpu", "expected_lifetime_months") if k in rows[0][1]]

    def describe(row: dict[str, Any]) -> str:
        terms = [f"{humanise(k)} {number(row[k])}" for k in parts if _is_number(row.get(k))]
        return f"{row['segment']} at {number(row['ltv'])}" + (
            f" ({' x '.join(terms)})" if terms else ""
        )

    (hi_j, hi), (lo_j, lo) = ordered[0], ordered[-1]
    by = _dimension(findings, "")
    where = f" by {humanise(by)}" if by else ""
    text = f"{humanise('ltv')}{where} is highest for {describe(hi)} and lowest for {describe(lo)}."
    return Headline(
        step.id, text, [f"steps.{step.id}.rows[{hi_j}]", f"steps.{step.id}.rows[{lo_j}]"]
    )


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
