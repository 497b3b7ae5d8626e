"""Peak memory of each template on a large demo (default 10M users; goal: under 2 GB).

Each template runs in a fresh process (so its peak is its own) with the result cache off. Run as
``python bench/bench_memory.py [USERS]``; the database is generated once and kept in
$CHATTER_BENCH_DIR (10M users take about a minute and a couple of GB of disk).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from _data import bench_database

TEMPLATES = ("conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization")
GOAL_MB = 2048

CHILD = """
import resource, sys, time
from pathlib import Path
import chatter
started = time.perf_counter()
result = chatter.run_workflow(sys.argv[1], database=Path(sys.argv[2]), use_cache=False)
seconds = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{result.status} {seconds:.1f} {peak_mb:.0f} {len(result.insights)}")
"""


def main(users: int) -> None:
    started = time.perf_counter()
    database = bench_database(users)
    print(
        f"{users:,}-user database ready ({time.perf_counter() - started:.0f} s, "
        f"{database.stat().st_size / 1e9:.2f} GB)"
    )
    env = {**os.environ, "CHATTER_HOME": tempfile.mkdtemp(prefix="chatter-mem-")}
    for name in TEMPLATES:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, name, str(database)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(f"  {name}: failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        status, seconds, peak, insights = out.stdout.split()
        print(
            f"  {name:24} {status:9} {float(seconds):6.1f} s  peak {int(peak):,} MB "
            f"({int(peak) / GOAL_MB:.2f}x of the {GOAL_MB:,} MB goal), {insights} insights"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
