"""A typical aggregate on the 1M-user demo: cold (no cache entry) vs warm (cache hit).

Goal: warm >= 50x faster than cold. Prints the ratio measured in this run; asserts nothing.
Run as ``python bench/bench_cache.py [USERS]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _data import bench_database, median

from chatter.semantic.cache import ResultCache
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

QUERY = {
    "measures": ["conversion_rate", "users"],
    "dimensions": ["industry", "plan_type"],
    "filters": [{"field": "signup_date", "op": ">=", "value": "2024-06-01"}],
}
ROUNDS = 5


def main(users: int) -> None:
    db = bench_database(users)
    colds, warms = [], []
    for _ in range(ROUNDS):
        with (
            tempfile.TemporaryDirectory() as tmp,
            Warehouse(Engine(db), default_model(), cache=ResultCache(Path(tmp))) as wh,
        ):
            started = time.perf_counter()
            cold = wh.query(QUERY)
            colds.append(time.perf_counter() - started)
            assert not cold.cached
            for _ in range(20):
                started = time.perf_counter()
                warm = wh.query(QUERY)
                warms.append(time.perf_counter() - started)
                assert warm.cached and warm.rows == cold.rows
    cold_ms, warm_ms = median(colds) * 1000, median(warms) * 1000
    print(f"typical aggregate on {users:,} users ({len(cold.rows)} rows)")
    print(f"  cold (miss): {cold_ms:8.2f} ms   warm (hit): {warm_ms:8.3f} ms")
    print(f"  warm is {cold_ms / warm_ms:,.0f}x faster than cold (goal >= 50x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
