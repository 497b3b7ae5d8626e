"""The optional LLM: a ChatOpenAI for any OpenAI-compatible server, or None when no key is set.

With None, every feature works deterministically; an LLM may only reword and help route.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from chatter.settings import get_settings


class TokenMeter(BaseCallbackHandler):
    """Counts every LLM call's tokens into the metrics (routing and rewording alike)."""

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
        from chatter.governance.metrics import metrics

        model = (getattr(response, "llm_output", None) or {}).get("model_name")
        metrics().record_tokens(
            prompt=int(prompt or 0), completion=int(completion or 0), model=model
        )


def get_llm() -> Any | None:
    """ChatOpenAI from settings (OPENAI_API_KEY, OPENAI_BASE_URL, CHATTER_LLM_MODEL)."""
    settings = get_settings()
    if not settings.openai_api_key:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        callbacks=[TokenMeter()],
        model=settings.llm_model,
        api_key=settings.openai_api_key,  # type: ignore[arg-type]
        base_url=settings.openai_base_url,
        temperature=0,
        timeout=60,
        max_retries=1,
    )
