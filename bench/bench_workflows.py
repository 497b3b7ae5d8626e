"""Workflow performance on the 1M-user demo, as ratios measured in this run:

- cold workflow (empty result cache) vs the sum of its SQL run directly in DuckDB (goal <= 1.10x)
- warm repeat (result cache hits) vs cold (goal >= 20x faster)
- compiled-graph cache hit vs a compile (goal >= 100x faster)
- parallel steps: all at once, the default number querying at a time (CHATTER_MAX_PARALLEL_STEPS),
  and forced sequential (the same steps chained one after another)

Run as ``python bench/bench_workflows.py [USERS]``. Each template runs in a fresh CHATTER_HOME
so "cold" really is cold.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
from _data import bench_database, median

from chatter.workflow.template import Template

TEMPLATES = ("conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization")


def sql_seconds(database: Path, statements: list[str]) -> float:
    """Run each statement as is (the SQL the result reports), one after another."""
    from chatter.semantic.engine import connection_config

    con = duckdb.connect(str(database), read_only=True, config=connection_config())
    try:
        started = time.perf_counter()
        for sql in statements:
            con.execute(sql).fetchall()
        return time.perf_counter() - started
    finally:
        con.close()


def chained(template: Template) -> Template:
    """The same steps, each made to wait for the one before it: forced sequential."""
    steps = []
    for before, step in zip((None, *template.steps), template.steps, strict=False):
        after = tuple(
            dict.fromkeys((*step.optional_dependencies, *([before.id] if before else [])))
        )
        steps.append(step.model_copy(update={"optional_dependencies": after}))
    return template.model_copy(update={"steps": tuple(steps)})


def main(users: int) -> None:
    database = bench_database(users)
    os.environ["CHATTER_HOME"] = tempfile.mkdtemp(prefix="chatter-bench-home-")
    import chatter
    from chatter.services import shared_services
    from chatter.settings import get_settings
    from chatter.workflow.template import get_template

    print(f"workflows on {users:,} users")
    for name in TEMPLATES:
        os.environ["CHATTER_HOME"] = tempfile.mkdtemp(prefix="chatter-bench-home-")
        get_settings.cache_clear()
        chatter.run_workflow(name, database=database, use_cache=False)  # compile, warm DuckDB
        started = time.perf_counter()
        cold = chatter.run_workflow(name, database=database)
        cold_s = time.perf_counter() - started
        warm_runs = []
        for _ in range(5):
            started = time.perf_counter()
            chatter.run_workflow(name, database=database)
            warm_runs.append(time.perf_counter() - started)
        warm_s = median(warm_runs)
        statements = [sql for s in cold.steps if s.sql for sql in s.sql.split(";\n")]
        direct = sql_seconds(database, statements)
        timings = {}
        default_slots = get_settings().max_parallel_steps
        variants = (
            ("all steps at once", get_template(name), 64),
            (f"{default_slots} querying at a time (default)", get_template(name), default_slots),
            ("chained one after another", chained(get_template(name)), 64),
        )
        for label, template, slots in variants:
            shared_services().step_slots = threading.BoundedSemaphore(slots)
            samples = []
            for _ in range(3):
                started = time.perf_counter()
                chatter.run_workflow(template, database=database, use_cache=False)
                samples.append(time.perf_counter() - started)
            timings[label] = median(samples)
        shared_services().step_slots = threading.BoundedSemaphore(default_slots)
        print(f"  {name}")
        print(
            f"    cold {cold_s * 1000:8.1f} ms vs its {len(statements)} SQL statements run "
            f"directly {direct * 1000:8.1f} ms: {cold_s / direct:5.2f}x (goal <= 1.10x)"
        )
        print(
            f"    warm {warm_s * 1000:8.1f} ms: {cold_s / warm_s:6.1f}x faster than cold "
            "(goal >= 20x)"
        )
        print(
            "    uncached: "
            + ", ".join(f"{label} {seconds * 1000:,.0f} ms" for label, seconds in timings.items())
        )

    from chatter.semantic.model import default_model
    from chatter.workflow.compiler import build_state_graph
    from chatter.workflow.runs import compiled_graph

    services = shared_services()
    model, template = default_model(), get_template("conversion_deep_dive")
    compiles = []
    for _ in range(5):
        started = time.perf_counter()
        build_state_graph(services, template, model).compile()
        compiles.append(time.perf_counter() - started)
    compiled_graph(services, template, model)
    hits = []
    for _ in range(200):
        started = time.perf_counter()
        compiled_graph(services, template, model)
        hits.append(time.perf_counter() - started)
    compile_s, hit_s = median(compiles), median(hits)
    print(
        f"  graph compile {compile_s * 1000:.2f} ms vs cache hit {hit_s * 1e6:.1f} us: "
        f"{compile_s / hit_s:,.0f}x faster (goal >= 100x)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
