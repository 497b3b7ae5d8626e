"""Chat sessions: list, get (with its messages), delete, and export of an answer's table."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from chatter.api.deps import ApiDep, Caller, ServicesDep
from chatter.api.exports import MEDIA, ExportFormat, export, table_of
from chatter.api.openapi import EXPORT, errors

router = APIRouter(prefix="/api/v1/chat/sessions", tags=["sessions"], responses=errors(401, 422))
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("")
def list_sessions(
    caller: Caller,
    api: ApiDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Your sessions, most recently used first (idle ones expire)."""
    api.conversations.expire_idle(services)
    return {"sessions": services.sessions.for_user(caller.user, limit=limit, offset=offset)}


@router.get("/{session_id}", responses=errors(404))
def get_session(
    session_id: Id, caller: Caller, api: ApiDep, services: ServicesDep
) -> dict[str, Any]:
    store = services.sessions
    session = api.conversations.owned(services, caller, session_id)
    return {**session, "messages": store.messages(session_id)}


@router.delete("/{session_id}", responses=errors(404))
def delete_session(
    session_id: Id, caller: Caller, api: ApiDep, services: ServicesDep
) -> dict[str, Any]:
    api.conversations.delete(services, caller, session_id)
    return {"session_id": session_id, "deleted": True}


@router.get(
    "/{session_id}/messages/{message_id}/export",
    response_class=Response,
    responses={**EXPORT, **errors(400, 404)},
)
def export_message(
    session_id: Id,
    message_id: Id,
    caller: Caller,
    api: ApiDep,
    services: ServicesDep,
    format: Annotated[ExportFormat, Query()] = "csv",
    step: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """One answer's table (a workflow's: ``step`` picks which) as CSV, JSON or Parquet."""
    store = services.sessions
    api.conversations.owned(services, caller, session_id)
    message = store.message(session_id, message_id)
    columns, rows = table_of(message["answer"], step)
    name = f"chatter-{message_id[:12]}{'-' + step if step else ''}.{format}"
    return Response(
        export(columns, rows, format),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
