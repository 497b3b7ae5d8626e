"""Chat: questions in a session (optionally streamed), refinements and feedback."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from chatter.api.deps import ApiDep, Caller, ServicesDep
from chatter.api.errors import error_body, retry_after
from chatter.api.openapi import STREAM, errors
from chatter.api.schemas import ChatQuery, ChatResponse, Feedback, Refine
from chatter.errors import ChatterError
from chatter.logs import get_logger

router = APIRouter(prefix="/api/v1/chat", tags=["chat"], responses=errors(401))
log = get_logger(__name__)
_REFUSAL_STATUS = {"permission_denied": 403, "rate_limited": 429, "sensitive_content": 422}


def _reply(response: ChatResponse) -> JSONResponse:
    """200 for an answer or a question back; a refusal keeps its 4xx (the body still carries
    the session and message ids, and ``error``)."""
    error = response.error or {}
    status = _REFUSAL_STATUS.get(error.get("code", ""), 200)
    headers = retry_after(float(error["retry_after_s"])) if "retry_after_s" in error else None
    return JSONResponse(response.model_dump(mode="json"), status_code=status, headers=headers)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


@router.post(
    "/query",
    response_model=ChatResponse,
    responses={**STREAM, **errors(400, 403, 404, 409, 413, 422, 429, refusals=True)},
)
def chat_query(
    body: ChatQuery, caller: Caller, api: ApiDep, services: ServicesDep, request: Request
) -> Any:
    """Ask the analyst. With ``Accept: text/event-stream``: progress events, then ``answer``."""
    conversations = api.conversations
    if body.session_id:  # an unknown session is a plain 404, before any stream starts
        conversations.owned(services, caller, body.session_id)
    if "text/event-stream" not in request.headers.get("accept", ""):
        return _reply(conversations.turn(services, caller, body))

    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def work() -> None:
        try:
            done = conversations.turn(
                services, caller, body, progress=lambda e: events.put(("progress", e))
            )
            # A refusal is an error event (the stream's status is already 200), carrying the
            # whole document: its error, and the session and message it was recorded under.
            events.put(("error" if done.error else "answer", done.model_dump(mode="json")))
        except ChatterError as err:
            events.put(("error", err.to_dict()))
        except Exception as err:  # a bug: say so on the stream, log the rest
            log.error("chat_stream_failed", exc_info=True)
            events.put(("error", error_body("internal", f"Internal error ({type(err).__name__}).")))
        events.put(("done", {}))

    def stream() -> Iterator[str]:
        threading.Thread(target=work, daemon=True, name="chatter-chat-turn").start()
        while True:
            try:
                event, data = events.get(timeout=15)
            except queue.Empty:
                yield ": keep-alive\n\n"  # a comment line: proxies keep the stream open
                continue
            if event == "done":
                return
            yield _sse(event, data)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.post(
    "/refine",
    response_model=ChatResponse,
    responses=errors(400, 403, 404, 409, 413, 422, 429, refusals=True),
)
def chat_refine(body: Refine, caller: Caller, api: ApiDep, services: ServicesDep) -> Any:
    """Edit the structure of an answer's query (add_filter, change_limit, add_columns,
    change_sort, simplify) and answer again; the SQL is rebuilt from the edited query."""
    return _reply(api.conversations.refine(services, caller, body))


@router.post("/feedback", responses=errors(400, 404, 413, 422))
def chat_feedback(
    body: Feedback, caller: Caller, api: ApiDep, services: ServicesDep
) -> dict[str, Any]:
    return api.conversations.feedback(services, caller, body)
