"""Question -> route: a workflow template, or one semantic query, with a confidence and a reason.

Deterministic first: a template is chosen when the question asks for an explanation, a test or
an analysis ("why", "what drives", "is it significant", "opportunities") in a template's area,
or names a concept only a template computes ("lifetime value", "power users"); a query when it
asks for numbers by segments. With an LLM configured and low confidence, the LLM may choose
among the valid routes and names; whatever it says is validated, and invalid output keeps the
deterministic route. Below the threshold the analyst asks instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chatter.analyst import clarification as clarify
from chatter.analyst.decision import RouteDecision
from chatter.analyst.parse import Match, ParsedQuestion, parse_question
from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import STOPWORDS, Words, phrase
from chatter.errors import ChatterError
from chatter.result import Route
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import SemanticQuery, resolve

ANALYSIS_CUES = frozenset(
    phrase(
        "why explain explanation cause causes reason reasons driver drivers drive driving behind "
        "investigate investigation understand analyze analyse analysis diagnose dive deep dig "
        "insight insights improve improving optimize optimise optimization recommend opportunity "
        "opportunities should strategy impact affect affects factor factors relationship relate "
        "related relates predict predicts matter matters influence underperform underperforming "
        "struggling significant significantly significance statistically noise real differently "
        "differ difference differences different likely reduce reduces prevent keep identify "
        "unlock healthy slowdown slow slowing consistently lift boost raise separate separates "
        "distinguish focus"
    )
)
# Raw words (stems would make "more" a "many"): asking for numbers, not reasons.
QUERY_CUES = frozenset(
    [
        "number",
        "count",
        "total",
        "show",
        "list",
        "give",
        "breakdown",
        "split",
        "chart",
        "table",
        "top",
        "bottom",
        "rank",
        "ranking",
    ]
)
_HOW_MANY = re.compile(r"\bhow (many|much)\b", re.IGNORECASE)
_IS_THERE = re.compile(r"\bis there (any|a|an)\b", re.IGNORECASE)
_YES_NO = re.compile(r"^\s*(do|does|did|is|are|was|were|can|could|has|have)\b", re.IGNORECASE)
_COMPARATIVE = re.compile(
    r"\b(less|more|better|worse|higher|lower|faster|slower|likely|"
    r"differ\w*)\b",
    re.IGNORECASE,
)
_STRATEGY = re.compile(r"\b(how|what) (can|could|should|do) (we|i)\b", re.IGNORECASE)
CLARIFY_BELOW = 0.5
LLM_BELOW = 0.65


def analysis_cues(text: str, parsed: ParsedQuestion) -> int:
    """How strongly the question asks for an explanation or a test rather than a number."""
    cues = sum(s in ANALYSIS_CUES for s in parsed.words.stems)
    if _YES_NO.match(text) and _COMPARATIVE.search(text):
        cues += 2  # "do X churn less?": a difference to test, not a number to look up
    if _STRATEGY.search(text):
        cues += 2  # "how can we grow revenue?"
    if _IS_THERE.search(text):
        cues += 1  # "is there any vertical where we could lift conversion?"
    return cues


def query_cues(text: str, parsed: ParsedQuestion) -> int:
    """How plainly the question asks for numbers."""
    return sum(w in QUERY_CUES for w in parsed.words.raw) + len(_HOW_MANY.findall(text))


@dataclass
class Router:
    model: SemanticModel
    vocab: Vocabulary
    templates: dict[str, Any]
    llm: Any = None

    def route(self, question: str) -> RouteDecision:
        text = question.strip()
        if not text or not Words.of(text).raw:
            return self._help("That message has no words I can read.")
        parsed = parse_question(text, self.vocab)
        decision = self._decide(text, parsed)
        if parsed.repairs:  # say how a misspelt word was read: the user can correct us
            read = ", ".join(f"{typed!r} as {fixed!r}" for typed, fixed in parsed.repairs)
            decision.route = decision.route.model_copy(
                update={"reason": f"{decision.route.reason} (Read {read}.)"}
            )
        if self.llm is not None and decision.route.confidence < LLM_BELOW:
            from chatter.analyst.llm_route import ask_llm

            decision = ask_llm(self, text, decision)
        if decision.route.confidence < CLARIFY_BELOW and decision.clarification is None:
            decision.clarification = clarify.unsure_route(self.templates, decision.route)
            decision.options = clarify.options(self.templates)
        return decision

    def _decide(self, text: str, parsed: ParsedQuestion) -> RouteDecision:
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
            return self._help(
                f"I don't know a field called {word!r}.{hint}",
                options=dims,
                confidence=0.3,
                parsed=parsed,
            )
        if best and scores[best] > 0 and cues and (cues > asks_numbers or not parsed.measures):
            return self._template(best, parsed, 0.6 + 0.1 * min(cues, 2) + 0.15 * margin, cues)
        if parsed.measures:
            return self._query_decision(parsed, asks_numbers, cues)
        if best and scores[best] >= 4:
            return self._template(best, parsed, 0.45 + 0.025 * scores[best] + 0.1 * margin, cues)
        return self._help(
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
            if i not in in_levels and r not in STOPWORDS
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
            short in [d.split(".")[-1] for d in s.parameters.get("dimensions", [])]
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
        return RouteDecision(
            Route(
                workflow=name,
                confidence=round(min(0.95, confidence), 2),
                reason=f"The question {kind}; {reason}: {name}.",
            ),
            customizations=self._customizations(name, parsed),
            parsed=parsed,
        )

    def _customizations(self, template: str, parsed: ParsedQuestion) -> dict[str, Any] | None:
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
                    if d.split(".")[-1] not in current and not self._is_time(d)
                ]
                if extra:
                    steps[step.id] = {"parameters": {"dimensions": [*current, *extra]}}
        return {"steps": steps} if steps else None

    # ---- single queries --------------------------------------------------------------------

    def _query_decision(self, parsed: ParsedQuestion, numbers: int, cues: int) -> RouteDecision:
        query = self.build_query(parsed)
        try:
            resolve(query, self.model)
        except ChatterError as err:
            return self._help(err.message, confidence=0.3, parsed=parsed)
        structure = bool(parsed.dimensions or parsed.grain or parsed.levels or parsed.limit)
        # Words we cannot place ("support tickets", "salaries") may be the real subject; a lone
        # count of rows ("customers") is then a weak reading of the question.
        unknown = len(parsed.unknown_words)
        weak = all(self._entity_noun(m) for m in parsed.measures)
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

    def _measures(self, parsed: ParsedQuestion) -> list[str]:
        """The measures asked for. A count named by a word for the table's rows ("accounts",
        "signups") only qualifies another measure ("revenue of enterprise accounts", "conversion
        per signup cohort") unless the question counts ("how many customers")."""
        chosen: list[Match] = list(parsed.measures)
        nouns = [m for m in chosen if self._entity_noun(m)]
        if len(nouns) < len(chosen):
            counting = {i for i, r in enumerate(parsed.words.raw) if r in ("many", "number")}
            listed = {i for i, r in enumerate(parsed.words.raw) if r in ("and", "plus")}
            chosen = [
                m
                for m in chosen
                if m not in nouns
                or any(0 < m.start - i <= 2 for i in counting)
                or m.start - 1 in listed
            ]
        # "events from accounts that came in through referrals": the noun after "from" qualifies.
        qualifying = {"from", "of", "among", "by", "with", "whose", "that", "who"}
        counting = {i for i, r in enumerate(parsed.words.raw) if r in ("many", "number")}
        counted = {m.start for m in chosen if any(0 < m.start - i <= 2 for i in counting)}
        heads = [
            m
            for m in chosen
            if m.start in counted
            or not (m in nouns and m.start > 0 and parsed.words.raw[m.start - 1] in qualifying)
        ]
        chosen = heads or chosen
        return list(dict.fromkeys(m.entry.name for m in sorted(chosen, key=lambda m: m.start)))

    def _entity_noun(self, match: Match) -> bool:
        """A bare count whose words are its table's name or one of its synonyms."""
        ref = self.model.measure(match.entry.name)
        if ref.measure.agg != "count" or ref.measure.filters:
            return False
        table = self.model.tables[ref.table]
        nouns = {phrase(t) for t in (table.name, *table.synonyms)}
        return tuple(match.entry.words) in nouns

    def build_query(self, parsed: ParsedQuestion) -> SemanticQuery:
        measures = self._measures(parsed)
        filtered = {f["field"] for f in parsed.filters()}
        dims = [d for d in parsed.dimension_names if d not in filtered]
        times = [d for d in dims if self._is_time(d)]
        if parsed.grain or times:
            grain = parsed.grain or "month"  # a date split by day is rarely what is meant
            dims = [d for d in dims if not self._is_time(d)]
            targets = times or self._default_time(measures)
            dims += [f"{d}__{grain}" for d in targets]
        order = []
        if parsed.descending is not None and measures:
            order = [{"field": measures[0], "descending": parsed.descending}]
        return SemanticQuery.parse(
            {
                "measures": measures,
                "dimensions": dims,
                "filters": parsed.filters(),
                "order_by": order,
                "limit": parsed.limit,
            }
        )

    def _default_time(self, measures: list[str]) -> list[str]:
        """The date a measure happens on: a date dimension of its table whose name shares a
        word with the measure or its filter ("cancellations" happen on the churn date), else
        the table's first date."""
        if not measures:
            return []
        ref = self.model.measure(measures[0])
        own = set(phrase(ref.measure.name)) | {
            w for f in ref.measure.filters for w in phrase(f.field)
        }
        for d in self.model.tables[ref.table].dimensions.values():
            if d.is_time and own & (set(phrase(d.name)) - {"date"}):
                return [d.name]
        time_dim = self.vocab.time_dimensions.get(ref.table)
        return [time_dim] if time_dim else []

    def _is_time(self, dimension: str) -> bool:
        return any(c.dimension.is_time for c in self.model.dimension_candidates(dimension))

    # ---- asking back -----------------------------------------------------------------------

    def _help(
        self,
        message: str,
        *,
        options: list[str] | None = None,
        confidence: float = 0.0,
        parsed: ParsedQuestion | None = None,
    ) -> RouteDecision:
        return RouteDecision(
            Route(workflow="clarify", confidence=confidence, reason=message),
            clarification=clarify.unreadable(message, self.model, self.templates),
            options=options or clarify.options(self.templates),
            parsed=parsed,
        )
