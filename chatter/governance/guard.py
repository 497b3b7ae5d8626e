"""The guard every tool call passes through: refuse secrets, authorize, rate-limit, run under
metrics timing, audit. Order matters: a call that is refused by an earlier check is never
counted by a later one (a denied call does not use up the caller's rate limit), and every
decision, allowed or denied, leaves an audit row before anything runs.

One Guard per data directory (the services object holds it): its grants, audit log, rate limits
and metrics are that directory's. Graph nodes mark themselves with ``GUARDED`` so a test can
prove that every tool node of every graph goes through here.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import chatter.sensitive as sensitive
from chatter.collecting import collecting
from chatter.context import Context
from chatter.errors import (
    ChatterError,
    PermissionDeniedError,
    RateLimitedError,
    SensitiveContentError,
)
from chatter.governance.audit import AuditEntry, AuditLog
from chatter.governance.audit_batch import AuditBatch, batched, current_batch
from chatter.governance.grants import PermissionStore
from chatter.governance.metrics import Metrics
from chatter.governance.permissions import Decision, decide, tool_resources
from chatter.governance.ratelimit import RateLimit, SlidingWindowLimiter
from chatter.logs import get_logger

T = TypeVar("T")
log = get_logger(__name__)

#: Attribute set on graph node functions whose tool calls go through ``Guard.call``.
GUARDED = "__chatter_guarded__"


@dataclass(frozen=True)
class ToolCallRecord:
    """A tool call the guard let through: what a replay of the run must ask for again."""

    tool: str
    step_type: str | None
    params: Any
    step_id: str | None = None


_RECORDING: ContextVar[list[ToolCallRecord] | None] = ContextVar(
    "chatter_guard_recording", default=None
)


def recording_calls() -> contextlib.AbstractContextManager[list[ToolCallRecord]]:
    """The tool calls let through in this context (the steps of a run: their threads run in
    a copy of it), in the order they were admitted."""
    return collecting(_RECORDING)


def mark_guarded(func: Callable[..., T]) -> Callable[..., T]:
    setattr(func, GUARDED, True)
    return func


@dataclass(frozen=True, eq=False)
class Guard:
    """Permissions, rate limits, the audit log and metrics of one data directory."""

    permissions: PermissionStore
    limiter: SlidingWindowLimiter
    audit: AuditLog
    metrics: Metrics

    def governed(self, ctx: Context) -> Context:
        """``ctx`` with the mandatory row filters its user and role carry (from the permission
        store) added to its own scope: whatever a query or template asks, these apply."""
        stored = self.permissions.scope_for(ctx.user, ctx.role)
        extra = tuple(f for f in stored if f not in ctx.scope)
        return replace(ctx, scope=(*ctx.scope, *extra)) if extra else ctx

    def authorize(
        self,
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
        """Check secrets, permission and rate limits for one call, audit the decision, and
        raise the matching error when it is denied. ``count=False`` checks without using up a
        rate limit (understanding a question: the tool call it leads to is what counts)."""
        self.refuse_secrets(ctx, action=action, tool=tool, params=params, run_id=run_id)
        decision = decide(
            user=ctx.user,
            role=ctx.role,
            method=method,
            resources=resources,
            grants=self.permissions.grants(),
        )
        if not decision.allowed:
            self._deny(ctx, action, tool, decision.reason, params, run_id, "permission_denied")
            raise PermissionDeniedError(
                f"User {ctx.user!r} (role {ctx.role}) may not {method} {resources[0]}: "
                f"{decision.reason}."
            )
        limits = [
            ((ctx.user, g.subject, g.resource), g.rate_limit)
            for g in (decision.limits if count else ())
            if g.rate_limit is not None
        ]
        admitted = self.limiter.acquire(limits)
        if not admitted.allowed:
            assert admitted.limit is not None and admitted.key is not None
            key: tuple[str, str, str] = admitted.key  # type: ignore[assignment]
            _, subject, resource = key
            reason = (
                f"rate limit of {admitted.limit.describe()} on {resource} for {subject} "
                f"reached; retry in {admitted.retry_after_s:.1f} s"
            )
            self._deny(ctx, action, tool, reason, params, run_id, "rate_limited")
            raise RateLimitedError(
                f"User {ctx.user!r} is over a rate limit: {reason}.",
                retry_after_s=admitted.retry_after_s,
            )
        self._record(
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
        self,
        ctx: Context,
        *,
        action: str,
        params: Any,
        tool: str | None = None,
        run_id: str | None = None,
    ) -> None:
        """Raise (audited) when ``params`` hold something that looks like a secret."""
        found = sensitive.scan(params) if params is not None else []
        if found:
            reason = sensitive.describe(found)
            self._deny(ctx, action, tool, reason, params, run_id, "sensitive_content")
            raise SensitiveContentError(reason)

    def call(
        self,
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
        self.authorize(
            ctx,
            "run",
            tool_resources(tool, step_type),
            action="tool.run",
            tool=tool,
            params=params,
            run_id=run_id,
        )
        recording = _RECORDING.get()
        if recording is not None:
            recording.append(
                ToolCallRecord(tool, step_type, params, step_id)
            )  # list.append is atomic
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
            self.metrics.record_tool_call(
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

    def would_readmit(self, ctx: Context, calls: tuple[ToolCallRecord, ...]) -> bool:
        """Whether ``ctx`` may make every one of ``calls`` now: their permissions, and room
        for all of them in every rate limit they count against, checked without a side effect
        (nothing audited, no rate limit used)."""
        grants = self.permissions.grants()
        needed: Counter[tuple[str, str, str]] = Counter()
        limit_of: dict[tuple[str, str, str], RateLimit] = {}
        for call in calls:
            decision = decide(
                user=ctx.user,
                role=ctx.role,
                method="run",
                resources=tool_resources(call.tool, call.step_type),
                grants=grants,
            )
            if not decision.allowed:
                return False
            for grant in decision.limits:
                if grant.rate_limit is not None:
                    key = (ctx.user, grant.subject, grant.resource)
                    needed[key] += 1
                    limit_of[key] = grant.rate_limit
        return all(
            self.limiter.used(key, limit_of[key]) + count <= limit_of[key].calls
            for key, count in needed.items()
        )

    def readmit(
        self, ctx: Context, call: ToolCallRecord, *, run_id: str | None, cached: bool
    ) -> None:
        """Let ``call`` through again without running it (a replayed run's step, answered
        from the cache): the same permission check, rate limit and audit row as ``call``,
        and the call in the metrics as the step it replays (``cached``: as that step was)."""
        started = time.perf_counter()
        self.authorize(
            ctx,
            "run",
            tool_resources(call.tool, call.step_type),
            action="tool.run",
            tool=call.tool,
            params=call.params,
            run_id=run_id,
        )
        self.metrics.record_tool_call(
            tool=call.tool,
            step_type=call.step_type,
            duration_ms=(time.perf_counter() - started) * 1000,
            ok=True,
            cached=cached,
            run_id=run_id,
            step_id=call.step_id,
            user=ctx.user,
        )

    # ---- audit ---------------------------------------------------------------------------

    def _record(
        self,
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
        """One audit row; the parameters' hash is of their redacted copy when they held a
        secret (clean parameters are hashed as they are, so the hash matches what ran)."""
        if redact and params is not None:
            params = sensitive.redact(params)
        entry = AuditEntry(
            actor=ctx.user,
            role=ctx.role,
            action=action,
            decision=decision,
            tool=tool,
            reason=reason,
            params=params,
            run_id=run_id,
        )
        batch = current_batch() if decision == "allowed" else None
        if batch is not None:  # a run's step: committed with the others before the run returns
            batch.add(entry)
        else:
            self.audit.append(**entry)

    def _deny(
        self,
        ctx: Context,
        action: str,
        tool: str | None,
        reason: str,
        params: Any,
        run_id: str | None,
        code: str,
    ) -> None:
        log.warning(
            "call_denied", user=ctx.user, role=ctx.role, action=action, tool=tool, code=code
        )
        self._record(
            ctx,
            action=action,
            decision="denied",
            tool=tool,
            reason=reason,
            params=params,
            run_id=run_id,
        )
        self.metrics.record_denied(tool=tool or action, reason_code=code)

    def audit_batch(self) -> contextlib.AbstractContextManager[AuditBatch]:
        """A context in which allowed calls' entries are committed together, on its exit."""
        return batched(self.audit)

    def close(self) -> None:
        self.audit.close()
        self.permissions.close()
