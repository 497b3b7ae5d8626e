"""What governance costs: the guard's overhead per tool call (secrets scan, permission check,
rate limit, audit append, metrics) against a warm cached query, audit append throughput from
50 threads, and verify() over the rows written. Prints ratios measured in this run; asserts
nothing. Run as ``python bench/bench_governance.py [USERS]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from _data import bench_database, median

ROUNDS = 200
QUERY = {
    "measures": ["conversion_rate", "users"],
    "dimensions": ["industry", "plan_type"],
    "filters": [{"field": "signup_date", "op": ">=", "value": "2024-06-01"}],
}


def main(users: int) -> None:
    db = bench_database(users)
    os.environ["CHATTER_HOME"] = tempfile.mkdtemp(prefix="chatter-bench-gov-")
    from chatter.context import Context
    from chatter.services import shared_services
    from chatter.tools.query import run_query_step

    services = shared_services()

    ctx = Context(user="bench", role="analyst", database=Path(db))
    services.admin.grant(
        Context(user="root", role="admin"),
        "user:bench",
        "tool:query",
        "execute",
        rate_limit={"calls": 1_000_000, "window_s": 3600},
    )
    warehouse = services.warehouse(ctx)
    run_query_step(warehouse, QUERY)  # warm the result cache

    def bare() -> object:
        return run_query_step(warehouse, QUERY)

    def guarded() -> object:
        return services.guard.call(ctx, tool="query", step_type="query", params=QUERY, func=bare)

    timings: dict[str, list[float]] = {"bare": [], "guarded": []}
    for _ in range(ROUNDS):
        for name, func in (("bare", bare), ("guarded", guarded)):
            started = time.perf_counter()
            func()
            timings[name].append(time.perf_counter() - started)
    bare_ms, guarded_ms = (median(timings[k]) * 1000 for k in ("bare", "guarded"))
    print(f"warm cached query, bare:    {bare_ms:.3f} ms (median of {ROUNDS})")
    print(f"same query through guard:   {guarded_ms:.3f} ms")
    print(
        f"guard overhead per call:    {guarded_ms - bare_ms:.3f} ms ({guarded_ms / bare_ms:.2f}x)"
    )

    log = services.guard.audit
    before = log.count()
    per_thread = 40

    def writer(i: int) -> None:
        for _ in range(per_thread):
            log.append(actor=f"t{i}", role="analyst", action="bench", decision="info")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(50)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    written = log.count() - before
    print(
        f"audit appends, 50 threads:  {written} rows in {elapsed:.2f} s ({written / elapsed:,.0f}/s)"
    )
    started = time.perf_counter()
    report = log.verify()
    print(
        f"verify():                   {report.rows} rows in "
        f"{(time.perf_counter() - started) * 1000:.0f} ms, ok={report.ok}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
