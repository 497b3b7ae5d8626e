"""One segment's lifetime value row: the monthly churn hazard with its exact interval, ARPU (mean
and median), and LTV = ARPU / hazard with the interval the hazard's bounds give; and the notes
a reader of the rows needs (heavy-tailed ARPU, few churns, no churn yet)."""

from __future__ import annotations

from typing import Any

from chatter.tools.stats.rates import CONFIDENCE, poisson_interval

__all__ = ["CONFIDENCE", "FEW_CHURNS", "HEAVY_TAIL", "caveat_notes", "segment_row"]

#: Fewer churns than this and an LTV's interval is wide: the insight says what it rests on.
FEW_CHURNS = 10
#: Mean monthly revenue over this multiple of the median: ARPU is heavy-tailed.
HEAVY_TAIL = 1.5


def _heavy_tailed(mean: float | None, median: float | None) -> bool:
    if mean is None or median is None:
        return False
    return mean > HEAVY_TAIL * median if median > 0 else mean > 0


def segment_row(level: Any, churn: dict[str, Any], money: dict[str, Any]) -> dict[str, Any]:
    """The row of one segment from its at-risk accounts and churns (``churn``) and its revenue
    rows to the snapshot (``money``). LTV and its interval are None without a churn: a hazard
    of 0 gives no lifetime, so LTV cannot be estimated yet."""
    churns = int(churn.get("churns") or 0)
    months = int(money.get("paying_months") or 0)
    arpu = _float(money.get("mean_revenue"))
    median = _float(money.get("median_revenue"))
    hazard = low = high = None
    if months:
        hazard = churns / months
        low, high = poisson_interval(churns, months)
    estimable = bool(churns and months and arpu is not None)
    billed = int(money.get("billed_accounts") or 0)
    return {
        "segment": level,
        "paying_accounts": int(churn.get("accounts") or 0),
        "churns": churns,
        "paying_months": months,
        "monthly_churn": hazard,
        "monthly_churn_low": low,
        "monthly_churn_high": high,
        "monthly_arpu": arpu,
        "median_monthly_revenue": median,
        "arpu_heavy_tailed": _heavy_tailed(arpu, median),
        "few_churns": 0 < churns < FEW_CHURNS,
        "expected_lifetime_months": 1 / hazard if hazard else None,
        "ltv": arpu / hazard if estimable and arpu is not None and hazard else None,
        "ltv_low": arpu / high if estimable and arpu is not None and high else None,
        "ltv_high": arpu / low if estimable and arpu is not None and low else None,
        "observed_revenue_per_account": (_float(money.get("revenue")) or 0.0) / billed
        if billed
        else None,
    }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def caveat_notes(rows: list[dict[str, Any]], undated: int) -> list[str]:
    """What a reader of the rows must know: heavy-tailed ARPU, LTVs resting on few churns, LTVs
    that cannot be estimated yet, churns that could not be placed in time."""
    out = []
    heavy = [str(r["segment"]) for r in rows if r["arpu_heavy_tailed"]]
    if heavy:
        out.append(
            f"Monthly revenue is heavy-tailed in {', '.join(heavy)} (mean over {HEAVY_TAIL:g} x the "
            "median): a few large accounts carry the mean ARPU, so read median_monthly_revenue "
            "beside it."
        )
    few = [str(r["segment"]) for r in rows if r["few_churns"]]
    if few:
        out.append(
            f"The LTV of {', '.join(few)} rests on fewer than {FEW_CHURNS} churns: its interval "
            "is wide."
        )
    none = [str(r["segment"]) for r in rows if r["paying_months"] and not r["churns"]]
    if none:
        out.append(
            f"No churns yet in {', '.join(none)}: LTV cannot be estimated yet (monthly_churn_high "
            "bounds the hazard)."
        )
    if undated:
        out.append(f"{undated:,} churned accounts have no churn date and are left out.")
    return out
