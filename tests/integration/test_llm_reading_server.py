"""The LLM's reading of a question, end to end through the real ChatOpenAI client and the
`chatter` command: an OpenAI-compatible server on loopback answers the structured-output
request with whatever reading the test sets. A good reading is used (its rows equal a
hand-written SQL result, its interpretation says what it read); a reading that invents names
or values, or leaves words unused, is not: the analyst falls back to its rules or asks back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pytest
from cli_runner import run_cli
from openai_server import JsonHandler, completion, serving

pytestmark = pytest.mark.integration

QUESTION = "how did the money side do for the big accounts lately"


class ChatCompletions(JsonHandler):
    """POST /v1/chat/completions: the structured reading the test set, as JSON content."""

    reading: ClassVar[dict[str, Any]] = {}
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        message = {"role": "assistant", "content": json.dumps(type(self).reading)}
        self.send_json(200, completion(body["model"], message, (900, 80)))


@pytest.fixture
def llm_env(demo_db: Path) -> Iterator[dict[str, str]]:
    ChatCompletions.requests = []
    with serving(ChatCompletions) as httpd:
        yield {
            "OPENAI_API_KEY": "test",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{httpd.server_port}/v1",
            "CHATTER_LLM_MODEL": "test-model",
            "CHATTER_DATABASE": str(demo_db),
            "CHATTER_TODAY": "2026-01-15",
        }


def _ask(question: str, env: dict[str, str], home: Path) -> dict[str, Any]:
    ran = run_cli("ask", question, "--json", home=home, env=env)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


GOOD = {
    "route": "query",
    "measures": ["mrr"],
    "dimensions": ["month"],
    "grain": "month",
    "levels": [{"field": "revenue.plan_type", "values": ["enterprise"]}],
    "window": {"field": "month", "start": "2025-07-01", "end": "2025-12-31"},
    "unused_words": [],
    "reason": "MRR month by month for enterprise accounts over the last six months",
}


def test_a_good_reading_is_used_checked_and_stated(
    llm_env: dict[str, str], demo_db: Path, tmp_path: Path
) -> None:
    ChatCompletions.reading = GOOD
    doc = _ask(QUESTION, llm_env, tmp_path)
    assert doc["route"]["workflow"] == "query" and doc["route"]["reason"].startswith("LLM:")
    filters = doc["query"]["filters"]
    assert {"field": "revenue.plan_type", "op": "=", "value": "enterprise"} in filters
    with duckdb.connect(str(demo_db), read_only=True) as con:
        gold = con.execute(
            "SELECT CAST(date_trunc('month', month) AS DATE), SUM(mrr) FROM revenue "
            "WHERE plan_type = 'enterprise' AND month >= DATE '2025-07-01' "
            "AND month < DATE '2026-01-01' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert gold, "the window must hold data for this test to mean anything"
    rows = doc["steps"][0]["rows"]
    got = [(r["month__month"], r["mrr"]) for r in rows]
    assert [(d.isoformat(), pytest.approx(v)) for d, v in gold] == got
    understood = doc["interpretation"]
    assert understood["measures"] == ["mrr"]
    assert "plan type is enterprise" in understood["text"]
    assert "from 2025-07-01 to 2025-12-31" in understood["text"]
    assert understood["unused_words"] == []
    # The schema the LLM was given is generated from the model's names and the data's levels.
    schema = json.dumps(ChatCompletions.requests[-1]["response_format"])
    assert '"mrr"' in schema and '"enterprise"' in schema and '"fintech"' in schema
    assert QUESTION in ChatCompletions.requests[-1]["messages"][-1]["content"]


@pytest.mark.parametrize(
    "invented",
    [
        {**GOOD, "measures": ["moolah"]},  # a measure the model lacks
        {**GOOD, "dimensions": ["tier"]},  # a dimension the model lacks
        {
            **GOOD,
            "levels": [{"field": "revenue.plan_type", "values": ["pro"]}],
        },  # a value no data has
        {
            **GOOD,
            "levels": [{"field": "revenue.plan_type", "values": ["fintech"]}],
        },  # another field's
        {**GOOD, "window": {"field": "month", "start": "2025-12-01", "end": "2025-01-01"}},
    ],
    ids=["measure", "dimension", "value", "wrong-field", "backwards-window"],
)
def test_a_reading_that_invents_names_is_not_used(
    invented: dict[str, Any], llm_env: dict[str, str], tmp_path: Path
) -> None:
    ChatCompletions.reading = invented
    doc = _ask("how are things looking lately", llm_env, tmp_path)
    assert ChatCompletions.requests, "the unsure question was put to the LLM"
    # The rules could not read it either: the analyst asks back, naming what it can do.
    assert doc["workflow"] == "clarify" and doc["clarification"] is True
    assert not doc["route"]["reason"].startswith("LLM:")
    assert doc["steps"] == []


def test_a_reading_with_unused_words_asks_back_and_lists_them(
    llm_env: dict[str, str], tmp_path: Path
) -> None:
    ChatCompletions.reading = {**GOOD, "unused_words": ["vibes", "karma"]}
    doc = _ask("how are the vibes and karma lately", llm_env, tmp_path)
    assert doc["workflow"] == "clarify"
    assert doc["interpretation"]["unused_words"] == ["vibes", "karma"]
    assert "'vibes'" in doc["interpretation"]["text"]


def test_a_value_the_data_lacks_is_asked_about_whatever_the_llm_says(
    llm_env: dict[str, str], tmp_path: Path
) -> None:
    ChatCompletions.reading = {**GOOD, "route": "revenue_optimization", "levels": []}
    doc = _ask("is the pro plan worth it?", llm_env, tmp_path)
    assert doc["workflow"] == "clarify"
    assert "pro" in doc["text"] and "enterprise" in doc["text"]
    assert ChatCompletions.requests == []  # settled by the data: nothing to ask the LLM
