"""The optional LLM: a ChatOpenAI for any OpenAI-compatible server, or None when no key is set.

With None, every feature works deterministically; an LLM may only reword and help route.
"""

from __future__ import annotations

from typing import Any

from chatter.settings import get_settings


def get_llm() -> Any | None:
    """ChatOpenAI from settings (OPENAI_API_KEY, OPENAI_BASE_URL, CHATTER_LLM_MODEL)."""
    settings = get_settings()
    if not settings.openai_api_key:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        api_key=settings.openai_api_key,  # type: ignore[arg-type]
        base_url=settings.openai_base_url,
        temperature=0,
        timeout=60,
        max_retries=1,
    )
