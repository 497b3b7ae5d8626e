"""OpenAI-compatible chat (``POST /v1/chat/completions``, ``GET /v1/models``), so chat front ends
that speak the OpenAI API can talk to the analyst. A request is one turn of a chatter session
(``Conversations.turn``: the same sessions, redaction, permissions, rate limits and audit as
``POST /api/v1/chat/query``); the answer is markdown built from the answer document."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, StreamingResponse

from chatter.analyst.refusal import REFUSALS
from chatter.api.conversation import context_of
from chatter.api.deps import ApiDep, ApiState, Caller, ServicesDep
from chatter.api.keys import Principal
from chatter.api.openai_errors import OpenAIRoute, openai_error_body, refusal_response
from chatter.api.openai_markdown import answer_markdown
from chatter.api.openai_schemas import (
    MODEL_ID,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    ChatterTurn,
    Choice,
    ModelCard,
    ModelList,
    Usage,
)
from chatter.api.openai_sessions import SESSION_PATTERN, SessionChoice, question_of, session_of
from chatter.api.openapi import Responses, errors
from chatter.api.schemas import ChatQuery, ChatResponse
from chatter.errors import BadInputError, ChatterError
from chatter.logs import get_logger
from chatter.report_tables import measure_formats
from chatter.sensitive import redact_text
from chatter.services import Services
from chatter.stores.sessions import UnknownSessionError
from chatter.version import __version__

router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute, responses=errors(401))
log = get_logger(__name__)
#: Seconds between keep-alive comments while the analyst works on a streamed answer.
KEEP_ALIVE_S = 15.0
_REFUSAL_STATUS = {cls.code: cls.http_status for cls in REFUSALS}
_FINGERPRINT = f"chatter-{__version__}"

SessionHeader = Annotated[
    str | None,
    Header(
        alias="X-Chatter-Session",
        pattern=SESSION_PATTERN,
        max_length=64,
        description="The chatter session to continue (else metadata.chatter_session, else "
        "the marker of the latest answer in the history, else a new session).",
    ),
]

_STREAM: Responses = {
    200: {
        "description": "The completion (JSON), or with `stream: true` server-sent events: "
        "`chat.completion.chunk` objects, keep-alive comments while the analyst works, "
        "and `data: [DONE]`.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


class UnknownModelError(BadInputError):
    code = "model_not_found"
    http_status = 404
    param = "model"


class NamedSessionUnknownError(UnknownSessionError):
    """An unknown session, with the request field that named it (the error's ``param``)."""

    def __init__(self, message: str, param: str | None) -> None:
        super().__init__(message)
        self.param = param


def _model_card() -> ModelCard:
    return ModelCard(id=MODEL_ID)


def _served(model: str) -> None:
    if model != MODEL_ID:
        raise UnknownModelError(
            f"The model {redact_text(model)[:200]!r} does not exist here; this server has: {MODEL_ID} "
            "(the chatter analyst)."
        )


@router.get("/models", response_model=ModelList)
def list_models(caller: Caller) -> ModelList:
    """The analyst, as the one model served."""
    return ModelList(data=[_model_card()])


@router.get("/models/{model}", response_model=ModelCard, responses=errors(404, 422))
def get_model(model: str, caller: Caller) -> ModelCard:
    _served(model)
    return _model_card()


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={**_STREAM, **errors(400, 403, 404, 409, 413, 422, 429)},
)
def chat_completions(
    body: ChatCompletionRequest,
    caller: Caller,
    api: ApiDep,
    services: ServicesDep,
    session_header: SessionHeader = None,
) -> Any:
    """One turn of the analyst in a chatter session; the answer as markdown. Sampling
    parameters (temperature, top_p, max_tokens, ...) are accepted and ignored."""
    _served(body.model)
    question = question_of(body)
    choice = session_of(body, session_header)
    if choice.session_id is not None:  # unknown or another user's: 404 before any stream
        _owned(services, api, caller, choice)
    turn = ChatQuery(message=question, session_id=choice.session_id)
    cap = services.settings.api_result_rows
    formats = _formats(services, caller)

    def run() -> ChatResponse:
        return api.conversations.turn(services, caller, turn)

    if not body.stream:
        response = run()
        if response.error:
            return refusal_response(response.error, _refusal_status(response.error))
        completion = _completion(response, answer_markdown(response, formats, cap), body.model)
        return JSONResponse(
            completion.model_dump(mode="json"), headers={"X-Chatter-Session": response.session_id}
        )
    usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(
        _stream(run, formats, cap, body.model, include_usage=usage),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


def _owned(services: Services, api: ApiState, caller: Principal, choice: SessionChoice) -> None:
    assert choice.session_id is not None
    try:
        api.conversations.owned(services, caller, choice.session_id)
    except UnknownSessionError:
        raise NamedSessionUnknownError(
            f"No session {choice.session_id!r} of yours (named by {choice.describe()}); it may "
            "have expired. Start a new conversation.",
            choice.param(),
        ) from None


def _formats(services: Services, caller: Principal) -> dict[str, str]:
    """The display format of each measure of the model the caller's answers use."""
    governed = services.guard.governed(context_of(caller))
    return measure_formats(services.model(governed.semantic_model))


def _refusal_status(error: dict[str, Any]) -> int:
    return _REFUSAL_STATUS.get(str(error.get("code")), 403)


def _usage(response: ChatResponse) -> Usage:
    tokens = ((response.answer or {}).get("metrics") or {}).get("llm_tokens") or 0
    return Usage(llm_tokens=int(tokens))


def _turn(response: ChatResponse) -> ChatterTurn:
    return ChatterTurn(
        session_id=response.session_id,
        message_id=response.message_id,
        message_type=response.message_type,
        route=(response.route or {}).get("workflow"),
    )


def _completion(response: ChatResponse, content: str, model: str) -> ChatCompletion:
    return ChatCompletion(
        id=f"chatcmpl-{response.message_id}",
        created=int(time.time()),
        model=model,
        choices=[Choice(message=AssistantMessage(content=content))],
        usage=_usage(response),
        system_fingerprint=_FINGERPRINT,
        chatter=_turn(response),
    )


# ---- streaming -------------------------------------------------------------------------------


def _data(payload: Any) -> str:
    return f"data: {json.dumps(payload, default=str)}\n\n"


def _chunk(
    chunk_id: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": _FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def _in_background(work: Callable[[], ChatResponse]) -> Future[ChatResponse]:
    """``work()`` on its own thread: a turn a client stops waiting for still ends and is
    recorded, as on the chat API."""
    future: Future[ChatResponse] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as err:  # handed to the stream, which reports it
            future.set_exception(err)

    threading.Thread(target=run, daemon=True, name="chatter-openai-turn").start()
    return future


def _stream(
    work: Callable[[], ChatResponse],
    formats: dict[str, str],
    cap: int,
    model: str,
    *,
    include_usage: bool,
) -> Iterator[str]:
    """The role first (as OpenAI sends it), keep-alive comments while the analyst works, the
    answer in paragraphs, the finish, the usage if asked, then ``[DONE]``. A refusal or an
    error after the stream began is an ``error`` payload (the openai client raises it)."""
    created = int(time.time())
    chunk_id = f"chatcmpl-{uuid.uuid4().hex}"  # the message id is known only at the end
    yield _data(_chunk(chunk_id, created, model, {"role": "assistant", "content": ""}))
    future = _in_background(work)
    while True:
        try:
            response = future.result(timeout=KEEP_ALIVE_S)
            break
        except FutureTimeout:
            yield ": keep-alive\n\n"  # a comment line: proxies keep the stream open
        except ChatterError as err:
            status = err.http_status if err.bad_input else 500
            message = redact_text(err.message)  # as the API's handler does
            yield _data(openai_error_body(status, err.code, message, getattr(err, "param", None)))
            yield "data: [DONE]\n\n"
            return
        except Exception as err:  # a bug: say so on the stream, log the rest
            log.error("openai_stream_failed", exc_info=True)
            yield _data(
                openai_error_body(500, "internal", f"Internal error ({type(err).__name__}).")
            )
            yield "data: [DONE]\n\n"
            return
    if response.error:
        error = response.error
        status = _refusal_status(error)
        yield _data(openai_error_body(status, str(error.get("code")), str(error.get("message"))))
        yield "data: [DONE]\n\n"
        return
    for piece in _paragraphs(answer_markdown(response, formats, cap)):
        yield _data(_chunk(chunk_id, created, model, {"content": piece}))
    turn = _turn(response).model_dump()
    yield _data({**_chunk(chunk_id, created, model, {}, finish="stop"), "chatter": turn})
    if include_usage:
        usage = {**_chunk(chunk_id, created, model, {}), "choices": []}
        yield _data({**usage, "usage": _usage(response).model_dump(), "chatter": turn})
    yield "data: [DONE]\n\n"


def _paragraphs(text: str) -> Iterator[str]:
    """The markdown in pieces that join back to it exactly (each paragraph with its break)."""
    pieces = text.split("\n\n")
    for n, piece in enumerate(pieces):
        yield piece + ("\n\n" if n < len(pieces) - 1 else "")
