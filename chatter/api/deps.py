"""Annotated dependencies: the data directory's services, the API's own state (keys,
conversations, background runs), and the caller behind the API key. Tests may override
``get_services`` or ``get_api_state`` (``app.dependency_overrides``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chatter.api.conversation import Conversations
from chatter.api.keys import KeyRing, Principal
from chatter.lru import LruDict
from chatter.services import Services

#: Background runs whose last progress event is kept (GET /workflows/{id} shows it; a run's
#: status and result are in the run store, whatever this forgets).
PROGRESS_KEPT = 1024


@dataclass
class ApiState:
    """What lives as long as the app, besides the services. Nothing in it grows with the
    number of runs served: ``running`` holds the unfinished ones, ``progress`` the latest."""

    keys: KeyRing
    conversations: Conversations
    executor: ThreadPoolExecutor
    #: Last progress event of the PROGRESS_KEPT background runs started here most recently
    #: (run id -> event).
    progress: LruDict[str, dict[str, Any]] = field(default_factory=lambda: LruDict(PROGRESS_KEPT))
    progress_lock: threading.Lock = field(default_factory=threading.Lock)
    #: Background runs submitted and not finished (run id -> their future).
    running: dict[str, Future[None]] = field(default_factory=dict)

    def submit_run(self, run_id: str, work: Callable[[], None]) -> None:
        future = self.executor.submit(work)
        with self.progress_lock:
            self.running[run_id] = future
        future.add_done_callback(lambda _: self._finished(run_id))

    def _finished(self, run_id: str) -> None:
        with self.progress_lock:
            self.running.pop(run_id, None)

    def stop_queued_runs(self) -> list[str]:
        """Cancel the runs that have not started; their ids."""
        with self.progress_lock:
            queued = list(self.running.items())
        return [run_id for run_id, future in queued if future.cancel()]


def get_services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def get_api_state(request: Request) -> ApiState:
    found: ApiState = request.app.state.api
    return found


#: The bearer scheme of the OpenAPI document; a missing or malformed header is no credentials
#: (None), so the key ring answers the 401 in the API's own error body.
bearer = HTTPBearer(
    scheme_name="bearerAuth",
    description="An API key of CHATTER_API_KEYS (or the one `chatter serve` prints).",
    auto_error=False,
)


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    """The caller of ``Authorization: Bearer <key>`` (401 without a known key; an oversized
    header is just an unknown key, not a malformed request)."""
    token = credentials.credentials if credentials else None
    if len(request.headers.get("authorization", "")) > 1024:
        token = "\x00"  # over-long: compared like any other key, and unknown
    return get_api_state(request).keys.who(token)


def query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route (or a dependency) takes, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= query_names(sub)
    return names


def caller(request: Request, who: Annotated[Principal, Depends(principal)]) -> Principal:
    """The authenticated caller (401 first), of a request whose query string names only the
    route's parameters: a typo like ``?ofset=10`` is a 422 naming the valid ones, as an unknown
    body field is, never silently ignored."""
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        known = query_names(route.dependant)
        unknown = sorted({name for name in request.query_params if name not in known})
        if unknown:
            takes = ", ".join(sorted(known)) or "no query parameters"
            raise RequestValidationError(
                [
                    {"type": "extra_forbidden", "loc": ("query", name[:64]),
                     "msg": f"unknown query parameter (this route takes {takes})"}
                    for name in unknown
                ]
            )  # fmt: skip
    return who


ServicesDep = Annotated[Services, Depends(get_services)]
ApiDep = Annotated[ApiState, Depends(get_api_state)]
Caller = Annotated[Principal, Depends(caller)]
