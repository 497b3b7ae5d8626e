"""Workflow runs in the background: templates, create, execute, status, cancel, history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from chatter.api.conversation import context_of
from chatter.api.deps import ApiDep, ApiState, Caller, ServicesDep
from chatter.api.keys import Principal
from chatter.api.schemas import WorkflowCreate
from chatter.errors import RunStateError, UnknownRunError
from chatter.governance.permissions import workflow_resources
from chatter.logs import get_logger
from chatter.services import Services
from chatter.workflow.runs import cancel_run, create_run, execute_run
from chatter.workflow.template import describe_templates

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])
RunId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
log = get_logger(__name__)


def _owned(services: Services, run_id: str, caller: Principal) -> dict[str, Any]:
    """The run, if the caller started it (admins see every run); others' runs look unknown."""
    record = services.runs.get(run_id)
    if record is None or (caller.role != "admin" and record["context"].get("user") != caller.user):
        raise UnknownRunError(f"No run {run_id!r} of yours.")
    return record


def _status(record: dict[str, Any], api: ApiState) -> dict[str, Any]:
    with api.progress_lock:
        progress = api.progress.get(record["run_id"])
    return {
        "run_id": record["run_id"],
        "workflow": record["workflow"],
        "status": record["status"],
        "user": record["context"].get("user"),
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "progress": progress,
        "result": record["result"],
    }


@router.get("/templates")
def templates(caller: Caller, services: ServicesDep) -> dict[str, Any]:
    services.guard.authorize(
        context_of(caller), "read", workflow_resources("*"), action="workflow.list"
    )
    return {"templates": describe_templates()}


@router.get("")
def history(
    caller: Caller,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,  # SQLite's largest integer
) -> dict[str, Any]:
    """Your runs, newest first (an admin sees everyone's)."""
    user = None if caller.role == "admin" else caller.user
    return {"runs": services.runs.list(user=user, limit=limit, offset=offset)}


@router.post("", status_code=201)
def create(
    body: WorkflowCreate, caller: Caller, services: ServicesDep, api: ApiDep
) -> dict[str, Any]:
    """Check (permissions, template, customizations) and record a run; execute starts it."""
    run_id = create_run(services, body.template, body.customizations, context_of(caller))
    record = services.runs.get(run_id)
    assert record is not None
    return _status(record, api)


@router.post("/{run_id}/execute", status_code=202)
def execute(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> dict[str, Any]:
    """Start a created run in the background; poll GET /{run_id} for progress and result."""
    record = _owned(services, run_id, caller)
    if not services.runs.claim(run_id):
        raise RunStateError(f"Run {run_id} is {record['status']}; only a created run can execute.")

    def note(event: dict[str, Any]) -> None:
        with api.progress_lock:
            api.progress[run_id] = event

    def work() -> None:
        try:
            execute_run(services, run_id, progress=note, claimed=True)
        except Exception:  # the run store says how it ended; the log says why
            log.error("background_run_failed", run_id=run_id, exc_info=True)
            services.runs.set_status(run_id, "failed")

    api.submit_run(run_id, work)
    updated = services.runs.get(run_id)
    assert updated is not None
    return _status(updated, api)


@router.get("/{run_id}")
def status(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> dict[str, Any]:
    return _status(_owned(services, run_id, caller), api)


@router.post("/{run_id}/cancel")
def cancel(run_id: RunId, caller: Caller, services: ServicesDep, api: ApiDep) -> JSONResponse:
    """Stop a run: pending steps are skipped and running queries interrupted."""
    record = _owned(services, run_id, caller)
    services.guard.authorize(
        context_of(caller),
        "cancel",
        workflow_resources(record["workflow"]),
        action="workflow.cancel",
        run_id=run_id,
    )
    if record["status"] not in ("created", "running"):
        raise RunStateError(f"Run {run_id} already ended ({record['status']}).")
    stopped = cancel_run(services, run_id)
    updated = services.runs.get(run_id)
    assert updated is not None
    return JSONResponse({**_status(updated, api), "cancelled": stopped}, status_code=202)
