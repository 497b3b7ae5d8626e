"""How long ``chatter --help`` takes to start (goal <= 0.5 s), against a bare ``python -c pass``.

Run as ``python bench/bench_startup.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

from _data import median

ROUNDS = 10


def timed(argv: list[str]) -> float:
    runs = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    return median(runs)


def main() -> None:
    chatter = shutil.which("chatter")
    argv = [chatter, "--help"] if chatter else [sys.executable, "-m", "chatter.cli", "--help"]
    bare = timed([sys.executable, "-c", "pass"])
    helped = timed(argv)
    print(
        f"chatter --help: {helped * 1000:.0f} ms (goal <= 500 ms; {helped / 0.5:.2f}x of goal); "
        f"bare python start {bare * 1000:.0f} ms, so chatter adds {(helped - bare) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
