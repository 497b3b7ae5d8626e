"""The optional LLM: a ChatOpenAI for any OpenAI-compatible server, or None when no key is set.

With None, every feature works deterministically; an LLM may only reword and help route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from chatter.settings import Settings

#: Receives each LLM call's token counts: (prompt, completion, model name or None).
TokenSink = Callable[[int, int, str | None], None]


class TokenMeter(BaseCallbackHandler):
    """Passes every LLM call's tokens to ``sink`` (routing and rewording alike)."""

    def __init__(self, sink: TokenSink) -> None:
        self.sink = sink

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        usage = (getattr(response, "llm_output", None) or {}).get("token_usage") or {}
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if prompt is None and completion is None:
            for generations in getattr(response, "generations", []) or []:
                for generation in generations:
                    meta = getattr(getattr(generation, "message", None), "usage_metadata", None)
                    if meta:
                        prompt = (prompt or 0) + int(meta.get("input_tokens", 0))
                        completion = (completion or 0) + int(meta.get("output_tokens", 0))
        if prompt is None and completion is None:
            return
        model = (getattr(response, "llm_output", None) or {}).get("model_name")
        self.sink(int(prompt or 0), int(completion or 0), model)


def make_llm(settings: Settings, tokens: TokenSink) -> Any | None:
    """ChatOpenAI from settings (OPENAI_API_KEY, OPENAI_BASE_URL, CHATTER_LLM_MODEL), its
    token use reported to ``tokens``; None when no key is set."""
    if not settings.openai_api_key:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        callbacks=[TokenMeter(tokens)],
        model=settings.llm_model,
        api_key=settings.openai_api_key,  # type: ignore[arg-type]
        base_url=settings.openai_base_url,
        temperature=0,
        timeout=60,
        max_retries=1,
    )
