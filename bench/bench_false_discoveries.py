"""False discoveries and power of the segment findings, measured in this run.

1. **False findings.** ``--null`` datasets (default 20) with nothing planted: five categorical
   dimensions with 4 to 12 levels each (names the code cannot know), six features adopted alike
   and used independently, one churn hazard, MRR fixed by plan. Each goes through all three
   templates with their defaults (the conversion deep dive tests every categorical dimension).
   A run has a false finding when any finding is significant, except the revenue trend tests:
   on these data MRR does rise (paying accounts accumulate), so a trend is a true finding.
   Goal: at most 5% of runs with any false finding.
2. **Power.** ``--power`` datasets (default 20) of ``--users`` accounts (default 50,000), one
   acquisition channel of six converting 2 points above the others (22% vs 20%). Power: the
   share of runs whose conversion deep dive finds that channel significantly higher. Findings
   on the other dimensions in those runs are counted as false too.

Run as ``python bench/bench_false_discoveries.py [--null N] [--power N] [--users N] [--seed S]``;
another ``--seed`` draws fresh datasets (a procedure changed after a run on some seeds is judged
on others).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from segment_designs import LEVELS, make_segment_design

TEMPLATES = ("conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization")
TRUE_BY_CONSTRUCTION = {"growth_trends"}  # MRR accumulates on these data: its trend is real
PLANTED = LEVELS["acquisition_channel"][3]


def _false(result: object) -> list[str]:
    from chatter.result import WorkflowResult

    assert isinstance(result, WorkflowResult)
    return [
        f"{result.workflow}/{f.source_step}: {f.metric} {f.dimension or ''} "
        f"{f.segment or f.subject or ''} (adjusted p = {f.p_adjusted:.3g})"
        for f in result.findings
        if f.significant and f.source_step not in TRUE_BY_CONSTRUCTION
    ]


def null_runs(
    root: Path, datasets: int, users: int, base: int
) -> tuple[int, int, Counter[str], int]:
    import chatter

    runs = with_false = tests = 0
    kinds: Counter[str] = Counter()
    for seed in range(datasets):
        db = make_segment_design(root / f"null{seed}.duckdb", users=users, seed=base + seed)
        for template in TEMPLATES:
            result = chatter.run_workflow(template, database=str(db), use_cache=False)
            runs += 1
            tests += sum(1 for f in result.findings if f.p_adjusted is not None)
            false = _false(result)
            with_false += bool(false)
            kinds.update(line.split(":")[0] for line in false)
            for line in false:
                print(f"  null seed {seed}: {line}", flush=True)
    return runs, with_false, kinds, tests


def power_runs(root: Path, datasets: int, users: int, base: int) -> tuple[int, int, int]:
    import chatter

    found = with_false = 0
    for seed in range(datasets):
        db = make_segment_design(
            root / f"power{seed}.duckdb",
            users=users,
            seed=base + 500 + seed,
            conversion=lambda u: np.where(u["acquisition_channel"] == PLANTED, 0.22, 0.20),
        )
        result = chatter.run_workflow("conversion_deep_dive", database=str(db), use_cache=False)
        hit = any(
            f.significant
            and f.dimension == "acquisition_channel"
            and f.segment == PLANTED
            and f.estimates.get("difference", 0.0) > 0
            for f in result.findings
        )
        found += hit
        others = [line for line in _false(result) if "acquisition_channel" not in line]
        with_false += bool(others)
        for line in others:
            print(f"  power seed {seed}: {line}", flush=True)
        db.unlink()
    return datasets, found, with_false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--null", type=int, default=20, help="null datasets (default 20)")
    parser.add_argument("--null-users", type=int, default=20_000)
    parser.add_argument("--power", type=int, default=20, help="planted datasets (default 20)")
    parser.add_argument("--users", type=int, default=50_000, help="accounts per planted set")
    parser.add_argument(
        "--seed", type=int, default=1000, help="first seed (another value: fresh datasets)"
    )
    args = parser.parse_args()
    os.environ["CHATTER_HOME"] = tempfile.mkdtemp(prefix="chatter-bench-home-")
    root = Path(tempfile.mkdtemp(prefix="chatter-bench-fdr-"))
    started = time.perf_counter()
    runs, with_false, kinds, tests = null_runs(root, args.null, args.null_users, args.seed)
    share = with_false / runs if runs else 0.0
    print(
        f"false findings: {with_false} of {runs} runs ({share:.1%}) on {args.null} null datasets "
        f"x {len(TEMPLATES)} templates, {tests / max(runs, 1):.0f} tests per run "
        f"(goal <= 5%): {'ok' if share <= 0.05 else 'MISSED'}"
    )
    for kind, count in sorted(kinds.items()):
        print(f"  {kind}: {count}")
    sets, found, false_power = power_runs(root, args.power, args.users, args.seed)
    print(
        f"power: {found} of {sets} runs ({found / max(sets, 1):.0%}) found {PLANTED} converting "
        f"2 points higher (22% vs 20%) at {args.users:,} accounts; {false_power} of those runs "
        "also had a false finding elsewhere"
    )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
