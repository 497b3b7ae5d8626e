"""Runs whose process is gone: found at start-up and every so often after, each is taken over
by exactly one live process and ends, or goes on from its checkpoint.

- A cancel was asked of it: it ends ``cancelled``.
- Nobody is waiting on it (a background run): it resumes from its checkpoint, or starts if it
  never did, as its user's *current* role (a user without a key any more, or whose role may no
  longer run it, ends it ``failed``, saying why), at most ``MAX_ATTEMPTS`` times.
- Someone was (a chat turn, a CLI run): that caller is gone, so it ends ``failed`` with the
  reason "interrupted by a server stop".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chatter.context import Context, context_from_dict
from chatter.errors import ChatterError
from chatter.logs import get_logger
from chatter.services import Services
from chatter.workflow.run_owner import STALE_S, is_orphan, process_owner
from chatter.workflow.runs import STOPPED, authorize_workflow, prepare
from chatter.workflow.template import Template

log = get_logger(__name__)

#: Takeovers after which a run that keeps losing its process is given up on (it may be what
#: brings the process down).
MAX_ATTEMPTS = 3
RoleOf = Callable[[str], str | None]


@dataclass
class Recovered:
    """What one sweep did: the runs to resume (with the context to run them as), and the ids
    of those it ended."""

    resume: list[tuple[str, Context]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def recover_runs(services: Services, role_of: RoleOf, *, stale_s: float = STALE_S) -> Recovered:
    """Take over every orphaned unfinished run and settle it; the resumable ones are returned
    for the caller to run (in its background pool) with ``resume_run(..., held=True)``."""
    out = Recovered()
    store, me = services.runs, process_owner()
    for record in store.unfinished():
        run_id = record["run_id"]
        if not is_orphan(record, stale_s=stale_s) or not store.take_over(
            run_id, record["owner"], me
        ):
            continue  # alive elsewhere, or another process took it first
        if record["cancel_requested"]:
            store.set_status(run_id, "cancelled", reason="cancelled while its server was down")
            out.cancelled.append(run_id)
            continue
        verdict = _resumable(services, record, role_of)
        if isinstance(verdict, str):
            store.set_status(run_id, "failed", reason=verdict)
            out.failed.append(run_id)
        else:
            out.resume.append((run_id, verdict))
        log.info(
            "run_recovered",
            run_id=run_id,
            was=record["owner"],
            outcome="failed" if isinstance(verdict, str) else "resume",
            attempts=record["attempts"] + 1,
        )
    return out


def _resumable(services: Services, record: dict[str, Any], role_of: RoleOf) -> Context | str:
    """The context to resume the run as, or why it cannot be."""
    if not record["background"]:
        return f"{STOPPED} (the caller waiting on it was gone)"
    attempts = record["attempts"] + 1
    if attempts > MAX_ATTEMPTS:
        return f"{STOPPED} {attempts} times; not resumed again"
    ctx = context_from_dict(record["context"])
    role = role_of(ctx.user)
    if role is None:
        return f"{STOPPED}, and its user {ctx.user!r} has no API key any more"
    ctx = dataclasses.replace(ctx, role=role)
    try:
        template = Template.model_validate(record["template"])
        prepare(template, None, services.model(ctx.semantic_model))
        authorize_workflow(
            services, ctx, template.name, record["run_id"], None, action="workflow.resume"
        )
    except ChatterError as err:
        return f"{STOPPED}, and it cannot resume: {err.message}"
    except ValidationError as err:
        return f"{STOPPED}, and its template is no longer valid: {err.errors()[0]['msg']}"
    return ctx
