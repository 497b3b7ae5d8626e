"""Which chatter session an OpenAI-style request continues, and what it asks.

OpenAI clients keep the conversation themselves and resend all of it each turn; chatter keeps
it in a session (the analyst's checkpointed thread, in the shared state store). A request
names its session, first found wins:

1. the ``X-Chatter-Session`` header;
2. ``metadata.chatter_session`` in the body;
3. the marker ``<!-- chatter-session: ID -->`` that ends every answer, in the latest assistant
   message of the resent history that carries one (front ends resend answers as they got them,
   and an HTML comment is not shown when the markdown is rendered);
4. none: a new session, its first question the last user message (earlier messages of a
   conversation begun elsewhere are not replayed).

Nothing is kept in the process: any worker finds the session in the store, and the store
answers only the caller's own sessions (another user's id is unknown, 404)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from chatter.api.openai_schemas import ChatCompletionRequest
from chatter.errors import BadInputError
from chatter.sensitive import redact_text

SESSION_HEADER = "X-Chatter-Session"
METADATA_KEY = "chatter_session"
SESSION_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_MARKER = re.compile(r"<!-- chatter-session: ([A-Za-z0-9_-]{1,64}) -->")
#: The longest question a turn takes (``chatter.api.schemas.ChatQuery.message``).
MAX_QUESTION = 4000

Source = Literal["header", "metadata", "marker", "new"]


class InvalidMessagesError(BadInputError):
    """The conversation cannot be read as a question (the schema cannot say it)."""

    code = "invalid_messages"
    param = "messages"


class InvalidSessionIdError(BadInputError):
    code = "invalid_session_id"
    param = f"metadata.{METADATA_KEY}"


def session_marker(session_id: str) -> str:
    """What an answer ends with so the next request of the conversation finds its session."""
    return f"<!-- chatter-session: {session_id} -->"


@dataclass(frozen=True)
class SessionChoice:
    #: None: start a new session.
    session_id: str | None
    source: Source

    def param(self) -> str | None:
        """The request field that named the session (OpenAI's ``param`` of an error)."""
        named = {"header": SESSION_HEADER, "metadata": f"metadata.{METADATA_KEY}"}
        return named.get(self.source, "messages" if self.source == "marker" else None)

    def describe(self) -> str:
        """Where the id came from, for an error message."""
        return {
            "header": f"the {SESSION_HEADER} header",
            "metadata": f"metadata.{METADATA_KEY}",
            "marker": "the chatter-session marker of an earlier answer in the conversation",
            "new": "a new conversation",
        }[self.source]


def session_of(body: ChatCompletionRequest, header: str | None) -> SessionChoice:
    """The session the request continues (``header``: the X-Chatter-Session value, already
    checked against SESSION_PATTERN by the route's schema)."""
    if header:
        return SessionChoice(header, "header")
    named = (body.metadata or {}).get(METADATA_KEY)
    if named is not None:
        if not re.match(SESSION_PATTERN, named):
            raise InvalidSessionIdError(
                f"metadata.{METADATA_KEY} {redact_text(named)[:64]!r} is not a session id (1 to 64 "
                "letters, digits, '_' or '-')."
            )
        return SessionChoice(named, "metadata")
    for message in reversed(body.messages[:-1]):
        if message.role == "assistant":
            found = _MARKER.findall(message.text())
            if found:
                return SessionChoice(found[-1], "marker")
    return SessionChoice(None, "new")


def question_of(body: ChatCompletionRequest) -> str:
    """The question: the last message, which must be the user's, as text."""
    last = body.messages[-1]
    if last.role != "user":
        raise InvalidMessagesError(
            f"The last message must be the user's question; it is a {last.role!r} message "
            f"(messages[{len(body.messages) - 1}])."
        )
    question = last.text().strip()
    if not question:
        raise InvalidMessagesError(
            f"The last user message (messages[{len(body.messages) - 1}]) has no text."
        )
    if len(question) > MAX_QUESTION:
        raise InvalidMessagesError(
            f"The last user message is {len(question):,} characters; a question may have at "
            f"most {MAX_QUESTION:,}."
        )
    return question
