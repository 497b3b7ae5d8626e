"""Time-windowed sample series, the health formula and Prometheus text rendering for
:mod:`chatter.governance.metrics`.

Kept apart so metrics.py holds only what is counted and when. Nothing here locks: the owning
:class:`~chatter.governance.metrics.Metrics` holds its one lock around every series call, and
rendering works on plain copies taken under that lock.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

#: Samples older than this are dropped: the longest window any reader asks for is 24 h.
RETENTION_S = 86_400.0

#: The keys of every window summary, in the order they are shown.
STAT_KEYS = ("count", "mean", "p50", "p95", "p99", "max")


class SampleSeries:
    """Timestamped values, oldest first, bounded both in age (``RETENTION_S``) and in number
    (``max_samples``), so memory stays flat however long the process lives.

    Old samples are dropped lazily, on the next add or read, so recording stays O(1) amortised.
    """

    __slots__ = ("_samples",)

    def __init__(self, max_samples: int) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)

    def add(self, ts: float, value: float) -> None:
        self._samples.append((ts, value))
        self.prune(ts)

    def prune(self, now: float) -> None:
        """Drop samples past retention. Assumes timestamps arrive roughly in order; one that
        arrives out of order is still filtered correctly on read, just dropped a little later."""
        cutoff = now - RETENTION_S
        samples = self._samples
        while samples and samples[0][0] < cutoff:
            samples.popleft()

    def items(self) -> list[tuple[float, float]]:
        """Every (timestamp, value) held, oldest first."""
        return list(self._samples)

    def values_since(self, cutoff: float) -> list[float]:
        """The values strictly newer than ``cutoff`` (a full scan, so a clock that steps back
        cannot hide samples)."""
        return [v for ts, v in self._samples if ts > cutoff]


def summarize(values: Iterable[float]) -> dict[str, float | int | None]:
    """count, mean, p50/p95/p99 (numpy's default linear interpolation, so the numbers match
    what an analyst gets from numpy on an export) and max. With no values every statistic but
    ``count`` is None rather than 0 or NaN: "no data" must not read as "instant"."""
    arr = np.fromiter(values, dtype=float)
    if arr.size == 0:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    p50, p95, p99 = np.percentile(arr, [50.0, 95.0, 99.0])
    return {
        "count": int(arr.size),
        "mean": float(arr.mean()),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(arr.max()),
    }


LATENCY_GOOD_MS = 2_000.0  # step p95 at or under this scores 1
LATENCY_BAD_MS = 30_000.0  # step p95 at or over this scores 0


def health_report(
    errors: int, calls: int, p95_ms: float | None, satisfaction: float | None, window_s: float
) -> dict[str, Any]:
    """The health score from its inputs; the formula and its reasons are in
    :meth:`chatter.governance.metrics.Metrics.health` and docs/metrics.md."""
    error_rate = min(errors / max(calls, 1), 1.0)
    if p95_ms is None or p95_ms <= LATENCY_GOOD_MS:
        latency_score = 1.0
    else:
        span = LATENCY_BAD_MS - LATENCY_GOOD_MS
        latency_score = max(0.0, 1.0 - (p95_ms - LATENCY_GOOD_MS) / span)
    satisfaction_score = 1.0 if satisfaction is None else satisfaction
    score = round(
        100 * (0.5 * (1 - error_rate) + 0.3 * latency_score + 0.2 * satisfaction_score), 1
    )
    status = "healthy" if score >= 90 else "degraded" if score >= 70 else "unhealthy"
    return {
        "score": score,
        "status": status,
        "components": {
            "error_rate": error_rate,
            "latency_p95_ms": p95_ms,
            "latency_score": latency_score,
            "satisfaction": satisfaction,
            "satisfaction_score": satisfaction_score,
        },
        "window_s": window_s,
    }


def rate(hits: int, misses: int) -> float | None:
    """hits / (hits + misses), None before the first lookup (a rate of 0 would be a claim)."""
    total = hits + misses
    return hits / total if total else None


def hit_block(counter: Counter[str]) -> dict[str, Any]:
    hits, misses = counter["hit"], counter["miss"]
    return {"hits": hits, "misses": misses, "hit_rate": rate(hits, misses)}


def split_counter(counter: Counter[str], by: str) -> dict[str, Any]:
    return {"total": counter.total(), by: dict(counter)}


def window_label(window_s: float) -> str:
    """A short name for a window: 300 -> "5m", 3600 -> "1h", 86400 -> "24h", 90 -> "90s"."""
    if window_s > 0 and window_s % 3600 == 0:
        return f"{int(window_s // 3600)}h"
    if window_s > 0 and window_s % 60 == 0:
        return f"{int(window_s // 60)}m"
    return f"{window_s:g}s"


def clean_ms(value: float) -> float | None:
    """A duration fit to sample: non-finite values are refused (None) so one bad timer cannot
    poison a mean; a negative one (a clock stepping back) counts as 0."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return max(value, 0.0)


#: Counter families in exposition order: (name inside chatter_<name>_total, HELP, label).
COUNTER_FAMILIES = (
    ("tool_calls", "Tool calls finished, by tool.", "tool"),
    ("calls_denied", "Calls refused by governance, by reason.", "code"),
    ("errors", "Errors (denials included), by category.", "category"),
    ("runs", "Analysis runs finished, by status.", "status"),
    ("tokens", "LLM tokens spent.", "kind"),
    ("result_cache", "Result cache lookups.", "outcome"),
    ("graph_cache", "Compiled workflow graph cache lookups.", "outcome"),
    ("feedback", "User feedback on answers.", "sentiment"),
)

#: Families whose label values are a fixed set: each is always written, zeros included, so a
#: dashboard's series exist from the first scrape.
FIXED_LABELS = {
    "tokens": ("prompt", "completion"),
    "result_cache": ("hit", "miss"),
    "graph_cache": ("hit", "miss"),
    "feedback": ("positive", "negative"),
}

#: Summary families: (sample series, metric name, HELP).
SUMMARY_FAMILIES = (
    ("step_ms", "chatter_step_duration_seconds", "Tool step duration over the last hour."),
    ("run_ms", "chatter_run_duration_seconds", "Analysis run duration over the last hour."),
)


def escape_label(value: str) -> str:
    """Label value escaping per exposition format 0.0.4: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prom_number(value: float) -> str:
    """A sample value as Prometheus spells it (NaN, +Inf, -Inf for the special ones)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def render_prometheus(
    counters: Mapping[str, Mapping[str, int]],
    summaries: Mapping[str, tuple[Sequence[float | None], float, int]],
    health_score: float,
) -> str:
    """Exposition text from plain data: ``counters`` maps a family of ``COUNTER_FAMILIES`` to
    {label value: count}; ``summaries`` maps a series of ``SUMMARY_FAMILIES`` to
    ([p50, p95, p99] in ms, None when empty; sum of the window's samples in ms; their count).
    Quantiles of an empty window are NaN, as Prometheus client libraries write them."""
    out: list[str] = []
    for name, help_text, label in COUNTER_FAMILIES:
        metric = f"chatter_{name}_total"
        out += [f"# HELP {metric} {help_text}", f"# TYPE {metric} counter"]
        values = dict.fromkeys(FIXED_LABELS.get(name, ()), 0) | dict(counters.get(name, {}))
        for value, n in sorted(values.items()):
            out.append(f'{metric}{{{label}="{escape_label(value)}"}} {n}')
    for series, metric, help_text in SUMMARY_FAMILIES:
        quantiles, sum_ms, count = summaries[series]
        out += [f"# HELP {metric} {help_text}", f"# TYPE {metric} summary"]
        for q, v in zip(("0.5", "0.95", "0.99"), quantiles, strict=True):
            seconds = math.nan if v is None else v / 1000
            out.append(f'{metric}{{quantile="{q}"}} {prom_number(seconds)}')
        out += [f"{metric}_sum {prom_number(sum_ms / 1000)}", f"{metric}_count {count}"]
    out += [
        "# HELP chatter_health_score Health score 0..100 over the last hour (docs/metrics.md).",
        "# TYPE chatter_health_score gauge",
        f"chatter_health_score {prom_number(health_score)}",
    ]
    return "\n".join(out) + "\n"
