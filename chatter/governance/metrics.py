"""In-process operational metrics: what the analyst did, how fast, how often it failed.

Everything lives in this process's memory behind one lock, so recording never waits on a
network and a broken metrics backend can never break an analysis. The price is that numbers
are per process and gone on restart; the audit log is the durable record (with shared state in
PostgreSQL, governance/postgres/metrics.py adds every worker's numbers up). See docs/metrics.md
for what each number means and how the health score is computed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatter.governance._metrics_window import (
    COUNTER_FAMILIES,
    RETENTION_S,
    SampleSeries,
    clean_ms,
    health_report,
    hit_block,
    rate,
    render_prometheus,
    split_counter,
    summarize,
    window_label,
)

#: Error codes that mean governance refused the call on purpose. They are counted, but they do
#: not lower the health score: a refused call is the system working.
DENIAL_CODES = frozenset(
    {"permission_denied", "not_authenticated", "rate_limited", "sensitive_content"}
)

MAX_RUNS_KEPT = 1_000  # per-run step durations remembered
SNAPSHOT_RUNS = 20  # of those, how many a snapshot shows
PROMETHEUS_WINDOW_S = 3_600.0


@dataclass
class MetricsDelta:
    """Numbers as plain data: what ``Metrics.drain`` hands over and ``Metrics.absorb`` adds."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # family -> label -> n
    tokens_by_model: dict[str, dict[str, int]] = field(default_factory=dict)  # model -> kind
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # oldest first
    run_steps: list[tuple[str, dict[str, float]]] = field(default_factory=list)  # oldest first

    def __bool__(self) -> bool:
        return bool(self.counts or self.tokens_by_model or self.samples or self.run_steps)


class Metrics:
    """Counters and timestamped latency samples, safe to record from any thread.

    ``clock`` is injectable so tests can move time; ``max_samples`` bounds every sample series
    (the oldest go first) so a busy process cannot grow without limit inside the 24 h retention.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, max_samples: int = 100_000):
        if max_samples < 1:
            raise ValueError("max_samples must be at least 1")
        self._clock = clock
        self._max_samples = max_samples
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything (clock and bounds stay)."""
        with self._lock:
            self._clear_locked()

    def _clear_locked(self) -> None:
        # One Counter per family of COUNTER_FAMILIES (plus "step_types"), keyed by label.
        self._counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._tokens_by_model: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._series: dict[str, SampleSeries] = {}
        self._run_steps: OrderedDict[str, dict[str, float]] = OrderedDict()

    # -- moving numbers between processes (a shared backend, governance/postgres) ----------

    def drain(self) -> MetricsDelta:
        """Everything recorded since the last drain, forgotten here in the same instant."""
        with self._lock:
            delta = MetricsDelta(
                counts={f: dict(c) for f, c in self._counts.items() if c},
                tokens_by_model={m: dict(c) for m, c in self._tokens_by_model.items() if c},
                samples={n: s.items() for n, s in self._series.items() if s.items()},
                run_steps=[(run_id, dict(steps)) for run_id, steps in self._run_steps.items()],
            )
            self._clear_locked()
        return delta

    def absorb(self, delta: MetricsDelta) -> None:
        """Add ``delta`` in, as if it had been recorded here (samples and runs in its order,
        under the same bounds)."""
        with self._lock:
            for family, labels in delta.counts.items():
                self._counts[family].update(labels)
            for model, kinds in delta.tokens_by_model.items():
                self._tokens_by_model[model].update(kinds)
            for name, samples in delta.samples.items():
                for ts, value in samples:
                    self._sample(name, ts, value)
            for run_id, steps in delta.run_steps:
                kept = self._run_steps.setdefault(run_id, {})
                for step, ms in steps.items():
                    kept[step] = kept.get(step, 0.0) + ms
                self._run_steps.move_to_end(run_id)
                while len(self._run_steps) > MAX_RUNS_KEPT:
                    self._run_steps.popitem(last=False)

    # -- recording -------------------------------------------------------------------------

    def _sample(self, name: str, ts: float, value: float) -> None:
        series = self._series.get(name)
        if series is None:
            series = self._series[name] = SampleSeries(self._max_samples)
        series.add(ts, value)

    def record_tool_call(
        self,
        *,
        tool: str,
        step_type: str | None,
        duration_ms: float,
        ok: bool,
        error_code: str | None = None,
        cached: bool | None = None,
        run_id: str | None = None,
        step_id: str | None = None,
        user: str | None = None,
    ) -> None:
        """One finished tool call. A failed call (``ok=False``) is an error under
        ``error_code`` ("unknown" without one). ``cached`` is None when the result cache was
        not consulted, so it neither hits nor misses. ``user`` is accepted for call-site
        symmetry with the audit log but not kept: per-user numbers belong there, not here."""
        ms = clean_ms(duration_ms)
        with self._lock:
            now = self._clock()
            self._counts["tool_calls"][tool] += 1
            if step_type is not None:
                self._counts["step_types"][step_type] += 1
            self._sample("calls", now, 1.0)
            if ms is not None:
                self._sample("step_ms", now, ms)
                self._sample(f"tool_ms:{tool}", now, ms)
            if not ok:
                category = error_code or "unknown"
                self._counts["errors"][category] += 1
                if category not in DENIAL_CODES:
                    self._sample("health_errors", now, 1.0)
            if cached is not None:
                self._counts["result_cache"]["hit" if cached else "miss"] += 1
            if run_id is not None and ms is not None:
                steps = self._run_steps.setdefault(run_id, {})
                key = step_id or tool
                # A retried step adds up its attempts: the run spent that time on it.
                steps[key] = steps.get(key, 0.0) + ms
                self._run_steps.move_to_end(run_id)
                while len(self._run_steps) > MAX_RUNS_KEPT:
                    self._run_steps.popitem(last=False)

    def record_denied(self, *, tool: str, reason_code: str) -> None:
        """A call governance refused before it ran: counted as denied and as an error of that
        category, but not as a tool call and not against health. ``tool`` is not kept: who
        was refused what is the audit log's to record; here only the why is counted."""
        with self._lock:
            self._counts["calls_denied"][reason_code] += 1
            self._counts["errors"][reason_code] += 1

    def record_run(self, *, template: str, run_id: str, duration_ms: float, status: str) -> None:
        """A finished analysis run, whatever its ``status`` ("succeeded", "failed", ...).
        ``run_id`` is for call-site symmetry; steps are keyed by run in record_tool_call."""
        ms = clean_ms(duration_ms)
        with self._lock:
            now = self._clock()
            self._counts["runs"][status] += 1
            if ms is not None:
                self._sample("run_ms", now, ms)
                self._sample(f"run_ms:{template}", now, ms)

    def record_tokens(self, *, prompt: int, completion: int, model: str | None = None) -> None:
        """LLM tokens spent, the number that drives cost."""
        with self._lock:
            targets = [self._counts["tokens"]]
            if model is not None:
                targets.append(self._tokens_by_model[model])
            for counter in targets:
                counter["prompt"] += int(prompt)
                counter["completion"] += int(completion)

    def record_graph_cache(self, *, hit: bool) -> None:
        """Whether a compiled workflow graph was reused rather than rebuilt."""
        with self._lock:
            self._counts["graph_cache"]["hit" if hit else "miss"] += 1

    def record_feedback(self, *, positive: bool) -> None:
        """A user's thumbs up or down on an answer."""
        with self._lock:
            self._counts["feedback"]["positive" if positive else "negative"] += 1

    # -- reading (the *_locked helpers expect the lock held) ------------------------------

    def _values_locked(self, name: str, window_s: float, now: float) -> list[float]:
        series = self._series.get(name)
        if series is None:
            return []
        series.prune(now)
        return series.values_since(now - window_s)

    def _stats_locked(self, name: str, window_s: float, now: float) -> dict[str, Any]:
        return summarize(self._values_locked(name, window_s, now))

    def window_stats(self, name: str, window_s: float) -> dict[str, Any]:
        """count/mean/p50/p95/p99/max of series ``name`` ("step_ms", "run_ms",
        "tool_ms:<tool>", "run_ms:<template>") over the last ``window_s`` seconds. Windows
        longer than 24 h see only 24 h: older samples are gone."""
        with self._lock:
            return self._stats_locked(name, window_s, self._clock())

    def _satisfaction_locked(self) -> float | None:
        feedback = self._counts["feedback"]
        return rate(feedback["positive"], feedback["negative"])

    def _health_locked(self, window_s: float, now: float) -> dict[str, Any]:
        calls = len(self._values_locked("calls", window_s, now))
        errors = len(self._values_locked("health_errors", window_s, now))
        p95 = self._stats_locked("step_ms", window_s, now)["p95"]
        return health_report(errors, calls, p95, self._satisfaction_locked(), window_s)

    def health(self, window_s: float = 3600) -> dict[str, Any]:
        """A 0..100 score over the last ``window_s`` seconds::

            score = round(100 * (0.5 * (1 - error_rate) + 0.3 * latency_score
                                 + 0.2 * satisfaction_score), 1)

        error_rate = failed tool calls (denials excluded) / max(tool calls, 1); latency_score
        is 1 at step p95 <= 2 s, falling linearly to 0 at 30 s (1 with no samples);
        satisfaction_score is the positive share of all feedback, 1 with none. Errors weigh
        most because a wrong or missing answer is worse than a slow one. Status: "healthy"
        at >= 90, "degraded" at >= 70, else "unhealthy"."""
        with self._lock:
            return self._health_locked(window_s, self._clock())

    def snapshot(self, windows: Sequence[float] = (300, 3600, 86400)) -> dict[str, Any]:
        """Everything at one instant, as plain JSON-safe values (taken under one lock, so the
        counters agree with each other). Windows are keyed "5m", "1h", "24h"."""
        with self._lock:
            now = self._clock()
            c = self._counts
            tokens = c["tokens"]
            counters = {
                "tool_calls": {**split_counter(c["tool_calls"], "by_tool"),
                               "by_step_type": dict(c["step_types"])},
                "calls_denied": split_counter(c["calls_denied"], "by_code"),
                "errors": split_counter(c["errors"], "by_category"),
                "runs": split_counter(c["runs"], "by_status"),
                "tokens": {"prompt": tokens["prompt"], "completion": tokens["completion"],
                           "total": tokens["prompt"] + tokens["completion"],
                           "by_model": {m: dict(n) for m, n in self._tokens_by_model.items()}},
                "result_cache": hit_block(c["result_cache"]),
                "graph_cache": hit_block(c["graph_cache"]),
                "feedback": {"positive": c["feedback"]["positive"],
                             "negative": c["feedback"]["negative"],
                             "satisfaction": self._satisfaction_locked()},
            }  # fmt: skip
            latency = {
                name: {window_label(w): self._stats_locked(name, w, now) for w in windows}
                for name in ("step_ms", "run_ms")
            }
            recent = list(self._run_steps.items())[-SNAPSHOT_RUNS:]
            return {
                "generated_at": now,
                "retention_s": RETENTION_S,
                "counters": counters,
                "latency": latency,
                "run_steps": {run_id: dict(steps) for run_id, steps in recent},
                "health": self._health_locked(3600, now),
            }

    def prometheus_text(self) -> str:
        """The metrics in Prometheus text exposition format 0.0.4, for a /metrics endpoint.
        Summaries cover the last hour (their _sum and _count too), so they show current
        behaviour rather than the process's whole life; counters are since process start."""
        with self._lock:
            now = self._clock()
            counters = {name: dict(self._counts[name]) for name, _, _ in COUNTER_FAMILIES}
            summaries = {}
            for name in ("step_ms", "run_ms"):
                values = self._values_locked(name, PROMETHEUS_WINDOW_S, now)
                st = summarize(values)
                summaries[name] = ([st["p50"], st["p95"], st["p99"]], sum(values), len(values))
            score = self._health_locked(PROMETHEUS_WINDOW_S, now)["score"]
        return render_prometheus(counters, summaries, score)
