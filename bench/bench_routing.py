"""Routing accuracy on the evaluation sets (tests/fixtures/routing_*.yaml), no LLM: the set the
router was tuned on, and a held-out set written without seeing the router or that set.

Goal: >= 90% of answerable questions routed right (and, for single queries, the right measures
and dimensions); unanswerable inputs should get a clarifying answer. Prints the misses.
Run as ``python bench/bench_routing.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from _data import bench_database

from chatter.analyst.evaluation import evaluate
from chatter.analyst.understand import build_router
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
SETS = {
    "tuning set": FIXTURES / "routing_questions.yaml",
    "held-out set": FIXTURES / "routing_holdout.yaml",
}


def main(users: int) -> None:
    with Warehouse(Engine(bench_database(users)), default_model()) as warehouse:
        router = build_router(warehouse)
        for label, path in SETS.items():
            started = time.perf_counter()
            answered, refused = evaluate(router, path)
            elapsed = time.perf_counter() - started
            right = sum(o.correct for o in answered)
            print(
                f"{label}: routing accuracy {right}/{len(answered)} = "
                f"{right / len(answered):.1%} (goal >= 90%); unanswerable asked back "
                f"{sum(o.correct for o in refused)}/{len(refused)}; "
                f"{elapsed / (len(answered) + len(refused)) * 1000:.2f} ms per question"
            )
            for o in answered:
                if not o.correct:
                    print(
                        f"  MISS {o.question!r}: expected {o.expected}, got {o.got} "
                        f"({o.confidence:.2f}) - {o.detail}"
                    )
            for o in refused:
                if not o.correct:
                    print(f"  ROUTED {o.question!r} -> {o.got} ({o.confidence:.2f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
