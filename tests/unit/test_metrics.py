"""In-process metrics: the statistics agree with numpy, windows and bounds hold, counters are
exact under threads, the health formula is the documented one, and the Prometheus text is
what an independent parser (prometheus_client, test-only) reads back as the snapshot."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatter.governance._metrics_window import window_label
from chatter.governance.metrics import Metrics
from chatter.services import shared_services
from chatter.settings import get_settings


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def call(m: Metrics, ms: float, *, tool: str = "query", ok: bool = True, **kw: Any) -> None:
    m.record_tool_call(tool=tool, step_type="query", duration_ms=ms, ok=ok, **kw)


# -- window statistics ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percentiles_agree_with_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.lognormal(mean=6, sigma=1.2, size=int(rng.integers(1, 800)))
    m = Metrics(clock=FakeClock())
    for v in values:
        call(m, float(v), tool="stats")
    for name in ("step_ms", "tool_ms:stats"):
        stats = m.window_stats(name, 300)
        assert stats["count"] == len(values)
        assert stats["mean"] == pytest.approx(float(np.mean(values)))
        assert stats["max"] == pytest.approx(float(np.max(values)))
        for key, q in (("p50", 50), ("p95", 95), ("p99", 99)):
            assert stats[key] == pytest.approx(float(np.percentile(values, q)))


def test_percentiles_small_case_by_hand() -> None:
    # Linear interpolation on sorted [10, 20, 30, 40]: rank = q * (n - 1).
    # p50: rank 1.5 -> 20 + 0.5*10 = 25; p95: rank 2.85 -> 30 + 0.85*10 = 38.5;
    # p99: rank 2.97 -> 30 + 0.97*10 = 39.7.
    m = Metrics(clock=FakeClock())
    for v in (40, 10, 30, 20):
        call(m, v)
    stats = m.window_stats("step_ms", 60)
    assert stats == {
        "count": 4,
        "mean": 25.0,
        "p50": 25.0,
        "p95": pytest.approx(38.5),
        "p99": pytest.approx(39.7),
        "max": 40.0,
    }


def test_empty_series_is_count_zero_and_none() -> None:
    m = Metrics(clock=FakeClock())
    empty = {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    assert m.window_stats("step_ms", 300) == empty
    assert m.window_stats("tool_ms:never-called", 300) == empty
    call(m, 0.0)  # a zero duration is a sample, not "no data"
    assert m.window_stats("step_ms", 300) == {
        "count": 1,
        "mean": 0.0,
        "p50": 0.0,
        "p95": 0.0,
        "p99": 0.0,
        "max": 0.0,
    }


def test_window_excludes_old_samples() -> None:
    clock = FakeClock()
    m = Metrics(clock=clock)
    call(m, 1000.0)
    clock.advance(400)
    call(m, 10.0)
    assert m.window_stats("step_ms", 300)["count"] == 1
    assert m.window_stats("step_ms", 300)["max"] == 10.0
    assert m.window_stats("step_ms", 3600)["count"] == 2
    assert m.window_stats("step_ms", 400)["count"] == 1  # strictly newer than now - window
    clock.advance(86_400 - 200)  # first sample is past 24 h retention, second is not
    assert m.window_stats("step_ms", 10**9)["count"] == 1
    assert m.window_stats("step_ms", 86_400)["max"] == 10.0
    clock.advance(86_400)
    assert m.window_stats("step_ms", 86_400)["count"] == 0


def test_max_samples_keeps_the_newest() -> None:
    m = Metrics(clock=FakeClock(), max_samples=5)
    for v in range(1, 9):
        call(m, float(v))
    stats = m.window_stats("step_ms", 300)
    assert stats["count"] == 5
    assert stats["mean"] == pytest.approx(np.mean([4, 5, 6, 7, 8]))
    assert stats["max"] == 8.0
    assert m.snapshot()["counters"]["tool_calls"]["total"] == 8  # counters are not bounded
    with pytest.raises(ValueError):
        Metrics(max_samples=0)


def test_non_finite_durations_are_counted_not_sampled() -> None:
    m = Metrics(clock=FakeClock())
    call(m, math.nan)
    call(m, math.inf)
    call(m, -5.0)  # a clock stepping back: counts as 0
    assert m.snapshot()["counters"]["tool_calls"]["total"] == 3
    assert m.window_stats("step_ms", 300) == pytest.approx(
        {"count": 1, "mean": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    )


def test_window_labels() -> None:
    assert [window_label(w) for w in (300, 3600, 86400, 90, 0.5)] == [
        "5m",
        "1h",
        "24h",
        "90s",
        "0.5s",
    ]


# -- counters ------------------------------------------------------------------------------


def test_counters_and_rates() -> None:
    m = Metrics(clock=FakeClock())
    call(m, 5, tool="query", cached=True)
    call(m, 5, tool="query", cached=False)
    call(m, 5, tool="query", cached=True)
    call(m, 5, tool="chart")  # cache not consulted: neither hit nor miss
    call(m, 5, tool="stats", ok=False, error_code="query_timeout")
    call(m, 5, tool="stats", ok=False)  # no code: "unknown"
    m.record_denied(tool="query", reason_code="permission_denied")
    m.record_denied(tool="query", reason_code="rate_limited")
    m.record_denied(tool="stats", reason_code="rate_limited")
    m.record_run(template="funnel", run_id="r1", duration_ms=1200, status="succeeded")
    m.record_run(template="funnel", run_id="r2", duration_ms=800, status="failed")
    m.record_tokens(prompt=100, completion=20, model="gpt-x")
    m.record_tokens(prompt=50, completion=5)
    m.record_graph_cache(hit=False)
    m.record_graph_cache(hit=True)
    m.record_graph_cache(hit=True)
    m.record_graph_cache(hit=True)

    c = m.snapshot()["counters"]
    assert c["tool_calls"] == {
        "total": 6,
        "by_tool": {"query": 3, "chart": 1, "stats": 2},
        "by_step_type": {"query": 6},
    }
    assert c["calls_denied"] == {"total": 3, "by_code": {"permission_denied": 1, "rate_limited": 2}}
    assert c["errors"] == {
        "total": 5,
        "by_category": {
            "query_timeout": 1,
            "unknown": 1,
            "permission_denied": 1,
            "rate_limited": 2,
        },
    }
    assert c["runs"] == {"total": 2, "by_status": {"succeeded": 1, "failed": 1}}
    assert c["tokens"] == {
        "prompt": 150,
        "completion": 25,
        "total": 175,
        "by_model": {"gpt-x": {"prompt": 100, "completion": 20}},
    }
    assert c["result_cache"] == {"hits": 2, "misses": 1, "hit_rate": pytest.approx(2 / 3)}
    assert c["graph_cache"] == {"hits": 3, "misses": 1, "hit_rate": 0.75}
    assert c["feedback"] == {"positive": 0, "negative": 0, "satisfaction": None}
    assert m.window_stats("run_ms", 300)["count"] == 2
    assert m.window_stats("run_ms:funnel", 300)["mean"] == 1000.0

    for positive in (True, True, True, False):
        m.record_feedback(positive=positive)
    assert m.snapshot()["counters"]["feedback"] == {
        "positive": 3,
        "negative": 1,
        "satisfaction": 0.75,
    }


def test_empty_rates_are_none_not_zero() -> None:
    c = Metrics(clock=FakeClock()).snapshot()["counters"]
    assert c["result_cache"]["hit_rate"] is None
    assert c["graph_cache"]["hit_rate"] is None
    assert c["feedback"]["satisfaction"] is None


def test_per_run_step_durations() -> None:
    m = Metrics(clock=FakeClock())
    call(m, 100, tool="query", run_id="r1", step_id="load")
    call(m, 40, tool="stats", run_id="r1", step_id="test")
    call(m, 60, tool="stats", run_id="r1", step_id="test")  # a retry adds up
    call(m, 7, tool="chart", run_id="r1")  # no step id: keyed by tool
    call(m, 9, tool="query")  # no run: not kept per run
    assert m.snapshot()["run_steps"] == {"r1": {"load": 100.0, "test": 100.0, "chart": 7.0}}

    for i in range(1_005):
        call(m, 1, run_id=f"run{i}", step_id="s")
    runs = m.snapshot()["run_steps"]
    assert list(runs) == [f"run{i}" for i in range(985, 1_005)]  # the last 20, oldest first
    assert len(m._run_steps) == 1_000  # bounded: the oldest runs were forgotten
    assert "r1" not in m._run_steps and "run0" not in m._run_steps


# -- health --------------------------------------------------------------------------------


def test_health_formula_on_a_scenario() -> None:
    clock = FakeClock()
    m = Metrics(clock=clock)
    # 20 tool calls: 19 at 1 s and one at 161 s; 2 of them failed for real.
    for i in range(19):
        code = ("internal", "query_timeout")[i] if i < 2 else None
        call(m, 1_000, ok=code is None, error_code=code)
    call(m, 161_000)
    # Denials are the system working: neither calls nor errors for health.
    m.record_denied(tool="query", reason_code="permission_denied")
    m.record_denied(tool="query", reason_code="rate_limited")
    for positive in (True, True, True, False):
        m.record_feedback(positive=positive)

    # By hand:
    # error_rate = 2 / 20 = 0.1
    # step p95 on 20 sorted samples: rank 0.95 * 19 = 18.05 -> 1000 + 0.05 * 160000 = 9000 ms
    # latency_score = 1 - (9000 - 2000) / (30000 - 2000) = 0.75
    # satisfaction = 3 / 4 = 0.75
    # score = 100 * (0.5 * 0.9 + 0.3 * 0.75 + 0.2 * 0.75) = 45 + 22.5 + 15 = 82.5
    h = m.health()
    assert h["score"] == 82.5
    assert h["status"] == "degraded"
    assert h["window_s"] == 3600
    assert h["components"] == pytest.approx(
        {
            "error_rate": 0.1,
            "latency_p95_ms": 9000.0,
            "latency_score": 0.75,
            "satisfaction": 0.75,
            "satisfaction_score": 0.75,
        }
    )
    assert m.snapshot()["health"] == h

    # Two hours on, the calls and errors have left the window; feedback has not.
    # score = 100 * (0.5 * 1 + 0.3 * 1 + 0.2 * 0.75) = 95
    clock.advance(7_200)
    h = m.health()
    assert (h["score"], h["status"]) == (95.0, "healthy")
    assert h["components"]["latency_p95_ms"] is None
    assert m.health(window_s=86_400)["score"] == 82.5


def test_health_with_no_data_is_perfect() -> None:
    h = Metrics(clock=FakeClock()).health()
    assert h == {
        "score": 100.0,
        "status": "healthy",
        "components": {
            "error_rate": 0.0,
            "latency_p95_ms": None,
            "latency_score": 1.0,
            "satisfaction": None,
            "satisfaction_score": 1.0,
        },
        "window_s": 3600,
    }


def test_denial_codes_on_tool_calls_do_not_hurt_health() -> None:
    m = Metrics(clock=FakeClock())
    call(m, 10, ok=False, error_code="rate_limited")
    call(m, 10, ok=False, error_code="permission_denied")
    call(m, 10, ok=True)
    assert m.health()["components"]["error_rate"] == 0.0
    assert m.snapshot()["counters"]["errors"]["total"] == 2


@pytest.mark.parametrize(
    ("errors", "score", "status"),
    [
        (0, 100.0, "healthy"),
        (100, 90.0, "healthy"),  # 100 * (0.5 * 0.8 + 0.3 + 0.2) = 90
        (101, 89.9, "degraded"),  # 100 * (0.5 * 0.798 + 0.5) = 89.9
        (300, 70.0, "degraded"),  # 100 * (0.5 * 0.4 + 0.5) = 70
        (301, 69.9, "unhealthy"),  # 100 * (0.5 * 0.398 + 0.5) = 69.9
        (500, 50.0, "unhealthy"),
    ],
)
def test_health_status_thresholds(errors: int, score: float, status: str) -> None:
    m = Metrics(clock=FakeClock())
    for i in range(500):
        call(m, 10, ok=i >= errors, error_code="internal" if i < errors else None)
    h = m.health()
    assert (h["score"], h["status"]) == (score, status)


@pytest.mark.parametrize(
    ("p95_ms", "latency_score"),
    [(500, 1.0), (2_000, 1.0), (16_000, 0.5), (30_000, 0.0), (90_000, 0.0)],
)
def test_latency_score_decays_linearly(p95_ms: float, latency_score: float) -> None:
    m = Metrics(clock=FakeClock())
    call(m, p95_ms)  # one sample: every percentile is that sample
    c = m.health()["components"]
    assert c["latency_p95_ms"] == p95_ms
    assert c["latency_score"] == pytest.approx(latency_score)


# -- concurrency ---------------------------------------------------------------------------


def test_concurrent_recording_is_exact() -> None:
    m = Metrics()
    threads_n, per_thread, tools = 50, 200, ("query", "stats", "chart", "insight")
    start = threading.Barrier(threads_n)

    def worker(k: int) -> None:
        start.wait()
        for i in range(per_thread):
            m.record_tool_call(
                tool=tools[(k + i) % len(tools)],
                step_type="step",
                duration_ms=float(i),
                ok=i % 10 != 0,
                error_code="internal" if i % 10 == 0 else None,
                cached=i % 2 == 0,
                run_id=f"run{k}",
                step_id=f"s{i}",
            )

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    total = threads_n * per_thread
    snap = m.snapshot()
    c = snap["counters"]
    assert c["tool_calls"]["total"] == total == 10_000
    expected_by_tool = {tool: 0 for tool in tools}
    for k in range(threads_n):
        for i in range(per_thread):
            expected_by_tool[tools[(k + i) % len(tools)]] += 1
    assert c["tool_calls"]["by_tool"] == expected_by_tool
    assert sum(c["tool_calls"]["by_tool"].values()) == total
    assert m.window_stats("step_ms", 3600)["count"] == total
    assert sum(m.window_stats(f"tool_ms:{t}", 3600)["count"] for t in tools) == total
    assert c["errors"]["by_category"] == {"internal": total // 10}
    assert c["result_cache"]["hits"] + c["result_cache"]["misses"] == total
    assert m.health()["components"]["error_rate"] == pytest.approx(0.1)
    assert all(len(steps) == per_thread for steps in snap["run_steps"].values())


def test_one_instance_per_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Metrics] = []
    threads = [
        threading.Thread(target=lambda: seen.append(shared_services().metrics)) for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(x) for x in seen}) == 1
    held = shared_services().metrics
    held.record_feedback(positive=True)
    assert shared_services().guard.metrics is held  # the guard records into the same one
    monkeypatch.setenv("CHATTER_HOME", str(tmp_path / "other-home"))
    get_settings.cache_clear()
    assert shared_services().metrics is not held
    assert shared_services().metrics.snapshot()["counters"]["feedback"]["positive"] == 0
    held.reset()
    assert held.snapshot()["counters"]["feedback"]["positive"] == 0


# -- Prometheus and JSON -------------------------------------------------------------------


def _parse(text: str) -> tuple[dict[str, str], dict[tuple[str, frozenset], float]]:
    types: dict[str, str] = {}
    samples: dict[tuple[str, frozenset], float] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return types, samples


def _busy_metrics() -> Metrics:
    clock = FakeClock()
    m = Metrics(clock=clock)
    call(m, 99_000, tool="stats")  # more than an hour old by the time we scrape
    clock.advance(4_000)
    rng = np.random.default_rng(11)
    for i, v in enumerate(rng.gamma(2.0, 400.0, size=60)):
        call(
            m,
            float(v),
            tool=("query", "stats")[i % 2],
            ok=i % 7 != 0,
            error_code="internal" if i % 7 == 0 else None,
            cached=i % 3 == 0,
        )
    m.record_denied(tool="query", reason_code="permission_denied")
    for status, ms in (("succeeded", 3_000.0), ("succeeded", 5_000.0), ("failed", 800.0)):
        m.record_run(template="funnel", run_id=status, duration_ms=ms, status=status)
    m.record_tokens(prompt=1_234, completion=321)
    m.record_graph_cache(hit=True)
    m.record_feedback(positive=True)
    m.record_feedback(positive=False)
    return m


def test_prometheus_text_parses_and_matches_snapshot() -> None:
    m = _busy_metrics()
    text = m.prometheus_text()
    assert text.endswith("\n")
    types, samples = _parse(text)
    snap = m.snapshot()
    c = snap["counters"]

    assert types["chatter_tool_calls"] == "counter"
    assert types["chatter_step_duration_seconds"] == "summary"
    assert types["chatter_run_duration_seconds"] == "summary"
    assert types["chatter_health_score"] == "gauge"

    def labelled(metric: str, label: str) -> dict[str, float]:
        return {
            dict(labels)[label]: v
            for (name, labels), v in samples.items()
            if name == metric and label in dict(labels)
        }

    assert labelled("chatter_tool_calls_total", "tool") == c["tool_calls"]["by_tool"]
    assert labelled("chatter_calls_denied_total", "code") == c["calls_denied"]["by_code"]
    assert labelled("chatter_errors_total", "category") == c["errors"]["by_category"]
    assert labelled("chatter_runs_total", "status") == c["runs"]["by_status"]
    assert labelled("chatter_tokens_total", "kind") == {
        "prompt": c["tokens"]["prompt"],
        "completion": c["tokens"]["completion"],
    }
    for family, block in (("result_cache", c["result_cache"]), ("graph_cache", c["graph_cache"])):
        assert labelled(f"chatter_{family}_total", "outcome") == {
            "hit": block["hits"],
            "miss": block["misses"],
        }
    assert labelled("chatter_feedback_total", "sentiment") == {
        "positive": c["feedback"]["positive"],
        "negative": c["feedback"]["negative"],
    }

    for series, metric in (
        ("step_ms", "chatter_step_duration_seconds"),
        ("run_ms", "chatter_run_duration_seconds"),
    ):
        hour = snap["latency"][series]["1h"]
        quantiles = labelled(metric, "quantile")
        assert quantiles == pytest.approx(
            {"0.5": hour["p50"] / 1000, "0.95": hour["p95"] / 1000, "0.99": hour["p99"] / 1000}
        )
        assert samples[(f"{metric}_count", frozenset())] == hour["count"]
        assert samples[(f"{metric}_sum", frozenset())] == pytest.approx(
            hour["mean"] * hour["count"] / 1000
        )
    assert snap["latency"]["step_ms"]["1h"]["count"] == 60  # the old sample is out of the hour
    assert samples[("chatter_health_score", frozenset())] == snap["health"]["score"]


def test_prometheus_text_when_empty() -> None:
    types, samples = _parse(Metrics(clock=FakeClock()).prometheus_text())
    assert "chatter_tool_calls" in types
    assert samples[("chatter_tokens_total", frozenset({("kind", "prompt")}))] == 0
    assert samples[("chatter_result_cache_total", frozenset({("outcome", "miss")}))] == 0
    q = samples[("chatter_step_duration_seconds", frozenset({("quantile", "0.95")}))]
    assert math.isnan(q)
    assert samples[("chatter_step_duration_seconds_count", frozenset())] == 0
    assert samples[("chatter_health_score", frozenset())] == 100.0


def test_prometheus_label_escaping() -> None:
    nasty = 'we"ird\\to\nol'
    m = Metrics(clock=FakeClock())
    call(m, 5, tool=nasty)
    call(m, 5, tool=nasty)
    m.record_denied(tool=nasty, reason_code='co"de')
    text = m.prometheus_text()
    assert 'chatter_tool_calls_total{tool="we\\"ird\\\\to\\nol"} 2' in text.splitlines()
    _, samples = _parse(text)
    assert samples[("chatter_tool_calls_total", frozenset({("tool", nasty)}))] == 2
    assert samples[("chatter_calls_denied_total", frozenset({("code", 'co"de')}))] == 1


def test_snapshot_is_json_serializable() -> None:
    m = _busy_metrics()
    for i in range(25):
        call(m, 3, run_id=f"r{i}", step_id="s")
    snap = m.snapshot()
    decoded = json.loads(json.dumps(snap, allow_nan=False))
    assert decoded == snap
    assert set(snap["latency"]["step_ms"]) == {"5m", "1h", "24h"}
    assert set(snap["latency"]["run_ms"]) == {"5m", "1h", "24h"}
    assert snap["latency"]["step_ms"]["24h"]["count"] == 61 + 25
    assert len(snap["run_steps"]) == 20
    assert set(snap["health"]) == {"score", "status", "components", "window_s"}
    json.dumps(Metrics().snapshot(windows=(60,)), allow_nan=False)
