"""Revenue growth on calendar periods, to the snapshot: revenue per period, its period-over-period
and compound growth, and its trend.

The series is every calendar period from the first with revenue to the last on or before the
snapshot; a period without revenue rows is shown (``missing``). A last period that ends after the
snapshot (``partial``) and a first period with few paying accounts (``tiny``) are shown too, but
left out of the growth rates and trend tests, which place each period at its calendar position:
a gap does not shorten time, and a half-observed month is not a fall.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
from pydantic import Field

from chatter.errors import InvalidValueError
from chatter.result import CAVEAT
from chatter.semantic.model import TIME_GRAINS
from chatter.semantic.query import GRAIN_SEPARATOR
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.analyses.snapshot import TimeRoles, listed, observation_end
from chatter.tools.params import Dimension, FilteredParams, Measure
from chatter.tools.stats import mann_kendall_test, ols_trend_test


class GrowthParams(FilteredParams, TimeRoles):
    """Which revenue measure to follow over which period, to which snapshot."""

    revenue: Measure = "mrr"
    customers: Measure = "paying_users"
    period_dimension: Dimension = "month"  # a date: its grain (``month__quarter``), else month
    snapshot_date: dt.date | None = None
    missing_periods: Literal["zero", "flag"] = "zero"  # a period without rows: 0, or a gap
    min_first_period_share: float = Field(default=0.10, ge=0.0, le=1.0)


def _index(day: dt.date, grain: str) -> int:
    """The calendar period ``day`` falls in, counted so that consecutive periods differ by one
    (weeks start on Monday, as ``date_trunc``'s)."""
    if grain in ("day", "week"):
        return day.toordinal() if grain == "day" else (day.toordinal() - 1) // 7
    months = day.year * 12 + day.month - 1
    return {"month": months, "quarter": months // 3, "year": day.year}[grain]


def _start(index: int, grain: str) -> dt.date:
    if grain in ("day", "week"):
        return dt.date.fromordinal(index if grain == "day" else index * 7 + 1)
    months = {"month": index, "quarter": index * 3, "year": index * 12}[grain]
    return dt.date(months // 12, months % 12 + 1, 1)


def _as_date(value: Any, dimension: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InvalidValueError(f"period_dimension {dimension}", value, "a date dimension")


def _caveat(left_out: list[dict[str, Any]], missing: list[str], p: GrowthParams, unit: str) -> str:
    """What the growth rates and trend tests leave out, in words; each date and count it states
    is in the step's ``left_out_periods`` and ``missing_periods``."""
    parts, gaps = [], [e["label"] for e in left_out if e["why"] == "missing"]
    for e in left_out:
        if e["why"] == "partial":
            parts.append(f"the partial last {unit} {e['label']} (observed to {e['snapshot']})")
        elif e["why"] == "tiny":
            who = p.customers.replace("_", " ")
            parts.append(f"the first {unit} {e['label']} ({e['accounts']:,} {who})")
    parts += [f"{listed(gaps)} (no revenue rows)"] if gaps else []
    text = f"growth rates and trend tests leave out {listed(parts)}" if parts else ""
    if missing and p.missing_periods == "zero":
        shown = missing[:5] + (["other periods"] if len(missing) > 5 else [])
        text += ("; " if text else "") + f"{listed(shown)} had no revenue rows (counted as zero)"
    return CAVEAT + text if text else ""


def _periods(found: dict[int, dict[str, Any]], p: GrowthParams, grain: str) -> list[dict[str, Any]]:
    """Every calendar period from the first found to the last, a missing one with no revenue."""
    rows = []
    for i in range(min(found, default=0), max(found, default=-1) + 1):
        r = found.get(i, {})
        rows.append(
            {
                "period": _start(i, grain),
                p.revenue: float(r.get(p.revenue) or 0.0),
                p.customers: r.get(p.customers) or 0,
                "growth": None,
                "missing": not r,
                "partial": False,
                "tiny": False,
            }
        )
    return rows


def _leave_out(
    rows: list[dict[str, Any]], p: GrowthParams, grain: str, snapshot: dt.date
) -> list[dict[str, Any]]:
    """Flags the partial last period and a tiny first one; each period left out, and why."""
    ends = _start(_index(rows[-1]["period"], grain) + 1, grain) - dt.timedelta(days=1)
    rows[-1]["partial"] = ends > snapshot
    counts = [r[p.customers] for r in rows if not (r["missing"] or r["partial"])]
    median = float(np.median(counts)) if counts else 0.0
    rows[0]["tiny"] = len(rows) > 1 and rows[0][p.customers] < p.min_first_period_share * median
    left_out = []
    for r in rows:
        gap = r["missing"] and p.missing_periods == "flag"
        why = "partial" if r["partial"] else "tiny" if r["tiny"] else "missing" if gap else None
        label = r["period"].isoformat()[:7] if grain == "month" else r["period"].isoformat()
        entry = {"period": r["period"].isoformat(), "label": label, "why": why}
        if why == "partial":
            entry |= {"ends": ends.isoformat(), "snapshot": snapshot.isoformat()}
        elif why == "tiny":
            entry |= {"accounts": r[p.customers], "median_accounts": median}
        left_out += [entry] if why else []
    return left_out


def revenue_growth(warehouse: Warehouse, params: GrowthParams | None = None) -> AnalysisResult:
    """Revenue per calendar period with period-over-period growth, the compound growth rate, and
    two trend tests on revenue at calendar positions: an OLS slope with its confidence interval
    and Mann-Kendall (no shape assumed)."""
    p = params or GrowthParams()
    rec = Recorder(warehouse)
    quality = observation_end(warehouse, p, p.snapshot_date)
    head, sep, tail = p.period_dimension.rpartition(GRAIN_SEPARATOR)
    grain, base = (tail, head) if sep and tail in TIME_GRAINS else ("month", p.period_dimension)
    cut = {"field": base, "op": "<=", "value": quality.snapshot.isoformat()}
    measures, dims = [p.revenue, p.customers], [p.period_dimension]
    found: dict[int, dict[str, Any]] = {}
    for r in rec.query({"measures": measures, "dimensions": dims, "filters": [*p.filters, cut]}):
        if r[p.period_dimension] is not None:
            i = _index(_as_date(r[p.period_dimension], p.period_dimension), grain)
            if i in found:
                raise InvalidValueError(
                    f"period_dimension {p.period_dimension}",
                    p.period_dimension,
                    f"one value per {grain}",
                    reason=f"it has several per {grain}; name a grain: {base}{GRAIN_SEPARATOR}{grain}",
                )
            found[i] = r
    rows = _periods(found, p, grain)
    left_out = _leave_out(rows, p, grain, quality.snapshot) if rows else []
    dropped = {e["period"] for e in left_out}
    kept = [k for k, r in enumerate(rows) if r["period"].isoformat() not in dropped]
    for k in kept:
        if k - 1 in kept and rows[k - 1][p.revenue] > 0:
            rows[k]["growth"] = rows[k][p.revenue] / rows[k - 1][p.revenue] - 1
    xs, ys = [float(k) for k in kept], [rows[k][p.revenue] for k in kept]
    missing = [r["period"].isoformat() for r in rows if r["missing"]]
    shown = [m[:7] if grain == "month" else m for m in missing]
    caveat = _caveat(left_out, shown, p, grain)
    findings = []
    for test in (ols_trend_test(ys, xs), mann_kendall_test(ys, x=xs)):
        if caveat:
            test.warnings.append(caveat)
        findings.append(
            to_finding(
                test, metric=p.revenue, dimension=p.period_dimension, subject="trend over time"
            )
        )
    summary: dict[str, Any] = {"periods": len(rows), "periods_used": len(kept), "grain": grain}
    ends = [k for k in kept if rows[k][p.revenue] > 0]
    if len(ends) >= 2:
        (a, b), (va, vb) = (
            (ends[0], ends[-1]),
            (rows[ends[0]][p.revenue], rows[ends[-1]][p.revenue]),
        )
        summary |= {
            "first_period": rows[a]["period"].isoformat(),
            "last_period": rows[b]["period"].isoformat(),
            "first": va,
            "last": vb,
            "periods_between": b - a,
            "compound_growth": (vb / va) ** (1 / (b - a)) - 1,
        }
    growths = [r["growth"] for r in rows if r["growth"] is not None]
    if growths:
        summary |= {
            "median_growth": float(np.median(growths)),
            "periods_growing": sum(g > 0 for g in growths),
            "periods_compared": len(growths),
        }
    summary |= {"left_out_periods": left_out, "missing_periods": missing, **quality.summary()}
    zero = "counted as zero" if p.missing_periods == "zero" else "left as a gap"
    notes = [
        f"Calendar {grain}s from the first with revenue to the last on or before the snapshot; "
        f"a {grain} without revenue rows is shown (missing) and {zero}. A last {grain} ending "
        f"after the snapshot (partial) and a first {grain} with {p.customers} under "
        f"{p.min_first_period_share:.0%} of the median (tiny) are shown but left out of the "
        "growth rates and trend tests.",
        "growth: change against the previous period (both kept); compound_growth: (last / "
        "first) ^ (1 / periods_between) - 1 between the first and last kept periods, counted on "
        "the calendar. The trend tests place each kept period at its calendar position.",
        quality.note(),
    ]
    quality.qualify(findings)
    return rec.result("revenue_growth", rows, findings, notes, summary=summary)
