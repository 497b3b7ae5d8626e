"""Annotated dependencies: the app's services and the caller behind the API key."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from chatter.api.conversation import Conversations
from chatter.api.keys import KeyRing, Principal
from chatter.settings import Settings


@dataclass
class Services:
    settings: Settings
    keys: KeyRing
    conversations: Conversations
    executor: ThreadPoolExecutor
    #: Last progress event of each background run started here (run id -> event).
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)
    progress_lock: threading.Lock = field(default_factory=threading.Lock)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
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
    return services(request).keys.who(token)


ServicesDep = Annotated[Services, Depends(services)]
Caller = Annotated[Principal, Depends(principal)]
