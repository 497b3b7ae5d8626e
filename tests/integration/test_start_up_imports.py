"""A fresh ``chatter ask`` loads only what its answer needs: no web framework, no LLM client, no
PostgreSQL driver (the state is on SQLite), and no scipy when no test is computed (a query, or a
template answered from the cache: the run's correction is numpy). Each import is a fixed cost
of every command line answer (scipy.stats alone about half a second)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "scipy",
    "fastapi",
    "langchain_openai",
    "openai",
    "psycopg",
    "pyspark",
    "uvicorn",
    "statsmodels",
)

# The command as the console script runs it; on exit, the heavy modules that were loaded.
_PROBE = """
import atexit, json, sys
heavy = {heavy!r}
atexit.register(lambda: print(json.dumps(sorted(m for m in heavy if m in sys.modules)),
                              file=sys.stderr))
sys.argv = ["chatter", "ask", {question!r}, "--database", {database!r}, "--json"]
from chatter.cli.commands import main
main()
"""


def _loaded_by_ask(question: str, database: Path, home: Path) -> list[str]:
    env = {**os.environ, "CHATTER_HOME": str(home)}
    env.pop("OPENAI_API_KEY", None)
    env.pop("CHATTER_STATE_URL", None)
    ran = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE.format(heavy=HEAVY, question=question, database=str(database)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    json.loads(ran.stdout)  # the answer itself came out whole
    loaded: list[str] = json.loads(ran.stderr.strip().splitlines()[-1])
    return loaded


def test_a_single_query_loads_nothing_heavy(demo_db: Path, tmp_path: Path) -> None:
    assert _loaded_by_ask("conversion rate by industry", demo_db, tmp_path / "home") == []


@pytest.mark.parametrize("question", ["why are fintech trials converting worse?"])
def test_a_cached_template_answer_loads_no_scipy(
    question: str, demo_db: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    first = _loaded_by_ask(question, demo_db, home)
    assert "scipy" in first  # the first run computes its tests: the probe does see scipy
    assert [m for m in first if m != "scipy"] == []
    assert _loaded_by_ask(question, demo_db, home) == []


def test_a_run_reports_the_wait_beyond_its_own_time(demo_db: Path, services: object) -> None:
    """``metrics.setup_ms``: the caller's wait since it asked, beyond the run's own clock (a
    caller that has waited five seconds already is told so), and never negative."""
    import time

    from chatter.context import Context
    from chatter.workflow.runs import run_workflow

    ctx = Context(database=str(demo_db))
    result = run_workflow(services, "revenue_optimization", context=ctx)  # type: ignore[arg-type]
    assert result.metrics.setup_ms is not None and result.metrics.setup_ms >= 0
    started = time.time() - 5.0
    late = run_workflow(
        services,  # type: ignore[arg-type]
        "revenue_optimization",
        context=ctx,
        waited_since=started,
    )
    assert late.metrics.setup_ms is not None and late.metrics.setup_ms >= 5000 - 1
    waited = (time.time() - started) * 1000
    assert late.metrics.setup_ms + late.metrics.duration_ms <= waited + 1
