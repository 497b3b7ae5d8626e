"""Concurrent identical requests run once; a failed leader does not fail its followers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from chatter.semantic.cache import ResultCache
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.singleflight import SingleFlight
from chatter.semantic.warehouse import Warehouse


def race(n: int, func: object) -> list[object]:
    out: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def worker() -> None:
        barrier.wait()
        value = func()  # type: ignore[operator]
        with lock:
            out.append(value)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_one_computation_for_concurrent_callers() -> None:
    flight = SingleFlight()
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results = race(20, lambda: flight.do("k", slow))
    assert len(calls) == 1
    assert sorted(results) == [(42, False)] + [(42, True)] * 19  # type: ignore[type-var]


def test_followers_compute_for_themselves_when_the_leader_fails() -> None:
    flight = SingleFlight()
    first = threading.Event()

    def leader() -> int:
        first.set()
        time.sleep(0.1)
        raise TimeoutError("the leader's own step timed out")

    errors: list[BaseException] = []

    def lead() -> None:
        try:
            flight.do("k", leader)
        except TimeoutError as err:
            errors.append(err)

    thread = threading.Thread(target=lead)
    thread.start()
    first.wait()
    assert flight.do("k", lambda: 7) == (7, False)
    thread.join()
    assert len(errors) == 1


def test_a_warehouse_runs_a_popular_query_once(tiny_db: Path, tmp_path: Path) -> None:
    with Warehouse(Engine(tiny_db), default_model(), cache=ResultCache(tmp_path / "c")) as wh:
        executed = []
        original = wh.engine.execute

        def counting(*args: object, **kwargs: object) -> object:
            if "GROUP BY" in str(args[0]):  # the query itself, not schema lookups
                executed.append(1)
                time.sleep(0.1)  # long enough for every caller to arrive while it runs
            return original(*args, **kwargs)  # type: ignore[arg-type]

        wh.engine.execute = counting  # type: ignore[method-assign]
        results = race(10, lambda: wh.query({"measures": ["users"], "dimensions": ["plan_type"]}))
    assert len(executed) == 1
    assert sum(not r.cached for r in results) == 1  # type: ignore[attr-defined]
    assert len({tuple(map(tuple, r.rows)) for r in results}) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("n", [1, 3])
def test_sequential_calls_do_not_share(n: int) -> None:
    flight = SingleFlight()
    assert [flight.do("k", lambda: 1) for _ in range(n)] == [(1, False)] * n
