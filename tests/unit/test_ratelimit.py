"""Sliding-window limits: exact, atomic across limits, and exact under 50 racing threads."""

from __future__ import annotations

import threading

import pytest

from chatter.governance.ratelimit import RateLimit, SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_slides_and_says_when_to_retry() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(clock)
    limit = RateLimit(calls=3, window_s=10)
    for step in (0.0, 2.0, 4.0):
        clock.now = 1000.0 + step
        assert limiter.acquire([("k", limit)]).allowed
    clock.now = 1005.0
    refused = limiter.acquire([("k", limit)])
    assert not refused.allowed and refused.retry_after_s == pytest.approx(5.0)
    clock.now = 1010.0  # the first call (at 1000) has left the window
    assert limiter.acquire([("k", limit)]).allowed
    assert not limiter.acquire([("k", limit)]).allowed
    assert limiter.used("k", limit) == 3


def test_a_refused_call_consumes_no_limit() -> None:
    limiter = SlidingWindowLimiter(Clock())
    tight, loose = RateLimit(calls=1, window_s=60), RateLimit(calls=100, window_s=60)
    assert limiter.acquire([("tight", tight), ("loose", loose)]).allowed
    for _ in range(5):
        assert not limiter.acquire([("loose", loose), ("tight", tight)]).allowed
    assert limiter.used("loose", loose) == 1


def test_keys_are_independent() -> None:
    limiter = SlidingWindowLimiter(Clock())
    limit = RateLimit(calls=1, window_s=60)
    assert limiter.acquire([("a", limit)]).allowed
    assert limiter.acquire([("b", limit)]).allowed
    assert not limiter.acquire([("a", limit)]).allowed


def test_fifty_threads_racing_admit_exactly_the_limit() -> None:
    limiter = SlidingWindowLimiter()
    limit = RateLimit(calls=137, window_s=3600)
    admitted: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def worker() -> None:
        barrier.wait()
        for _ in range(20):
            ok = limiter.acquire([("shared", limit)]).allowed
            with lock:
                admitted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 1000 and sum(admitted) == 137


@pytest.mark.parametrize("bad", [{"calls": 0, "window_s": 1}, {"calls": 1, "window_s": 0}])
def test_limits_must_make_sense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimit.model_validate(bad)
