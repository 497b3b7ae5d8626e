"""Process-wide resources a run uses: warehouses (one per database, model and scope), and the
control of running runs (cancellation, and the threads whose queries to interrupt)."""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass, field, replace

from chatter.context import Context, open_context_warehouse
from chatter.semantic.warehouse import Warehouse
from chatter.settings import get_settings

_warehouses: dict[tuple[object, ...], Warehouse] = {}
_lock = threading.Lock()


def governed_context(ctx: Context) -> Context:
    """``ctx`` with the mandatory row filters its user and role carry (from the permission
    store) added to its own scope: whatever a query or template asks, these apply."""
    from chatter.governance.grants import permission_store

    stored = permission_store().scope_for(ctx.user, ctx.role)
    extra = tuple(f for f in stored if f not in ctx.scope)
    return replace(ctx, scope=(*ctx.scope, *extra)) if extra else ctx


def warehouse_for(ctx: Context) -> Warehouse:
    """A shared Warehouse for the context's database, model, cache choice and data scope (the
    context's own plus the one its user and role carry)."""
    settings = get_settings()
    ctx = governed_context(ctx)
    key = (
        ctx.database or settings.database,
        ctx.semantic_model or settings.semantic_model,
        ctx.use_cache,
        tuple(f.model_dump_json() for f in ctx.scope),
        str(settings.home),
    )
    with _lock:
        warehouse = _warehouses.get(key)
        if warehouse is None:
            warehouse = open_context_warehouse(ctx, settings)
            _warehouses[key] = warehouse
        return warehouse


def close_warehouses() -> None:
    """Close every shared warehouse (releases the database files)."""
    with _lock:
        for warehouse in _warehouses.values():
            warehouse.close()
        _warehouses.clear()


# DuckDB objects still open when the interpreter tears down make its bindings complain.
atexit.register(close_warehouses)


_slots: threading.BoundedSemaphore | None = None


def step_slots() -> threading.BoundedSemaphore:
    """How many steps may query at once in this process (CHATTER_MAX_PARALLEL_STEPS)."""
    global _slots
    with _lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(get_settings().max_parallel_steps)
        return _slots


@dataclass
class RunControl:
    """What lets one run be stopped: a flag, and the threads running its steps."""

    cancelled: threading.Event = field(default_factory=threading.Event)
    threads: set[int] = field(default_factory=set)


_runs: dict[str, RunControl] = {}


def control(run_id: str) -> RunControl:
    with _lock:
        return _runs.setdefault(run_id, RunControl())


def cancel(run_id: str, *, create: bool = False) -> bool:
    """Ask a run to stop: pending steps are skipped and running queries interrupted.
    ``create``: flag a run that has not started in this process yet."""
    with _lock:
        ctl = _runs.setdefault(run_id, RunControl()) if create else _runs.get(run_id)
        pools = list(_warehouses.values())
    if ctl is None:
        return False
    ctl.cancelled.set()
    for warehouse in pools:
        warehouse.engine.interrupt(set(ctl.threads))
    return True


def forget(run_id: str) -> None:
    with _lock:
        _runs.pop(run_id, None)
