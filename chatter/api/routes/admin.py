"""Admin only: metrics, the audit log and permissions. Each route asks the guard (so a
refused look at the audit log is itself audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse, Response

from chatter.api.conversation import context_of
from chatter.api.deps import Caller, ServicesDep
from chatter.api.openapi import METRICS, errors
from chatter.api.schemas import GrantRequest, ScopeRequest
from chatter.errors import InvalidValueError
from chatter.governance.permissions import admin_resources

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=errors(401, 403, 429))
Subject = Annotated[str, Path(min_length=3, max_length=140)]


@router.get("/metrics", response_model=None, responses={**METRICS, **errors(422)})
def get_metrics(
    caller: Caller,
    services: ServicesDep,
    format: Annotated[Literal["json", "prometheus"], Query()] = "json",
) -> Response | dict[str, Any]:
    """Counters, windowed latencies (p50/p95/p99), cache hit rates, feedback and health."""
    services.guard.authorize(
        context_of(caller), "read", admin_resources("metrics"), action="metrics.read"
    )
    if format == "prometheus":
        return PlainTextResponse(
            services.metrics.prometheus_text(), media_type="text/plain; version=0.0.4"
        )
    return services.metrics.snapshot()


def _when(value: str | None, item: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        # In UTC now: 0001-01-01T00:00+14:00 is a valid time but no UTC one (OverflowError).
        return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidValueError(item, value, "an ISO 8601 time like 2026-01-31T12:00:00Z") from None


@router.get("/audit", responses=errors(400, 422))
def get_audit(
    caller: Caller,
    services: ServicesDep,
    user: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=200)] = None,
    decision: Annotated[Literal["allowed", "denied", "error", "info"] | None, Query()] = None,
    tool: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,  # SQLite's largest integer
) -> dict[str, Any]:
    """Audit rows newest first, by user, action (``permissions.*`` for a prefix), decision,
    tool and time window."""
    filters = {
        "params": {
            "user": user,
            "action": action,
            "decision": decision,
            "since": since,
            "until": until,
        }
    }
    services.guard.authorize(
        context_of(caller), "read", admin_resources("audit"), action="audit.read", params=filters
    )
    rows = services.guard.audit.query(
        actor=user,
        action=action,
        decision=decision,
        tool=tool,
        since=_when(since, "since"),
        until=_when(until, "until"),
        limit=limit,
        offset=offset,
    )
    return {"records": [r.to_dict() for r in rows]}


@router.get("/audit/verify")
def verify_audit(caller: Caller, services: ServicesDep) -> dict[str, Any]:
    """Recompute the hash chain: ``ok`` false names every edited, inserted or deleted row."""
    services.guard.authorize(
        context_of(caller), "read", admin_resources("audit"), action="audit.verify"
    )
    report = services.guard.audit.verify()
    return {
        "ok": report.ok,
        "rows": report.rows,
        "problems": report.problems,
        "head_hash": report.head_hash,
    }


@router.get("/admin/permissions", responses=errors(422))
def list_grants(
    caller: Caller,
    services: ServicesDep,
    subject: Annotated[str | None, Query(max_length=140)] = None,
) -> dict[str, Any]:
    grants = services.admin.list_grants(context_of(caller), subject)
    return {"grants": [g.model_dump(mode="json") for g in grants]}


@router.post("/admin/permissions", status_code=201, responses=errors(400, 413, 422))
def grant(body: GrantRequest, caller: Caller, services: ServicesDep) -> dict[str, Any]:
    made = services.admin.grant(
        context_of(caller),
        body.subject,
        body.resource,
        body.level,
        methods=body.methods,
        rate_limit=body.rate_limit,
        expires_at=body.expires_at,
    )
    return made.model_dump(mode="json")


@router.delete("/admin/permissions", responses=errors(422))
def revoke(
    caller: Caller,
    services: ServicesDep,
    subject: Annotated[str, Query(min_length=3, max_length=140)],
    resource: Annotated[str, Query(min_length=1, max_length=300)],
) -> dict[str, Any]:
    return {"revoked": services.admin.revoke(context_of(caller), subject, resource)}


@router.get("/admin/scopes/{subject}", responses=errors(422))
def get_scope(subject: Subject, caller: Caller, services: ServicesDep) -> dict[str, Any]:
    scope = services.admin.get_scope(context_of(caller), subject)
    return {"subject": subject, "filters": [f.model_dump(mode="json") for f in scope]}


@router.put("/admin/scopes/{subject}", responses=errors(400, 413, 422))
def set_scope(
    subject: Subject, body: ScopeRequest, caller: Caller, services: ServicesDep
) -> dict[str, Any]:
    """Mandatory row filters for a ``user:<name>`` or ``role:<name>`` (empty list: none)."""
    scope = services.admin.set_scope(context_of(caller), subject, body.filters)
    return {"subject": subject, "filters": [f.model_dump(mode="json") for f in scope]}
