"""End to end through the real ChatOpenAI client: an OpenAI-compatible server on loopback
answers the structured-output request the client really sends (a JSON schema response format,
or a tool call when tools are bound), with token usage; a faithful rewording is kept and a
rewording that changes a number is rejected."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from langchain_openai import ChatOpenAI
from openai_server import JsonHandler, completion, serving
from run_findings import corrected

from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.insight import collect_evidence, render_insights, reword_insights

pytestmark = pytest.mark.integration

_PERCENT = re.compile(r"(\d+\.\d)%")


class ChatCompletions(JsonHandler):
    """POST /v1/chat/completions: rewords each insight of the user message ("faithful") or
    also bumps its first percentage by 5.4 points ("changed")."""

    mode: ClassVar[str] = "faithful"
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, **body})
        if self.path != "/v1/chat/completions":
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        asked = json.loads(body["messages"][-1]["content"])["insights"]
        items = []
        for insight in asked:
            text = "For the growth team: " + insight["text"]
            if self.mode == "changed":
                text = _PERCENT.sub(lambda m: f"{float(m.group(1)) + 5.4:.1f}%", text, count=1)
            items.append({"text": text, "evidence": insight["evidence"]})
        arguments = json.dumps({"insights": items})
        message: dict[str, Any] = {"role": "assistant", "content": arguments}
        if body.get("tools"):  # function calling: answer with a call of the bound tool
            name = body["tools"][0]["function"]["name"]
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": name, "arguments": arguments},
                    }
                ],
            }
        self.send_json(200, completion(body["model"], message, (812, 377)))


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    ChatCompletions.requests = []
    with serving(ChatCompletions) as httpd:
        yield httpd


def test_reword_through_a_real_client_keeps_faithful_text_and_rejects_changed_numbers(
    server: ThreadingHTTPServer, demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Warehouse(Engine(demo_db), default_model()) as wh:
        result = analyses.segment_rate_tests(
            wh, analyses.SegmentTestParams(dimensions=("industry", "acquisition_channel"))
        )
    steps = [result.to_step("statistical_validation", "statistical_test")]
    findings = corrected({"statistical_validation": result})
    insights = render_insights(steps, findings)
    evidence = collect_evidence(steps, findings)
    llm = ChatOpenAI(
        base_url=f"http://127.0.0.1:{server.server_port}/v1",
        api_key="test",  # type: ignore[arg-type]
        model="test-model",
        max_retries=0,
        timeout=10,
    )

    monkeypatch.setattr(ChatCompletions, "mode", "faithful")
    outcome = reword_insights(insights, evidence, llm)
    assert (outcome.reworded, outcome.rejected) == (len(insights), 0)
    assert outcome.tokens == 1189
    assert all(i.text.startswith("For the growth team: ") for i in outcome.insights)
    assert [i.evidence for i in outcome.insights] == [i.evidence for i in insights]
    request = ChatCompletions.requests[-1]
    assert request["response_format"]["json_schema"]["name"] == "RewordedInsights"
    assert insights[0].evidence[0] in request["messages"][-1]["content"]

    monkeypatch.setattr(ChatCompletions, "mode", "changed")
    outcome = reword_insights(insights, evidence, llm)
    with_percent = sum(bool(_PERCENT.search(i.text)) for i in insights)
    assert with_percent >= 1
    assert outcome.rejected == with_percent
    assert outcome.reworded == len(insights) - with_percent
    assert outcome.tokens == 1189
    for before, after in zip(insights, outcome.insights, strict=True):
        if _PERCENT.search(before.text):
            assert after == before  # the deterministic text is kept


def test_a_workflow_rewords_through_the_configured_llm(
    server: ThreadingHTTPServer, demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatter import run_workflow
    from chatter.services import shared_services
    from chatter.settings import get_settings

    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
    monkeypatch.setenv("CHATTER_LLM_MODEL", "test-model")
    get_settings.cache_clear()
    monkeypatch.setattr(ChatCompletions, "mode", "faithful")
    kept = run_workflow("conversion_deep_dive", database=demo_db)
    assert kept.metrics.llm_tokens == 1189
    # The configured LLM's calls are metered too (its token counts, as the server sent them).
    tokens = shared_services().metrics.snapshot()["counters"]["tokens"]
    assert (tokens["prompt"], tokens["completion"], tokens["total"]) == (812, 377, 1189)
    assert kept.metrics.insights_reworded == len(kept.insights) > 0
    assert all(i.text.startswith("For the growth team: ") for i in kept.insights)
    assert ChatCompletions.requests[-1]["model"] == "test-model"

    monkeypatch.setattr(ChatCompletions, "mode", "changed")
    checked = run_workflow("conversion_deep_dive", database=demo_db)
    assert checked.metrics.insights_rejected >= 1
    changed = [i for i in checked.insights if not i.text.startswith("For the growth team: ")]
    assert len(changed) == checked.metrics.insights_rejected
