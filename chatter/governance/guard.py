"""The guard every tool call passes through: refuse secrets, authorize, rate-limit, run under
metrics timing, audit. Order matters: a call that is refused by an earlier check is never
counted by a later one (a denied call does not use up the caller's rate limit), and every
decision, allowed or denied, leaves an audit row before anything runs.

Graph nodes mark themselves with ``GUARDED`` so a test can prove that every tool node of every
graph goes through here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from chatter.context import Context
from chatter.errors import (
    ChatterError,
    PermissionDeniedError,
    RateLimitedError,
    SensitiveContentError,
)
from chatter.governance import audit, metrics, sensitive
from chatter.governance.grants import permission_store
from chatter.governance.permissions import Decision, decide, tool_resources
from chatter.governance.ratelimit import limiter
from chatter.logs import get_logger

T = TypeVar("T")
log = get_logger(__name__)

#: Attribute set on graph node functions whose tool calls go through ``guarded_call``.
GUARDED = "__chatter_guarded__"


def mark_guarded(func: Callable[..., T]) -> Callable[..., T]:
    setattr(func, GUARDED, True)
    return func


def _record(
    ctx: Context,
    *,
    action: str,
    decision: str,
    tool: str | None,
    reason: str | None,
    params: Any,
    run_id: str | None,
    redact: bool = True,
) -> None:
    """One audit row; the parameters' hash is of their redacted copy when they held a secret
    (clean parameters are hashed as they are, so the hash matches what ran)."""
    if redact and params is not None:
        params = sensitive.redact(params)
    audit.audit_log().append(
        actor=ctx.user,
        role=ctx.role,
        action=action,
        decision=decision,
        tool=tool,
        reason=reason,
        params=params,
        run_id=run_id,
    )


def authorize(
    ctx: Context,
    method: str,
    resources: tuple[str, ...],
    *,
    action: str,
    tool: str | None = None,
    params: Any = None,
    run_id: str | None = None,
    count: bool = True,
) -> Decision:
    """Check secrets, permission and rate limits for one call, audit the decision, and raise
    the matching error when it is denied. ``count=False`` checks without using up a rate limit
    (understanding a question: the tool call it leads to is what counts)."""
    refuse_secrets(ctx, action=action, tool=tool, params=params, run_id=run_id)
    store = permission_store()
    decision = decide(
        user=ctx.user, role=ctx.role, method=method, resources=resources, grants=store.grants()
    )
    if not decision.allowed:
        _deny(ctx, action, tool, decision.reason, params, run_id, "permission_denied")
        raise PermissionDeniedError(
            f"User {ctx.user!r} (role {ctx.role}) may not {method} {resources[0]}: "
            f"{decision.reason}."
        )
    limits = [
        ((ctx.user, g.subject, g.resource), g.rate_limit)
        for g in (decision.limits if count else ())
        if g.rate_limit is not None
    ]
    admitted = limiter().acquire(limits)
    if not admitted.allowed:
        assert admitted.limit is not None and admitted.key is not None
        key: tuple[str, str, str] = admitted.key  # type: ignore[assignment]
        _, subject, resource = key
        reason = (
            f"rate limit of {admitted.limit.describe()} on {resource} for {subject} reached; "
            f"retry in {admitted.retry_after_s:.1f} s"
        )
        _deny(ctx, action, tool, reason, params, run_id, "rate_limited")
        raise RateLimitedError(
            f"User {ctx.user!r} is over a rate limit: {reason}.",
            retry_after_s=admitted.retry_after_s,
        )
    _record(
        ctx,
        action=action,
        decision="allowed",
        tool=tool,
        reason=decision.reason,
        params=params,
        run_id=run_id,
        redact=False,  # scanned above: nothing to redact
    )
    return decision


def refuse_secrets(
    ctx: Context, *, action: str, params: Any, tool: str | None = None, run_id: str | None = None
) -> None:
    """Raise (audited) when ``params`` hold something that looks like a secret."""
    found = sensitive.scan(params) if params is not None else []
    if found:
        reason = sensitive.describe(found)
        _deny(ctx, action, tool, reason, params, run_id, "sensitive_content")
        raise SensitiveContentError(reason)


def _deny(
    ctx: Context,
    action: str,
    tool: str | None,
    reason: str,
    params: Any,
    run_id: str | None,
    code: str,
) -> None:
    log.warning("call_denied", user=ctx.user, role=ctx.role, action=action, tool=tool, code=code)
    _record(
        ctx,
        action=action,
        decision="denied",
        tool=tool,
        reason=reason,
        params=params,
        run_id=run_id,
    )
    metrics.metrics().record_denied(tool=tool or action, reason_code=code)


def guarded_call(
    ctx: Context,
    *,
    tool: str,
    step_type: str | None,
    params: Any,
    func: Callable[[], T],
    run_id: str | None = None,
    step_id: str | None = None,
    cached: Callable[[T], bool | None] | None = None,
) -> T:
    """Run ``func`` (one call of ``tool``) if the guard lets ``ctx`` do it."""
    authorize(
        ctx,
        "run",
        tool_resources(tool, step_type),
        action="tool.run",
        tool=tool,
        params=params,
        run_id=run_id,
    )
    started = time.perf_counter()
    ok, value = False, None
    code: str | None = "internal"
    try:
        value = func()
        ok, code = True, None
        return value
    except ChatterError as err:
        code = err.code
        raise
    except TimeoutError:
        code = "timeout"
        raise
    except Exception as err:  # errors without a chatter code may name their category
        code = str(getattr(err, "category", "internal"))
        raise
    finally:
        metrics.metrics().record_tool_call(
            tool=tool,
            step_type=step_type,
            duration_ms=(time.perf_counter() - started) * 1000,
            ok=ok,
            error_code=code,
            cached=cached(value) if ok and cached is not None and value is not None else None,
            run_id=run_id,
            step_id=step_id,
            user=ctx.user,
        )
