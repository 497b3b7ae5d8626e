"""The LLM boundary for insights: it may reword, never restate numbers of its own.

One structured-output call rewords every insight; each rewording is kept only if it cites a
subset of the original evidence ids and every number it states matches that evidence (or the
deterministic text) at the precision shown. Anything else keeps the deterministic text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from chatter.logs import get_logger
from chatter.result import Insight
from chatter.tools.insight.numbers import unsupported_numbers

if TYPE_CHECKING:  # the chat model classes load only when there is an LLM to call
    from langchain_core.language_models import BaseChatModel

log = get_logger(__name__)

INSTRUCTIONS = """You rewrite findings of a data analysis for a product or growth analyst.
For each insight you get its text and its evidence ids. Rewrite the text in plain, direct
language: what happened and why it matters, in one or two sentences.
Rules:
- Keep every number you mention exactly as given (you may drop a number, or round it to fewer
  digits); never compute, convert or add numbers (no ratios, sums or new percentages).
- Keep names of segments, levels, features and pairs exactly as written.
- Keep the direction of every comparison (higher/lower, rises/falls, positive/negative).
- Cite only evidence ids given for that insight.
Return exactly one item per insight, in the same order."""


class RewordedInsight(BaseModel):
    """One insight in new words, citing the evidence ids of the original."""

    text: str = Field(description="The reworded insight.")
    evidence: list[str] = Field(description="Evidence ids, a subset of the original's.")


class RewordedInsights(BaseModel):
    """The reworded insights, one per input insight, in the same order."""

    insights: list[RewordedInsight]


class RewordOutcome(BaseModel):
    """The insights to report, how many the LLM reworded, how many rewordings were rejected
    (the deterministic text was kept), and the tokens the call used."""

    insights: list[Insight]
    reworded: int = 0
    rejected: int = 0
    tokens: int = 0


def rejection(
    original: Insight, candidate: RewordedInsight | None, evidence: Mapping[str, Any]
) -> str | None:
    """Why ``candidate`` may not replace ``original``, or None when it may."""
    if candidate is None:
        return "no rewording returned"
    if not candidate.text.strip():
        return "empty text"
    invented = [e for e in candidate.evidence if e not in original.evidence]
    if invented:
        return f"evidence not cited by the original: {invented}"
    if original.evidence and not candidate.evidence:
        return "no evidence cited"
    values = [evidence[e] for e in candidate.evidence if e in evidence]
    wrong = unsupported_numbers(candidate.text, values, allowed_texts=[original.text])
    if wrong:
        return f"numbers not in the evidence: {wrong}"
    return None


def _tokens(raw: Any) -> int:
    usage = getattr(raw, "usage_metadata", None) or {}
    if usage.get("total_tokens"):
        return int(usage["total_tokens"])
    meta = getattr(raw, "response_metadata", None) or {}
    token_usage = meta.get("token_usage") or meta.get("usage") or {}
    total = token_usage.get("total_tokens") if isinstance(token_usage, Mapping) else None
    return int(total) if isinstance(total, int | float) else 0


def _parse(output: Any) -> tuple[RewordedInsights | None, int]:
    """The parsed rewording (None if the model's answer did not fit) and the tokens used."""
    raw, parsed = None, output
    if isinstance(output, Mapping) and "raw" in output:
        raw, parsed = output.get("raw"), output.get("parsed")
    tokens = _tokens(raw) if raw is not None else 0
    if isinstance(parsed, RewordedInsights):
        return parsed, tokens
    try:
        return RewordedInsights.model_validate(parsed), tokens
    except ValidationError:
        return None, tokens


def reword_insights(
    insights: Sequence[Insight], evidence: Mapping[str, Any], llm: BaseChatModel | None
) -> RewordOutcome:
    """Insights reworded by ``llm`` where the rewording is faithful; unchanged with no LLM.
    Never raises on the LLM's account: a failed call keeps every deterministic text."""
    kept = list(insights)
    if llm is None or not kept:
        return RewordOutcome(insights=kept)
    from langchain_core.messages import HumanMessage, SystemMessage

    payload = [{"text": i.text, "evidence": i.evidence} for i in kept]
    messages = [
        SystemMessage(content=INSTRUCTIONS),
        HumanMessage(content=json.dumps({"insights": payload}, ensure_ascii=False, indent=1)),
    ]
    try:
        output = llm.with_structured_output(RewordedInsights, include_raw=True).invoke(messages)
    except Exception as exc:  # the LLM is optional: any failure keeps the deterministic text
        log.warning("insight_reword_failed", error=f"{type(exc).__name__}: {exc}")
        return RewordOutcome(insights=kept, rejected=len(kept))
    parsed, tokens = _parse(output)
    candidates = parsed.insights if parsed is not None else []
    out, reworded, rejected = [], 0, 0
    for i, original in enumerate(kept):
        candidate = candidates[i] if i < len(candidates) else None
        reason = rejection(original, candidate, evidence)
        if reason is None and candidate is not None:
            out.append(Insight(text=candidate.text.strip(), evidence=list(original.evidence)))
            reworded += 1
        else:
            log.info("insight_reword_rejected", index=i, reason=reason)
            out.append(original)
            rejected += 1
    return RewordOutcome(insights=out, reworded=reworded, rejected=rejected, tokens=tokens)
