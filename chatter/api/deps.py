"""Annotated dependencies: the data directory's services, the API's own state (keys,
conversations, background runs), and the caller behind the API key. Tests may override
``get_services`` or ``get_api_state`` (``app.dependency_overrides``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from chatter.api.conversation import Conversations
from chatter.api.keys import KeyRing, Principal
from chatter.services import Services


@dataclass
class ApiState:
    """What lives as long as the app, besides the services."""

    keys: KeyRing
    conversations: Conversations
    executor: ThreadPoolExecutor
    #: Last progress event of each background run started here (run id -> event).
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)
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


def principal(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """The caller of ``Authorization: Bearer <key>`` (401 without a known key; an oversized
    header is just an unknown key, not a malformed request)."""
    token = None
    if authorization and len(authorization) <= 1024:
        scheme, _, value = authorization.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    elif authorization:
        token = "\x00"  # over-long: compared like any other key, and unknown
    return get_api_state(request).keys.who(token)


ServicesDep = Annotated[Services, Depends(get_services)]
ApiDep = Annotated[ApiState, Depends(get_api_state)]
Caller = Annotated[Principal, Depends(principal)]
