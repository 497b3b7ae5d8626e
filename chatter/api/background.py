"""Background runs of the API: started by execute or by recovery, in the app's pool; swept for
orphans (runs whose process is gone) at start-up and every ``SWEEP_S``; let go of gracefully at
a stop, so the next server (or another worker) resumes them."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any

from chatter.api.deps import ApiState
from chatter.api.keys import KeyRing
from chatter.context import Context
from chatter.errors import ChatterError
from chatter.governance.permissions import ROLE_DEFAULTS
from chatter.logs import get_logger
from chatter.run_control import ServerStopping
from chatter.services import Services
from chatter.workflow.recovery import recover_runs
from chatter.workflow.run_owner import process_owner
from chatter.workflow.runs import execute_run, resume_run

log = get_logger(__name__)

#: How often a server looks for runs other processes left behind.
SWEEP_S = 15.0
#: Built-in roles, least first; other roles (only what is granted to them) come before.
_RANK = {role: rank for rank, role in enumerate(ROLE_DEFAULTS)}


def role_of(keys: KeyRing, user: str) -> str | None:
    """``user``'s role by the keys now configured (None: no key). A user with keys of several
    roles gets the least of them, as nobody can tell which key would have run the run."""
    roles = {p.role for p in keys.keys.values() if p.user == user}
    if not roles:
        return None
    return min(roles, key=lambda r: (_RANK.get(r, -1), r))


def run_in_background(
    services: Services, api: ApiState, run_id: str, ctx: Context, *, resume: bool = False
) -> None:
    """Run a queued run (``resume``: one this process took over) in the pool; its last
    progress event is kept for GET /workflows/{id}."""

    def note(event: dict[str, Any]) -> None:
        with api.progress_lock:
            api.progress[run_id] = event
        if event.get("event") in ("step_finished", "step_skipped"):  # for the other workers
            services.runs.set_progress(run_id, event)

    def work() -> None:
        try:
            if resume:
                resume_run(services, run_id, note, as_ctx=ctx, held=True)
            else:
                execute_run(services, run_id, progress=note, claimed=True, as_ctx=ctx)
        except ServerStopping:
            pass  # let go: the next server resumes it
        except ChatterError as err:  # cancelled before it started, refused: the store says
            log.info("background_run_ended", run_id=run_id, why=err.message)
        except Exception:  # the run store says how it ended; the log says why
            log.error("background_run_failed", run_id=run_id, exc_info=True)

    api.submit_run(run_id, work)


def sweep(services: Services, api: ApiState) -> None:
    """Settle the runs other processes left; resume the resumable ones here."""
    found = recover_runs(services, lambda user: role_of(api.keys, user))
    for run_id, ctx in found.resume:
        run_in_background(services, api, run_id, ctx, resume=True)
    if found.resume or found.failed or found.cancelled:
        log.info(
            "runs_recovered",
            resumed=len(found.resume),
            failed=len(found.failed),
            cancelled=len(found.cancelled),
        )


class Sweeper:
    """The thread that sweeps every ``interval_s`` until ``stop``."""

    def __init__(self, services: Services, api: ApiState, interval_s: float = SWEEP_S) -> None:
        self._done = threading.Event()

        def loop() -> None:
            while not self._done.wait(interval_s):
                try:
                    sweep(services, api)
                except Exception:  # a locked store: next time
                    log.warning("sweep_failed", exc_info=True)

        self._thread = threading.Thread(target=loop, daemon=True, name="chatter-sweeper")
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(5)


def stop_gracefully(services: Services, api: ApiState, grace_s: float) -> None:
    """Take no new steps; let steps going on finish within ``grace_s``; then interrupt what is
    left. Every background run not finished is let go of (``interrupted``, no owner), so it
    resumes on the next start, its finished steps kept."""
    services.controls.stopping.set()
    owner = process_owner()
    for run_id in api.stop_queued_runs():
        services.runs.release(run_id, owner)
    with api.progress_lock:
        going = list(api.running.values())
    _, late = concurrent.futures.wait(going, timeout=grace_s)
    if late:
        services.controls.abandon.set()
        services.warehouses.interrupt(services.controls.threads())
        concurrent.futures.wait(late, timeout=5.0)
    for run_id in services.controls.active():  # a step that ignored the interrupt
        services.runs.release(run_id, owner)
    api.executor.shutdown(wait=False, cancel_futures=True)
    log.info("stopped", runs_left=len(late), grace_s=grace_s)
