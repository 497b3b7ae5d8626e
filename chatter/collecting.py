"""Lists that everything done in a context (and in the copies its worker threads run in)
appends to: a run's tool calls, the cache entries it read."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def collecting(var: ContextVar[list[T] | None]) -> Iterator[list[T]]:
    """A new list in ``var`` for this context; what was appended to it, once it ends. The
    list is shared, not copied, by the contexts copied from this one (list.append is atomic)."""
    found: list[T] = []
    token = var.set(found)
    try:
        yield found
    finally:
        var.reset(token)
