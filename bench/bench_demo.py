"""How fast the demo dataset generates, against the goal of 1M users in 10 s.

Run as ``python bench/bench_demo.py``. It writes into a temporary directory that it removes, prints a
table and never asserts: a slow machine should get numbers, not a traceback.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from chatter.demo import generate_demo
from chatter.logs import configure_logging

SIZES = (100_000, 1_000_000)
SEED = 42
GOAL_USERS = 1_000_000
GOAL_SECONDS = 10.0


@dataclass(frozen=True)
class Run:
    users: int
    events: int
    revenue_rows: int
    seconds: float


def measure(directory: Path, users: int) -> Run:
    """Generate once and time the whole call from the outside (validation, SQL, checkpoint,
    rename), which is what a user waiting on ``chatter demo`` experiences."""
    started = time.perf_counter()
    summary = generate_demo(directory / f"demo-{users}.duckdb", users=users, seed=SEED)
    seconds = time.perf_counter() - started
    return Run(users, summary.events, summary.revenue_rows, seconds)


def table(runs: list[Run]) -> str:
    header = f"{'users':>10} {'seconds':>8} {'users/s':>11} {'events':>11} {'events/s':>12} {'revenue':>10}"
    lines = [header, "-" * len(header)]
    for run in runs:
        lines.append(
            f"{run.users:>10,} {run.seconds:>8.2f} {run.users / run.seconds:>11,.0f} "
            f"{run.events:>11,} {run.events / run.seconds:>12,.0f} {run.revenue_rows:>10,}"
        )
    return "\n".join(lines)


def goal_line(runs: list[Run]) -> str:
    at_goal = next((run for run in runs if run.users == GOAL_USERS), None)
    if at_goal is None:
        return f"no {GOAL_USERS:,}-user run"
    ratio = at_goal.seconds / GOAL_SECONDS
    return (
        f"1M users: {at_goal.seconds:.1f} s = {ratio:.2f}x of the {GOAL_SECONDS:.0f} s goal"
        f" ({'within' if ratio <= 1 else 'over'} budget)"
    )


def main() -> None:
    # The generator logs one info line per dataset (to stderr); keep the output to the table.
    configure_logging("warning")
    with tempfile.TemporaryDirectory(prefix="chatter-bench-") as directory:
        runs = [measure(Path(directory), users) for users in SIZES]
    print(table(runs))
    print(goal_line(runs))


if __name__ == "__main__":
    main()
