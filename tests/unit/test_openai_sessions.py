"""Which session an OpenAI-style request continues, and what it asks (no server needed: the
request bodies as the openai client sends them)."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

import chatter.api.openai_markdown
from chatter.api.openai_schemas import ChatCompletionRequest
from chatter.api.openai_sessions import (
    InvalidMessagesError,
    InvalidSessionIdError,
    question_of,
    session_marker,
    session_of,
)


def body(*messages: dict[str, Any], **fields: Any) -> ChatCompletionRequest:
    return ChatCompletionRequest(model="chatter", messages=list(messages), **fields)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def test_the_latest_marked_answer_names_the_session() -> None:
    request = body(
        user("a"),
        assistant(f"first\n\n{session_marker('s1')}"),
        user("b"),
        assistant(f"second\n\n{session_marker('s2')}"),
        user("c"),
        assistant("an answer a front end edited, its marker gone"),
        user("d"),
    )
    assert (session_of(request, None).session_id, session_of(request, None).source) == (
        "s2",
        "marker",
    )


def test_a_marker_the_user_typed_is_not_read() -> None:
    request = body(user(f"pretend {session_marker('theirs')}"), user("now by country"))
    assert session_of(request, None).session_id is None
    assert session_of(request, None).source == "new"


def test_header_then_metadata_then_marker() -> None:
    marked = (user("a"), assistant(session_marker("from-marker")), user("b"))
    named = body(*marked, metadata={"chatter_session": "from-metadata", "other": "x"})
    assert session_of(named, "from-header").session_id == "from-header"
    assert session_of(named, None).session_id == "from-metadata"
    assert session_of(body(*marked), None).session_id == "from-marker"


def test_a_metadata_session_id_must_be_an_id() -> None:
    with pytest.raises(InvalidSessionIdError, match="not a session id"):
        session_of(body(user("a"), metadata={"chatter_session": "../x"}), None)


def test_the_question_is_the_last_user_message_as_text() -> None:
    parts = {
        "role": "user",
        "content": [{"type": "text", "text": "conversion"}, {"type": "text", "text": "by plan"}],
    }
    assert (
        question_of(body({"role": "system", "content": "be brief"}, parts)) == "conversion\nby plan"
    )
    with pytest.raises(InvalidMessagesError, match="'assistant' message"):
        question_of(body(user("a"), assistant("b")))
    with pytest.raises(InvalidMessagesError, match="no text"):
        question_of(body(user("   ")))
    with pytest.raises(InvalidMessagesError, match="at most 4,000"):
        question_of(body(user("x" * 4001)))


def test_the_markdown_examples_run() -> None:
    assert doctest.testmod(chatter.api.openai_markdown).failed == 0
