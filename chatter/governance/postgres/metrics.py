"""Operational metrics added up over every worker, in PostgreSQL: the same numbers, windows,
health score and Prometheus text as :class:`chatter.governance.metrics.Metrics`.

Recording stays in memory (an in-process ``Metrics`` is the buffer), so it never waits on
the network; a background thread moves what was recorded into the database every
``flush_interval_s``: counters as sums (each worker adds its increments), latency samples
and per-run step times as rows. A read first flushes this process's buffer, then loads the
sums and the rows it needs into a fresh ``Metrics`` and reads that, so both backends count
and read by the one same code. A write that fails is put back into the buffer (which keeps
its bounds) and tried again on the next flush.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from chatter.governance._metrics_window import RETENTION_S
from chatter.governance.metrics import MAX_RUNS_KEPT, SNAPSHOT_RUNS, Metrics, MetricsDelta
from chatter.logs import get_logger
from chatter.stores.postgres.pool import OwnedPool

log = get_logger(__name__)

PRUNE_EVERY_S = 60.0
_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS metric_counts (
    family TEXT NOT NULL, label TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (family, label))
""",
    """
CREATE TABLE IF NOT EXISTS metric_model_tokens (
    model TEXT NOT NULL, kind TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (model, kind))
""",
    """
CREATE TABLE IF NOT EXISTS metric_samples (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL,
    ts DOUBLE PRECISION NOT NULL, value DOUBLE PRECISION NOT NULL)
""",
    "CREATE INDEX IF NOT EXISTS metric_samples_by_name ON metric_samples (name, id)",
    "CREATE INDEX IF NOT EXISTS metric_samples_by_ts ON metric_samples (ts)",
    # One order for runs touched and steps first seen, across workers.
    "CREATE SEQUENCE IF NOT EXISTS metric_order",
    "CREATE TABLE IF NOT EXISTS metric_runs (run_id TEXT PRIMARY KEY, touched BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS metric_runs_by_touch ON metric_runs (touched)",
    """
CREATE TABLE IF NOT EXISTS metric_run_steps (
    run_id TEXT NOT NULL, step TEXT NOT NULL, ms DOUBLE PRECISION NOT NULL,
    pos BIGINT NOT NULL, PRIMARY KEY (run_id, step))
""",
)
_TABLES = ("metric_counts", "metric_model_tokens", "metric_samples", "metric_runs",
           "metric_run_steps")  # fmt: skip
# Rows are written in key order, so two workers flushing at once never deadlock.
_ADD_COUNT = (
    "INSERT INTO metric_counts (family, label, n) VALUES (%s, %s, %s) "
    "ON CONFLICT (family, label) DO UPDATE SET n = metric_counts.n + EXCLUDED.n"
)
_ADD_TOKENS = (
    "INSERT INTO metric_model_tokens (model, kind, n) VALUES (%s, %s, %s) "
    "ON CONFLICT (model, kind) DO UPDATE SET n = metric_model_tokens.n + EXCLUDED.n"
)
_TOUCH_RUN = (
    "INSERT INTO metric_runs (run_id, touched) VALUES (%s, %s) "
    "ON CONFLICT (run_id) DO UPDATE SET touched = EXCLUDED.touched"
)
_ADD_STEP = (
    "INSERT INTO metric_run_steps (run_id, step, ms, pos) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (run_id, step) DO UPDATE SET ms = metric_run_steps.ms + EXCLUDED.ms"
)
#: Series each read needs (see Metrics: health counts calls and errors, p95 of steps).
_HEALTH = ("calls", "health_errors", "step_ms")
_EVERYTHING = (*_HEALTH, "run_ms")


class PostgresMetrics:
    """Counters and latency samples of every worker on the database at ``url``; ``clock``
    and ``max_samples`` mean what they mean for ``Metrics``. Call ``close()`` to stop the
    flushing thread and write what is left."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        max_samples: int = 100_000,
        flush_interval_s: float = 1.0,
        max_connections: int = 4,
    ) -> None:
        if max_samples < 1:
            raise ValueError("max_samples must be at least 1")
        self._clock = clock
        self._max_samples = max_samples
        self._interval = flush_interval_s
        self._pool = OwnedPool(url, name="chatter-metrics", max_size=max_connections)
        self._pool.setup(_SCHEMA)
        self._start()
        os.register_at_fork(after_in_child=functools.partial(_restart_in_child, weakref.ref(self)))

    def _start(self) -> None:
        """A fresh buffer and flusher for this process (a forked child's numbers are its own;
        what the parent had not flushed yet, the parent flushes)."""
        self._buffer = Metrics(clock=self._clock, max_samples=self._max_samples)
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_every, args=(self._stop,), name="chatter-metrics", daemon=True
        )
        self._flusher.start()

    # -- recording (in memory, as Metrics does) --------------------------------------------

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
        """See ``Metrics.record_tool_call``."""
        self._buffer.record_tool_call(
            tool=tool, step_type=step_type, duration_ms=duration_ms, ok=ok,
            error_code=error_code, cached=cached, run_id=run_id, step_id=step_id, user=user,
        )  # fmt: skip

    def record_denied(self, *, tool: str, reason_code: str) -> None:
        self._buffer.record_denied(tool=tool, reason_code=reason_code)

    def record_run(self, *, template: str, run_id: str, duration_ms: float, status: str) -> None:
        self._buffer.record_run(
            template=template, run_id=run_id, duration_ms=duration_ms, status=status
        )

    def record_tokens(self, *, prompt: int, completion: int, model: str | None = None) -> None:
        self._buffer.record_tokens(prompt=prompt, completion=completion, model=model)

    def record_graph_cache(self, *, hit: bool) -> None:
        self._buffer.record_graph_cache(hit=hit)

    def record_feedback(self, *, positive: bool) -> None:
        self._buffer.record_feedback(positive=positive)

    # -- reading (every worker's numbers) --------------------------------------------------

    def window_stats(self, name: str, window_s: float) -> dict[str, Any]:
        """See ``Metrics.window_stats``."""
        return self._view((name,)).window_stats(name, window_s)

    def health(self, window_s: float = 3600) -> dict[str, Any]:
        """See ``Metrics.health``."""
        return self._view(_HEALTH).health(window_s)

    def snapshot(self, windows: Sequence[float] = (300, 3600, 86400)) -> dict[str, Any]:
        """See ``Metrics.snapshot``; read in one database snapshot, so counters agree."""
        return self._view(_EVERYTHING, runs=True).snapshot(windows)

    def prometheus_text(self) -> str:
        """See ``Metrics.prometheus_text``; counters are since the database's tables were
        made (or last reset), over every worker."""
        return self._view(_EVERYTHING).prometheus_text()

    def reset(self) -> None:
        """Forget everything, in every worker (clock and bounds stay)."""
        with self._flush_lock:
            self._buffer.reset()
            with self._pool.connection() as con:
                for table in _TABLES:
                    con.execute(f"DELETE FROM {table}")

    # -- moving numbers to the database ----------------------------------------------------

    def flush(self) -> None:
        """Write what this process recorded since the last flush (then it counts everywhere)."""
        with self._flush_lock:
            delta = self._buffer.drain()
            if not delta:
                return
            try:
                self._write(delta)
            except BaseException:
                self._buffer.absorb(delta)  # nothing is lost: tried again next time
                raise

    def _write(self, delta: MetricsDelta) -> None:
        counts = sorted((f, k, n) for f, labels in delta.counts.items() for k, n in labels.items())
        tokens = sorted(
            (m, k, n) for m, kinds in delta.tokens_by_model.items() for k, n in kinds.items()
        )
        with self._pool.connection() as con, con.cursor() as cur:
            if counts:
                cur.executemany(_ADD_COUNT, counts)
            if tokens:
                cur.executemany(_ADD_TOKENS, tokens)
            if delta.samples:
                with cur.copy("COPY metric_samples (name, ts, value) FROM STDIN") as copy:
                    for name, samples in delta.samples.items():
                        for ts, value in samples:
                            copy.write_row((name, ts, value))
            if delta.run_steps:
                runs, steps = self._ordered(cur, delta.run_steps)
                cur.executemany(_TOUCH_RUN, sorted(runs))
                cur.executemany(_ADD_STEP, sorted(steps))

    @staticmethod
    def _ordered(
        cur: Any, run_steps: list[tuple[str, dict[str, float]]]
    ) -> tuple[list[tuple[str, int]], list[tuple[str, str, float, int]]]:
        """Stamp runs (least recently touched first) and their steps with the shared order."""
        needed = len(run_steps) + sum(len(steps) for _, steps in run_steps)
        cur.execute("SELECT nextval('metric_order') FROM generate_series(1, %s)", (needed,))
        order = iter(sorted(int(row[0]) for row in cur.fetchall()))
        runs: list[tuple[str, int]] = []
        stamped: list[tuple[str, str, float, int]] = []
        for run_id, steps in run_steps:
            stamped += [(run_id, step, ms, next(order)) for step, ms in steps.items()]
            runs.append((run_id, next(order)))
        return runs, stamped

    def _view(self, series: Sequence[str], *, runs: bool = False) -> Metrics:
        """Every worker's numbers, as a Metrics to read: the counters, the newest
        ``max_samples`` samples of each of ``series``, and (``runs``) the runs a snapshot
        shows."""
        self.flush()
        delta = MetricsDelta()
        with self._pool.connection() as con:
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for family, label, n in con.execute("SELECT family, label, n FROM metric_counts"):
                delta.counts.setdefault(family, {})[label] = int(n)
            for model, kind, n in con.execute("SELECT model, kind, n FROM metric_model_tokens"):
                delta.tokens_by_model.setdefault(model, {})[kind] = int(n)
            for name in series:
                rows = con.execute(
                    "SELECT ts, value FROM (SELECT id, ts, value FROM metric_samples "
                    "WHERE name = %s ORDER BY id DESC LIMIT %s) newest ORDER BY id",
                    (name, self._max_samples),
                ).fetchall()
                if rows:
                    delta.samples[name] = [(float(ts), float(value)) for ts, value in rows]
            if runs:
                steps: dict[str, dict[str, float]] = {}
                for run_id, step, ms in con.execute(
                    "SELECT r.run_id, s.step, s.ms FROM (SELECT run_id, touched FROM metric_runs "
                    "ORDER BY touched DESC LIMIT %s) r JOIN metric_run_steps s "
                    "ON s.run_id = r.run_id ORDER BY r.touched, s.pos",
                    (SNAPSHOT_RUNS,),
                ):
                    steps.setdefault(run_id, {})[step] = float(ms)
                delta.run_steps = list(steps.items())
        view = Metrics(clock=self._clock, max_samples=self._max_samples)
        view.absorb(delta)
        return view

    def _prune(self) -> None:
        """Drop rows no read can see any more: samples past retention or past
        ``max_samples`` per series, runs past the newest MAX_RUNS_KEPT."""
        with self._pool.connection() as con:
            con.execute("DELETE FROM metric_samples WHERE ts < %s", (self._clock() - RETENTION_S,))
            con.execute(
                "DELETE FROM metric_samples s USING (SELECT id, row_number() OVER "
                "(PARTITION BY name ORDER BY id DESC) AS newer FROM metric_samples) old "
                "WHERE s.id = old.id AND old.newer > %s",
                (self._max_samples,),
            )
            con.execute(
                "DELETE FROM metric_runs WHERE touched < (SELECT touched FROM metric_runs "
                "ORDER BY touched DESC OFFSET %s LIMIT 1)",
                (MAX_RUNS_KEPT - 1,),
            )
            con.execute(
                "DELETE FROM metric_run_steps s WHERE NOT EXISTS "
                "(SELECT 1 FROM metric_runs r WHERE r.run_id = s.run_id)"
            )

    def _flush_every(self, stop: threading.Event) -> None:
        pruned = time.monotonic()
        while not stop.wait(self._interval):
            try:
                self.flush()
                if time.monotonic() - pruned >= PRUNE_EVERY_S:
                    pruned = time.monotonic()
                    self._prune()
            except Exception as exc:  # the next flush tries again; recording never fails
                log.warning("metrics_flush_failed", error=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Stop flushing, write what is left (best effort) and close the connections."""
        self._stop.set()
        if self._flusher.is_alive() and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=10)
        try:
            self.flush()
        except Exception as exc:
            log.warning("metrics_flush_failed", error=f"{type(exc).__name__}: {exc}")
        self._pool.close()


def _restart_in_child(ref: weakref.ref[PostgresMetrics]) -> None:
    metrics = ref()
    if metrics is not None:
        metrics._start()
