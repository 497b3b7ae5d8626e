"""Compiled graphs, kept in an LRU cache. Keys never include the user: who runs a graph, with
which role and database, travels in the runtime context, so one graph serves everyone."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from chatter.governance.metrics import metrics


@dataclass
class GraphCacheStats:
    hits: int = 0
    misses: int = 0
    compiles: int = 0
    compile_ms_total: float = 0.0
    last_compile_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "compiles": self.compiles,
            "compile_ms_total": round(self.compile_ms_total, 3),
            "last_compile_ms": round(self.last_compile_ms, 3),
        }


@dataclass
class GraphCache:
    size: int = 64
    stats: GraphCacheStats = field(default_factory=GraphCacheStats)
    _graphs: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, compile_graph: Callable[[], Any]) -> Any:
        """The graph for ``key``, compiling it on a miss (outside the lock, so a slow compile
        never blocks lookups of other graphs)."""
        with self._lock:
            graph = self._graphs.get(key)
            if graph is not None:
                self._graphs.move_to_end(key)
                self.stats.hits += 1
                metrics().record_graph_cache(hit=True)
                return graph
            self.stats.misses += 1
        metrics().record_graph_cache(hit=False)
        started = time.perf_counter()
        graph = compile_graph()
        elapsed = (time.perf_counter() - started) * 1000
        with self._lock:
            self.stats.compiles += 1
            self.stats.compile_ms_total += elapsed
            self.stats.last_compile_ms = elapsed
            self._graphs[key] = graph
            self._graphs.move_to_end(key)
            while len(self._graphs) > self.size:
                self._graphs.popitem(last=False)
        return graph

    def clear(self) -> None:
        with self._lock:
            self._graphs.clear()
