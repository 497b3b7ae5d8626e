"""The bodies of the OpenAI-compatible routes (``/v1/chat/completions``, ``/v1/models``).

A request says in its schema everything it refuses, so the OpenAPI document is the truth: a
parameter that would change what an OpenAI client expects back (``n`` > 1, tools, a JSON
response format, log probabilities, audio) is refused with a message saying why; parameters
that only tune a language model's sampling (``temperature``, ``top_p``, ``max_tokens``, ...)
are accepted and ignored, since the analyst's answer is computed, not sampled. What the
schema cannot say (the last message must be the user's, the model must be one served) is a
400 or a 404 from the route."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chatter.api.schemas import JsonValue, Request
from chatter.sensitive import redact_text

#: The one model served: the analyst itself (no language model's name).
MODEL_ID = "chatter"
#: The seeds taken: whole numbers a JSON parser reads exactly, as floats too (2**63 - 1 is not:
#: as a float it rounds up past the bound).
_SEED_MIN, _SEED_MAX = -(2**62), 2**62
_MAX_TEXT = 100_000  # one message of a resent history (an earlier answer's markdown included)


def _refuse_unless(value: Any, allowed: tuple[Any, ...], field: str, why: str) -> Any:
    """A before-validator's check with a message saying why, instead of pydantic's."""
    if value not in allowed:
        raise PydanticCustomError(
            "unsupported",
            "{field}={value} is not supported: {why}",
            {"field": field, "value": redact_text(repr(value))[:60], "why": why},
        )
    return value


class TextPart(Request):
    """A text part of a message's content (images, audio and files are not read)."""

    type: Literal["text"]
    text: str = Field(max_length=_MAX_TEXT)


class ChatMessage(Request):
    """One message of the conversation as the client keeps it. System and developer messages
    are accepted and not used (the analyst has its own instructions); assistant messages are
    read only for the session marker of an earlier answer."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = Field(default=None, max_length=_MAX_TEXT)
    name: str | None = Field(default=None, max_length=256)
    # What the openai client echoes back when a whole earlier response message is resent.
    refusal: str | None = Field(default=None, max_length=_MAX_TEXT)
    tool_calls: list[JsonValue] | None = Field(default=None, max_length=0)
    function_call: None = None
    audio: None = None
    annotations: list[JsonValue] | None = Field(default=None, max_length=100)

    @field_validator("role", mode="before")
    @classmethod
    def _no_tool_messages(cls, value: Any) -> Any:
        return _refuse_unless(
            value,
            ("system", "developer", "user", "assistant"),
            "role",
            "tool and function messages answer tool calls, and the analyst makes none "
            "(roles: system, developer, user, assistant)",
        )

    @field_validator("content", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        if isinstance(value, list):
            for part in value:
                kind = part.get("type") if isinstance(part, dict) else None
                _refuse_unless(
                    kind, ("text",), "content part type", "the analyst reads text parts only"
                )
        return value

    @field_validator("tool_calls", mode="before")
    @classmethod
    def _no_tool_calls(cls, value: Any) -> Any:
        if value:
            raise PydanticCustomError(
                "unsupported", "tool_calls are not supported: the analyst calls no tools of yours"
            )
        return value

    def text(self) -> str:
        """The message's text (its text parts joined)."""
        if isinstance(self.content, list):
            return "\n".join(part.text for part in self.content)
        return self.content or ""


class StreamOptions(Request):
    #: Send a last chunk with the usage block (and no choices), as OpenAI does.
    include_usage: bool = False
    include_obfuscation: bool | None = None  # accepted and ignored: nothing is obfuscated


class TextFormat(Request):
    type: Literal["text"]

    @field_validator("type", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        return _refuse_unless(
            value, ("text",), "response_format.type", "the answer is markdown text, not JSON"
        )


Unit = Annotated[float, Field(ge=0, le=2)]
Penalty = Annotated[float, Field(ge=-2, le=2)]
Tokens = Annotated[int, Field(ge=1, le=2**31 - 1)]
ShortText = Annotated[str, Field(max_length=256)]
Metadata = dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]]

#: Parameters that would change what comes back, and why the analyst cannot honour them.
_UNSUPPORTED = {
    "n": "the analyst gives one answer per question (n must be 1)",
    "tools": "the analyst calls no tools of yours (tools must be empty)",
    "functions": "the analyst calls no functions of yours (functions must be empty)",
    "tool_choice": "the analyst calls no tools of yours (tool_choice may be none or auto)",
    "function_call": "the analyst calls no functions of yours (function_call may be none or auto)",
    "logprobs": "the answer is computed, not sampled: it has no log probabilities",
    "top_logprobs": "the answer is computed, not sampled: it has no log probabilities",
    "modalities": "the answer is text only (modalities may be ['text'])",
    "audio": "the answer is text only",
}


#: The values of the refused parameters that change nothing.
_HARMLESS: dict[str, tuple[Any, ...]] = {
    "n": (None, 1),
    "tools": (None, []),
    "functions": (None, []),
    "tool_choice": (None, "none", "auto"),
    "function_call": (None, "none", "auto"),
    "logprobs": (None, False),
    "top_logprobs": (None, 0),
    "modalities": (None, ["text"], []),
    "audio": (None,),
}


class ChatCompletionRequest(Request):
    """``POST /v1/chat/completions``: the OpenAI chat body, as far as it applies."""

    model: str = Field(min_length=1, max_length=200, examples=[MODEL_ID])
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    # Refused unless harmless (the schema says what is allowed; _UNSUPPORTED says why).
    n: int | None = Field(default=None, ge=1, le=1)
    tools: list[JsonValue] | None = Field(default=None, max_length=0)
    functions: list[JsonValue] | None = Field(default=None, max_length=0)
    tool_choice: Literal["none", "auto"] | None = None
    function_call: Literal["none", "auto"] | None = None
    logprobs: Literal[False] | None = None
    top_logprobs: Literal[0] | None = None
    modalities: list[Literal["text"]] | None = Field(default=None, max_length=1)
    audio: None = None
    response_format: TextFormat | None = None
    # Accepted and ignored: they tune a language model's sampling, and nothing is sampled.
    temperature: Unit | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    max_tokens: Tokens | None = None
    max_completion_tokens: Tokens | None = None
    seed: Annotated[int, Field(ge=_SEED_MIN, le=_SEED_MAX)] | None = None
    stop: ShortText | Annotated[list[ShortText], Field(max_length=4)] | None = None
    logit_bias: dict[str, Annotated[float, Field(ge=-100, le=100)]] | None = Field(
        default=None, max_length=300
    )
    parallel_tool_calls: bool | None = None
    reasoning_effort: ShortText | None = None
    verbosity: ShortText | None = None
    service_tier: ShortText | None = None
    store: bool | None = None
    prompt_cache_key: ShortText | None = None
    safety_identifier: ShortText | None = None
    #: The end user as the client names them: ignored, never trusted (the caller is the API
    #: key's user).
    user: ShortText | None = None
    #: ``{"chatter_session": "<session id>"}`` continues that session of the caller's; other
    #: keys are ignored.
    metadata: Metadata | None = Field(default=None, max_length=16)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        """An unknown field named with the ones this route takes (a typo is never ignored)."""
        if isinstance(data, dict):
            unknown = sorted(redact_text(str(k))[:64] for k in data if k not in cls.model_fields)
            if unknown:
                raise PydanticCustomError(
                    "unknown_field",
                    "unknown field(s) {unknown} (this route takes {known})",
                    {"unknown": ", ".join(unknown), "known": ", ".join(cls.model_fields)},
                )
        return data

    @field_validator(*_UNSUPPORTED, mode="before")
    @classmethod
    def _harmless(cls, value: Any, info: ValidationInfo) -> Any:
        """A parameter that would change the answer's shape, refused saying why."""
        field = str(info.field_name)
        return _refuse_unless(value, _HARMLESS[field], field, _UNSUPPORTED[field])


# ---- responses -------------------------------------------------------------------------------


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    """No tokens: the answer is computed by SQL and statistics, not generated. The three
    OpenAI counts are 0; ``llm_tokens`` counts what an optional LLM spent (CHATTER_LLM_MODEL)
    reading the question or rewording insights."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    llm_tokens: int = 0


class ChatterTurn(BaseModel):
    """Extension: the chatter session and message this answer was recorded under (the HTTP
    API's ``/api/v1/chat/sessions/{session_id}`` shows them)."""

    session_id: str
    message_id: str
    message_type: Literal["answer", "clarification", "refusal"]
    route: str | None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: str
    chatter: ChatterTurn


class ModelCard(BaseModel):
    """The analyst as a model: ``created`` is 0, since it has no release date of its own."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "chatter"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
