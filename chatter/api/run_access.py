"""Workflow runs as a caller of the API sees them, whatever the surface (the HTTP routes, the MCP
tools): create, start in the background, read, cancel. Each is checked by the guard (audited)
and shows only the caller's own runs (an admin's: every run)."""

from __future__ import annotations

import dataclasses
from typing import Any

from chatter.api.background import role_of, run_in_background
from chatter.api.conversation import context_of
from chatter.api.deps import ApiState
from chatter.api.keys import Principal
from chatter.context import Context, context_from_dict
from chatter.errors import PermissionDeniedError, RunStateError, UnknownRunError
from chatter.governance.permissions import workflow_resources
from chatter.services import Services
from chatter.stores.runs import ENDED
from chatter.workflow.run_owner import process_owner
from chatter.workflow.runs import authorize_workflow, cancel_run, create_run
from chatter.workflow.template import describe_templates


def templates(services: Services, caller: Principal) -> list[dict[str, Any]]:
    """The templates with their steps, for a caller who may read workflows."""
    services.guard.authorize(
        context_of(caller), "read", workflow_resources("*"), action="workflow.list"
    )
    return describe_templates()


def owned_run(services: Services, run_id: str, caller: Principal) -> dict[str, Any]:
    """The run, if the caller started it (admins see every run); others' runs look unknown."""
    record = services.runs.get(run_id)
    if record is None or (caller.role != "admin" and record["context"].get("user") != caller.user):
        raise UnknownRunError(f"No run {run_id!r} of yours.")
    return record


def run_status(record: dict[str, Any], api: ApiState) -> dict[str, Any]:
    """A run's status document: its state, latest progress and (once ended) result."""
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


def current_status(services: Services, api: ApiState, run_id: str) -> dict[str, Any]:
    record = services.runs.get(run_id)
    assert record is not None  # runs are never deleted
    return run_status(record, api)


def create(
    services: Services,
    api: ApiState,
    template: str,
    customizations: dict[str, Any] | None,
    ctx: Context,
) -> dict[str, Any]:
    """Check (permissions, template, customizations) and record a run; ``execute`` starts it."""
    run_id = create_run(services, template, customizations, ctx)
    return current_status(services, api, run_id)


def execute(services: Services, api: ApiState, run_id: str, caller: Principal) -> dict[str, Any]:
    """Start a created run in the background (poll its status for progress and result). It
    runs as its user's role now (not when it was created): the caller's, or for an admin
    starting someone else's run, that user's current one."""
    record = owned_run(services, run_id, caller)
    ctx = runner_context(record, caller, api)
    template = record["workflow"]
    authorize_workflow(services, ctx, template, run_id, None, action="workflow.execute")
    if not services.runs.claim(run_id, process_owner(), background=True):
        raise RunStateError(f"Run {run_id} is {record['status']}; only a created run can execute.")
    run_in_background(services, api, run_id, ctx)
    return current_status(services, api, run_id)


def runner_context(record: dict[str, Any], caller: Principal, api: ApiState) -> Context:
    """The run's context as whoever it runs for is now."""
    ctx = context_from_dict(record["context"])
    if ctx.user == caller.user:
        return dataclasses.replace(ctx, role=caller.role)
    role = role_of(api.keys, ctx.user)
    if role is None:
        raise PermissionDeniedError(f"User {ctx.user!r} of run {record['run_id']} has no API key.")
    return dataclasses.replace(ctx, role=role)


def cancel(services: Services, api: ApiState, run_id: str, caller: Principal) -> dict[str, Any]:
    """Stop a run; it ends ``cancelled``: one not started at once, a running one once its
    steps going on stop (pending steps are skipped, running queries interrupted). The status
    says with ``cancelled`` whether this call stopped it."""
    record = owned_run(services, run_id, caller)
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
    return {**current_status(services, api, run_id), "cancelled": stopped}
