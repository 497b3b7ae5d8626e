"""What understanding a message decides: a route (a template, one query, or asking back),
with the query or customizations to run and the question's parsed structure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatter.analyst.parse import ParsedQuestion
from chatter.result import Route
from chatter.semantic.query import SemanticQuery


@dataclass
class RouteDecision:
    route: Route
    query: SemanticQuery | None = None
    customizations: dict[str, Any] | None = None
    clarification: str | None = None  # set when the analyst should ask instead of answer
    options: list[str] = field(default_factory=list)
    parsed: ParsedQuestion | None = None
    #: A workflow's steps the question's time window could not reach (they take no filter).
    unwindowed: list[str] = field(default_factory=list)
    #: A reading no other may replace (a value the data lacks is asked about, LLM or not).
    settled: bool = False
    #: The words of a value the data lacks, when the question back asks which value was meant
    #: (a reply picking one of the options stands in for them in the question).
    asked_value: str | None = None

    @property
    def needs_clarification(self) -> bool:
        return self.clarification is not None
