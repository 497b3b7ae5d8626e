"""Run the benchmarks once and print their ratios.

``python bench/run_all.py`` (the 1M-user database is generated once and reused).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = [
    "bench_demo.py",
    "bench_cache.py",
    "bench_semantic_overhead.py",
    "bench_startup.py",
    "bench_workflows.py",
    "bench_routing.py",
    "bench_api.py",
    "bench_governance.py",
    "stats_agreement.py",
]
# bench_overhead.py (every template at 1k-1M users, fresh processes; minutes) runs on its own.
# bench_memory.py (10M users, minutes and GBs of disk) runs on its own.

if __name__ == "__main__":
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]], check=False)
        print(flush=True)
