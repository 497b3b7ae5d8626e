"""A full-scan aggregate through the semantic layer vs the same question in hand-written SQL,
both straight on DuckDB (no result cache). Goal: semantic <= 1.1x hand-written.

Rounds alternate the two so machine noise hits both alike. Run as
``python bench/bench_semantic_overhead.py [USERS]``.
"""

from __future__ import annotations

import sys
import time

import duckdb
from _data import bench_database, median

from chatter.semantic.engine import Engine, connection_config
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

CASES = {
    "events by plan (events JOIN users)": (
        {"measures": ["events", "active_users"], "dimensions": ["plan_type"]},
        "SELECT u.plan_type, count(*), count(DISTINCT e.user_id) FROM events e "
        "LEFT JOIN users u ON e.user_id = u.user_id GROUP BY 1 ORDER BY 1",
    ),
    "conversion by industry x month": (
        {
            "measures": ["conversion_rate", "users"],
            "dimensions": ["industry", "signup_date__month"],
        },
        "SELECT industry, date_trunc('month', signup_date)::DATE, "
        "count(*) FILTER (WHERE converted)::DOUBLE / count(*), count(*) FROM users "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    "mrr by month": (
        {"measures": ["mrr", "arpu"], "dimensions": ["month"]},
        "SELECT month, sum(mrr), sum(mrr) / count(DISTINCT user_id) FROM revenue GROUP BY 1 ORDER BY 1",
    ),
}
ROUNDS = 7


def main(users: int) -> None:
    db = bench_database(users)
    raw = duckdb.connect(str(db), read_only=True, config=connection_config())
    print(f"semantic layer vs hand-written SQL on {users:,} users (median of {ROUNDS})")
    with Warehouse(Engine(db), default_model(), cache=None) as wh:
        for name, (query, sql) in CASES.items():
            wh.query(query)  # warm DuckDB's buffers for both
            raw.execute(sql).fetchall()
            semantic, hand = [], []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                wh.query(query)
                semantic.append(time.perf_counter() - started)
                started = time.perf_counter()
                raw.execute(sql).fetchall()
                hand.append(time.perf_counter() - started)
            s, h = median(semantic) * 1000, median(hand) * 1000
            print(
                f"  {name:38} semantic {s:8.1f} ms  hand {h:8.1f} ms  ratio {s / h:5.2f}x"
                " (goal <= 1.10x)"
            )
    raw.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
