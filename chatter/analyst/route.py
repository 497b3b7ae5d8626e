"""Question -> route: a workflow template, or one semantic query, with a confidence and a reason.

Deterministic first: a template is chosen when the question asks for an explanation, a test or
an analysis ("why", "what drives", "is it significant", "opportunities") in a template's area,
or names a concept only a template computes ("lifetime value", "power users"); a query when it
asks for numbers by segments. With an LLM configured and low confidence, the LLM may choose
among the valid routes and names; whatever it says is validated, and invalid output keeps the
deterministic route. Below the threshold the analyst asks instead of guessing.

The cues for reasons or numbers are in ``chatter.analyst.cues``; the query a question asks for
is built by ``chatter.analyst.interpret``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chatter.analyst import clarification as clarify
from chatter.analyst import measure_intent
from chatter.analyst.context_sentences import set_context_apart
from chatter.analyst.cues import analysis_cues, query_cues
from chatter.analyst.decision import RouteDecision
from chatter.analyst.interpret import build_query, is_entity_noun, is_time
from chatter.analyst.level_mentions import UnknownLevel, unmatched_levels
from chatter.analyst.parse import Match, ParsedQuestion, parse_question
from chatter.analyst.vocabulary import Entry, Vocabulary, split_dimensions
from chatter.analyst.words import STOPWORDS, Words
from chatter.analyst.workflow_window import WindowedSteps, window_steps
from chatter.errors import ChatterError
from chatter.result import Route
from chatter.semantic.compiler import compile_query
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import resolve

CLARIFY_BELOW = 0.5
LLM_BELOW = 0.65


@dataclass
class Router:
    model: SemanticModel
    vocab: Vocabulary
    templates: dict[str, Any]
    llm: Any = None

    def route(self, question: str, today: dt.date | None = None) -> RouteDecision:
        """The route of ``question``; relative time windows count back from ``today``."""
        text = question.strip()
        if not text or not Words.of(text).raw:
            return self.ask_back("That message has no words I can read.")
        text, context = set_context_apart(text, self.vocab, today, self._stands(today))
        parsed = parse_question(text, self.vocab, today)
        parsed.asides = list(dict.fromkeys([*parsed.asides, *context]))
        decision = self._decide(text, parsed)
        if parsed.repairs:  # say how a misspelt word was read: the user can correct us
            read = ", ".join(f"{typed!r} as {fixed!r}" for typed, fixed in parsed.repairs)
            decision.route = decision.route.model_copy(
                update={"reason": f"{decision.route.reason} (Read {read}.)"}
            )
        if (
            self.llm is not None
            and not decision.settled
            and (decision.route.confidence < LLM_BELOW or parsed.unknown_words)
        ):
            from chatter.analyst.llm_route import ask_llm

            proposed = ask_llm(self, text, decision, today or dt.date.today())
            if proposed is not decision and _better(proposed, decision):
                decision = proposed
        if decision.route.confidence < CLARIFY_BELOW and decision.clarification is None:
            decision.clarification = clarify.unsure_route(self.templates, decision.route)
            decision.options = clarify.options(self.templates)
        return decision

    def _stands(self, today: dt.date | None) -> Callable[[str], bool]:
        """Whether a sentence read alone is answered without asking back."""

        def stands(sentence: str) -> bool:
            decision = self._decide(sentence, parse_question(sentence, self.vocab, today))
            route = decision.route
            return route.workflow != "clarify" and route.confidence >= CLARIFY_BELOW

        return stands

    def _decide(self, text: str, parsed: ParsedQuestion) -> RouteDecision:
        if parsed.window is not None and parsed.window.doubt:  # a date that reads two ways
            decision = self.ask_back(parsed.window.doubt, confidence=0.3, parsed=parsed)
            decision.clarification = parsed.window.doubt
            decision.settled = True
            return decision
        unknown = unmatched_levels(
            parsed, text, self.vocab, explicit_only=analysis_cues(text, parsed) > 0
        )
        if unknown:  # answering without the value asked for would answer another question
            return self.ask_about_value(unknown[0], parsed)
        scores = self._template_scores(parsed)
        concepts = self._concepts(parsed)
        cues = analysis_cues(text, parsed)
        asks_numbers = query_cues(text, parsed)
        best = max(scores, key=lambda k: scores[k]) if scores else None
        ranked = sorted(scores.values(), reverse=True)
        margin = (ranked[0] - ranked[1]) / ranked[0] if len(ranked) > 1 and ranked[0] else 1.0
        if concepts:
            name = max(concepts, key=lambda k: (concepts[k], scores.get(k, 0.0)))
            return self._template(
                name,
                parsed,
                0.8 + 0.05 * min(cues, 3),
                cues,
                f"it names {', '.join(self._concept_words(name, parsed))}, "
                "which only this template computes",
            )
        if parsed.unknown_after_by and not parsed.dimensions:
            word, dims = parsed.unknown_after_by[0]
            hint = f" Did you mean {' or '.join(dims)}?" if dims else ""
            return self.ask_back(
                f"I don't know a field called {word!r}.{hint}",
                options=dims,
                confidence=0.3,
                parsed=parsed,
            )
        if best and scores[best] > 0 and cues and (cues > asks_numbers or not parsed.measures):
            return self._template(best, parsed, 0.6 + 0.1 * min(cues, 2) + 0.15 * margin, cues)
        if not parsed.measures and parsed.levels and not parsed.levels[0][1]:
            level = parsed.levels[0][0]  # "how many report exports in 2023": its rows counted
            counted = measure_intent.rows_counted(self.model, level.entry.name, parsed.text)
            if counted is not None:
                parsed.measures = [Match(Entry((), (), "measure", counted), level.start, level.end)]
        if not parsed.measures:  # "how much did we bill": the summed measure of that verb
            names = [(e.name, e.words) for e in self.vocab.of_kind("measure")]
            done = measure_intent.amount_done(self.model, names, parsed.text, parsed.words.stems)
            if done is not None:
                parsed.measures = [Match(Entry((), (), "measure", done[0]), done[1], done[1] + 1)]
        if not parsed.measures and parsed.dimensions:  # "which event type is the most common"
            split = parsed.dimensions[0]
            counted = measure_intent.rows_by_frequency(
                self.model, split.entry.name, parsed.words.raw
            )
            if counted is not None:
                parsed.measures = [Match(Entry((), (), "measure", counted), split.start, split.end)]
        if parsed.measures:
            return self._query_decision(parsed, asks_numbers, cues)
        if best and scores[best] >= 4:
            return self._template(best, parsed, 0.45 + 0.025 * scores[best] + 0.1 * margin, cues)
        return self.ask_back(
            "I could not tell what to measure in that question.", confidence=0.2, parsed=parsed
        )

    # ---- templates -------------------------------------------------------------------------

    def _template_scores(self, parsed: ParsedQuestion) -> dict[str, float]:
        """Template words in the question, each counted at most three times; a level's words
        count only for templates that split by its dimension ("paid search" is a channel, not
        the search feature)."""
        in_levels = {i for m, _ in parsed.levels for i in range(m.start, m.end)}
        content = {
            s
            for i, (s, r) in enumerate(zip(parsed.words.stems, parsed.words.raw, strict=True))
            # A time window's words ("the last 3 months") say when, not what about.
            if i not in in_levels and r not in STOPWORDS and parsed.outside_window(i)
        }
        scores = {}
        for name, words in self.vocab.template_words.items():
            scores[name] = float(sum(min(words.get(s, 0), 3) for s in content))
            dims = {match.entry.name for match, _ in parsed.levels}
            scores[name] += sum(1.0 for d in dims if self._splits_by(name, d))
        return scores

    def _splits_by(self, template: str, dimension: str) -> bool:
        short = dimension.split(".")[-1]
        return any(
            short in [d.split(".")[-1] for d in split_dimensions(s, self.model)]
            for s in self.templates[template].steps
        )

    def _concepts(self, parsed: ParsedQuestion) -> dict[str, int]:
        found: dict[str, int] = {}
        for name, phrases in self.vocab.template_concepts.items():
            hits = sum(parsed.words.find(p) >= 0 for p in phrases)
            if hits:
                found[name] = hits
        return found

    def _concept_words(self, name: str, parsed: ParsedQuestion) -> list[str]:
        out = []
        for p in self.vocab.template_concepts[name]:
            at = parsed.words.find(p)
            if at >= 0:
                out.append(" ".join(parsed.words.raw[at : at + len(p)]))
        return out

    def _template(
        self,
        name: str,
        parsed: ParsedQuestion,
        confidence: float,
        cues: int,
        why: str | None = None,
    ) -> RouteDecision:
        words = self.vocab.template_words[name]
        shared = list(
            dict.fromkeys(
                r for r, s in zip(parsed.words.raw, parsed.words.stems, strict=True) if words.get(s)
            )
        )
        kind = "asks for an explanation or a test" if cues else "is about this area"
        reason = why or f"its words ({', '.join(shared[:5])}) match this template"
        customizations, unwindowed = self.workflow_customizations(name, parsed)
        return RouteDecision(
            Route(
                workflow=name,
                confidence=round(min(0.95, confidence), 2),
                reason=f"The question {kind}; {reason}: {name}.",
            ),
            customizations=customizations,
            parsed=parsed,
            unwindowed=unwindowed,
        )

    def workflow_customizations(
        self, name: str, parsed: ParsedQuestion
    ) -> tuple[dict[str, Any] | None, list[str]]:
        """What the question changes in template ``name`` (the dimensions it tests, its time
        window), and the steps the window cannot reach."""
        windowed = window_steps(self.templates[name], parsed, self.model, self.vocab)
        return self._customizations(name, parsed, windowed), windowed.not_applied

    def _customizations(
        self, template: str, parsed: ParsedQuestion, windowed: WindowedSteps
    ) -> dict[str, Any] | None:
        """Dimensions the question names (directly or through a level) join a template step
        that tests across dimensions, so "why does paid search convert worse" tests channels."""
        mentioned = list(
            dict.fromkeys([*parsed.dimension_names, *(m.entry.name for m, _ in parsed.levels)])
        )
        steps: dict[str, Any] = {}
        for step in self.templates[template].steps:
            current = step.parameters.get("dimensions")
            if step.type == "statistical_test" and isinstance(current, list):
                extra = [
                    d.split(".")[-1]
                    for d in mentioned
                    if d.split(".")[-1] not in current and not is_time(d, self.model)
                ]
                if extra:
                    steps[step.id] = {"parameters": {"dimensions": [*current, *extra]}}
        for step_id, custom in windowed.customizations().items():
            steps.setdefault(step_id, {"parameters": {}})["parameters"].update(custom["parameters"])
        return {"steps": steps} if steps else None

    # ---- single queries --------------------------------------------------------------------

    def _query_decision(self, parsed: ParsedQuestion, numbers: int, cues: int) -> RouteDecision:
        query = build_query(parsed, self.model, self.vocab)
        try:  # compiled too: measures that cannot be combined are asked back, never raised
            compile_query(resolve(query, self.model), self.model)
        except ChatterError as err:
            return self.ask_back(err.message, confidence=0.3, parsed=parsed)
        structure = bool(parsed.dimensions or parsed.grain or parsed.levels or parsed.limit)
        # Words we cannot place ("support tickets", "salaries") may be the real subject; a lone
        # count of rows ("customers") is then a weak reading of the question.
        unknown = len(parsed.unknown_words)
        weak = all(is_entity_noun(m, self.model) for m in parsed.measures)
        confidence = (
            0.7
            + 0.1 * structure
            + 0.05 * min(numbers, 2)
            - 0.15 * bool(cues)
            - 0.15 * min(unknown, 3)
            - 0.2 * (weak and unknown > 0)
        )
        names = ", ".join(query.measures)
        by = f" by {', '.join(query.dimensions)}" if query.dimensions else ""
        where = (
            " where " + ", ".join(f"{f.field} {f.op} {f.value}" for f in query.filters)
            if query.filters
            else ""
        )
        return RouteDecision(
            Route(
                workflow="query",
                confidence=round(min(0.95, confidence), 2),
                reason=f"The question asks for {names}{by}{where}: one semantic query.",
            ),
            query=query,
            parsed=parsed,
        )

    # ---- asking back -----------------------------------------------------------------------

    def ask_about_value(self, unknown: UnknownLevel, parsed: ParsedQuestion) -> RouteDecision:
        """A decision to ask which value was meant, naming the values there are."""
        message = unknown.question()
        return RouteDecision(
            Route(workflow="clarify", confidence=0.3, reason=message),
            clarification=clarify.unknown_value(message),
            options=list(unknown.choices),
            parsed=parsed,
            # the data lacks the value: no reading, the LLM's included, may drop it
            settled=unknown.certain,
            asked_value=unknown.said,
        )

    def ask_back(
        self,
        message: str,
        *,
        options: list[str] | None = None,
        confidence: float = 0.0,
        parsed: ParsedQuestion | None = None,
    ) -> RouteDecision:
        """A decision to ask instead of answer: ``message`` says why, with options to pick."""
        return RouteDecision(
            Route(workflow="clarify", confidence=confidence, reason=message),
            clarification=clarify.unreadable(message, self.model, self.templates),
            options=options or clarify.options(self.templates),
            parsed=parsed,
        )


def _better(proposed: RouteDecision, current: RouteDecision) -> bool:
    """The LLM's valid reading replaces the rules' when the rules asked back, when it uses
    more of the question's words, or when it is as confident."""
    left = len(proposed.parsed.unknown_words) if proposed.parsed else 0
    before = len(current.parsed.unknown_words) if current.parsed else 0
    return (
        current.needs_clarification
        or left < before
        or proposed.route.confidence >= current.route.confidence
    )
