"""Workflow runs in the background: templates, create, execute, status, cancel, history."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from chatter.api.background import role_of, run_in_background
from chatter.api.conversation import context_of
from chatter.api.deps import ApiDep, ApiState, Caller, ServicesDep
from chatter.api.keys import Principal
from chatter.api.openapi import errors
from chatter.api.schemas import WorkflowCreate
from chatter.context import Context, context_from_dict
from chatter.errors import PermissionDeniedError, RunStateError, UnknownRunError
from chatter.governance.permissions import workflow_resources
from chatter.services import Services
from chatter.stores.runs import ENDED
from chatter.workflow.run_owner import process_owner
from chatter.workflow.runs import authorize_workflow, cancel_run, create_run
from chatter.workflow.template import describe_templates

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"], responses=errors(401))
RunId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _owned(services: Services, run_id: str, caller: Principal) -> dict[str, Any]:
    """The run, if the caller started it (admins see every run); others' runs look unknown."""
    record = services.runs.get(run_id)
    if record is None or (caller.role != "admin" and record["context"].get("user") != caller.user):
        raise UnknownRunError(f"No run {run_id!r} of yours.")
    return record


def _status(record: dict[str, Any], api: ApiState) -> dict[str, Any]:
    with api.progress_lock:  # this worker's latest, else the store's (another worker's run)
        progress = api.progress.get(record["run_id"]) or record.get("progress")
    return {
        "run_id": record["run_id"],
        "workflow": record["workflow"],
        "status": record["status"],
        #: Why it ended without a result (cancelled before it started, its server stopped).
        "reason": record.get("reason"),
        "user": record["context"].get("user"),
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "progress": progress,
        "result": record["result"],
    }


@router.get("/templates", responses=errors(403, 429))
def templates(caller: Caller, services: ServicesDep) -> dict[str, Any]:
    services.guard.authorize(
        context_of(caller), "read", workflow_resources("*"), action="workflow.list"
    )
    return {"templates": describe_templates()}


@router.get("", responses=errors(422))
def history(
    caller: Caller,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,  # SQLite's largest integer
) -> dict[str, Any]:
    """Your runs, newest first (an admin sees everyone's)."""
    user = None if caller.role == "admin" else caller.user
    return {"runs": services.runs.list(user=user, limit=limit, offset=offset)}


@router.post("", status_code=201, responses=errors(400, 403, 413, 422, 429))
def create(
    body: WorkflowCreate, caller: Caller, services: ServicesDep, api: ApiDep
) -> dict[str, Any]:
    """Check (permissions, template, customizations) and record a run; execute starts it."""
    run_id = create_run(services, body.template, body.customizations, context_of(caller))
    record = services.runs.get(run_id)
    assert record is not None
    return _status(record, api)


@router.post("/{run_id}/execute", status_code=202, responses=errors(403, 404, 409, 422, 429))
def execute(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> dict[str, Any]:
    """Start a created run in the background; poll GET /{run_id} for progress and result.
    It runs as its user's role now (not when it was created): the caller's, or for an admin
    starting someone else's run, that user's current one."""
    record = _owned(services, run_id, caller)
    ctx = _runner(record, caller, api)
    template = record["workflow"]
    authorize_workflow(services, ctx, template, run_id, None, action="workflow.execute")
    if not services.runs.claim(run_id, process_owner(), background=True):
        raise RunStateError(f"Run {run_id} is {record['status']}; only a created run can execute.")
    run_in_background(services, api, run_id, ctx)
    updated = services.runs.get(run_id)
    assert updated is not None
    return _status(updated, api)


def _runner(record: dict[str, Any], caller: Principal, api: ApiState) -> Context:
    """The run's context as whoever it runs for is now."""
    ctx = context_from_dict(record["context"])
    if ctx.user == caller.user:
        return dataclasses.replace(ctx, role=caller.role)
    role = role_of(api.keys, ctx.user)
    if role is None:
        raise PermissionDeniedError(f"User {ctx.user!r} of run {record['run_id']} has no API key.")
    return dataclasses.replace(ctx, role=role)


@router.get("/{run_id}", responses=errors(404, 422))
def status(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> dict[str, Any]:
    return _status(_owned(services, run_id, caller), api)


@router.post("/{run_id}/cancel", status_code=202, responses=errors(403, 404, 409, 422, 429))
def cancel(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> JSONResponse:
    """Stop a run; it ends ``cancelled``: one not started at once, a running one once its
    steps going on stop (pending steps are skipped, running queries interrupted)."""
    record = _owned(services, run_id, caller)
    services.guard.authorize(
        context_of(caller),
        "cancel",
        workflow_resources(record["workflow"]),
        action="workflow.cancel",
        run_id=run_id,
    )
    if record["status"] in ENDED:
        raise RunStateError(f"Run {run_id} already ended ({record['status']}).")
    stopped = cancel_run(services, run_id)
    updated = services.runs.get(run_id)
    assert updated is not None
    return JSONResponse({**_status(updated, api), "cancelled": stopped}, status_code=202)
