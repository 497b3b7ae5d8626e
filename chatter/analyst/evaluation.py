"""Scoring the router against a set of questions with expected routes (tests and bench)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chatter.analyst.route import Router


@dataclass(frozen=True)
class Outcome:
    question: str
    expected: str
    got: str
    confidence: float
    correct: bool
    detail: str


def _short(name: str) -> str:
    return name.split(".")[-1]


def judge(router: Router, item: dict[str, Any]) -> Outcome:
    """Right route; for a query also the same measures and dimensions (names unqualified)."""
    decision = router.route(item["question"])
    got = decision.route.workflow
    correct = got == item["route"]
    detail = decision.route.reason
    if correct and got == "query" and decision.query is not None:
        want_m = {_short(m) for m in item.get("measures", [])}
        want_d = {_short(d) for d in item.get("dimensions", [])}
        got_m = {_short(m) for m in decision.query.measures}
        got_d = {_short(d) for d in decision.query.dimensions}
        correct = want_m == got_m and want_d == got_d
        if not correct:
            detail = (
                f"measures {sorted(got_m)} vs {sorted(want_m)}; dimensions "
                f"{sorted(got_d)} vs {sorted(want_d)}"
            )
    return Outcome(item["question"], item["route"], got, decision.route.confidence, correct, detail)


def evaluate(router: Router, path: Path) -> tuple[list[Outcome], list[Outcome]]:
    """Outcomes for the answerable questions, and for those that must not be routed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    answered = [judge(router, item) for item in data["questions"]]
    refused = []
    for item in data.get("unanswerable", []):
        decision = router.route(str(item["question"]))
        refused.append(
            Outcome(
                str(item["question"]),
                "clarify",
                decision.route.workflow,
                decision.route.confidence,
                decision.needs_clarification,
                decision.route.reason,
            )
        )
    return answered, refused
