"""A thread-safe least-recently-used cache of things that are costly to build (compiled
graphs, routers): a miss builds outside the lock, so a slow build never blocks lookups of
other keys."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class LruStats:
    hits: int = 0
    misses: int = 0
    builds: int = 0
    build_ms_total: float = 0.0
    last_build_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "builds": self.builds,
            "build_ms_total": round(self.build_ms_total, 3),
            "last_build_ms": round(self.last_build_ms, 3),
        }


@dataclass(eq=False)
class LruCache(Generic[V]):
    """At most ``size`` values; ``on_lookup(hit)`` hears of every lookup (for metrics)."""

    size: int = 64
    on_lookup: Callable[[bool], None] | None = None
    stats: LruStats = field(default_factory=LruStats)
    _values: OrderedDict[Hashable, V] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value for ``key``, built on a miss."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                self.stats.hits += 1
                value = self._values[key]
                hit = True
            else:
                self.stats.misses += 1
                hit = False
        if self.on_lookup is not None:
            self.on_lookup(hit)
        if hit:
            return value
        started = time.perf_counter()
        value = build()
        elapsed = (time.perf_counter() - started) * 1000
        with self._lock:
            self.stats.builds += 1
            self.stats.build_ms_total += elapsed
            self.stats.last_build_ms = elapsed
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class LruDict(OrderedDict[K, V]):
    """A dict of at most ``size`` entries: the one set last is the newest, and setting one past
    the cap drops the oldest. Not locked: its owner guards it, as it would a plain dict.

    >>> last = LruDict[str, int](2)
    >>> last["a"], last["b"], last["c"] = 1, 2, 3
    >>> list(last.items())
    [('b', 2), ('c', 3)]
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"an LruDict holds at least one entry, not {size}")
        super().__init__()
        self.size = size

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
