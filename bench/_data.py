"""The demo databases benchmarks run on, generated once and kept between runs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from chatter.demo import generate_demo


def bench_database(users: int, seed: int = 42) -> Path:
    """A demo database of ``users`` users under $CHATTER_BENCH_DIR (default: the temp dir)."""
    root = Path(os.environ.get("CHATTER_BENCH_DIR", Path(tempfile.gettempdir()) / "chatter-bench"))
    path = root / f"demo-{users}-{seed}.duckdb"
    if not path.exists():
        print(f"(generating {users:,}-user demo at {path})", flush=True)
        generate_demo(path, users=users, seed=seed)
    return path


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
