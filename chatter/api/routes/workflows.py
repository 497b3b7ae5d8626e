"""Workflow runs in the background: templates, create, execute, status, cancel, history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from chatter.api import run_access
from chatter.api.conversation import context_of
from chatter.api.deps import ApiDep, Caller, ServicesDep
from chatter.api.openapi import errors
from chatter.api.schemas import WorkflowCreate

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"], responses=errors(401))
RunId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/templates", responses=errors(403, 429))
def templates(caller: Caller, services: ServicesDep) -> dict[str, Any]:
    return {"templates": run_access.templates(services, caller)}


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
    return run_access.create(services, api, body.template, body.customizations, context_of(caller))


@router.post("/{run_id}/execute", status_code=202, responses=errors(403, 404, 409, 422, 429))
def execute(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> dict[str, Any]:
    """Start a created run in the background; poll GET /{run_id} for progress and result.
    It runs as its user's role now (not when it was created): the caller's, or for an admin
    starting someone else's run, that user's current one."""
    return run_access.execute(services, api, run_id, caller)


@router.get("/{run_id}", responses=errors(404, 422))
def status(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> dict[str, Any]:
    return run_access.run_status(run_access.owned_run(services, run_id, caller), api)


@router.post("/{run_id}/cancel", status_code=202, responses=errors(403, 404, 409, 422, 429))
def cancel(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> JSONResponse:
    """Stop a run; it ends ``cancelled``: one not started at once, a running one once its
    steps going on stop (pending steps are skipped, running queries interrupted)."""
    return JSONResponse(run_access.cancel(services, api, run_id, caller), status_code=202)
