"""Question -> semantic query: the measures a parsed question asks for, split by the dimensions
and time grain it names, filtered by its levels, ordered and limited as it says.

The router uses this for a question that asks for numbers; follow-ups use its parts to edit the
previous query.
"""

from __future__ import annotations

from chatter.analyst.parse import Match, ParsedQuestion
from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import phrase
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import SemanticQuery


def build_query(parsed: ParsedQuestion, model: SemanticModel, vocab: Vocabulary) -> SemanticQuery:
    """The one semantic query the question asks for (not yet resolved against the model)."""
    measures = measures_asked(parsed, model)
    filtered = {f["field"] for f in parsed.filters()}
    dims = [d for d in parsed.dimension_names if d not in filtered]
    times = [d for d in dims if is_time(d, model)]
    if parsed.grain or times:
        grain = parsed.grain or "month"  # a date split by day is rarely what is meant
        dims = [d for d in dims if not is_time(d, model)]
        targets = times or default_time(measures, model, vocab)
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


def measures_asked(parsed: ParsedQuestion, model: SemanticModel) -> list[str]:
    """The measures asked for. A count named by a word for the table's rows ("accounts",
    "signups") only qualifies another measure ("revenue of enterprise accounts", "conversion
    per signup cohort") unless the question counts ("how many customers")."""
    chosen: list[Match] = list(parsed.measures)
    nouns = [m for m in chosen if is_entity_noun(m, model)]
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


def is_entity_noun(match: Match, model: SemanticModel) -> bool:
    """A bare count whose words are its table's name or one of its synonyms."""
    ref = model.measure(match.entry.name)
    if ref.measure.agg != "count" or ref.measure.filters:
        return False
    table = model.tables[ref.table]
    nouns = {phrase(t) for t in (table.name, *table.synonyms)}
    return tuple(match.entry.words) in nouns


def default_time(measures: list[str], model: SemanticModel, vocab: Vocabulary) -> list[str]:
    """The date a measure happens on: a date dimension of its table whose name shares a
    word with the measure or its filter ("cancellations" happen on the churn date), else
    the table's first date."""
    if not measures:
        return []
    ref = model.measure(measures[0])
    own = set(phrase(ref.measure.name)) | {w for f in ref.measure.filters for w in phrase(f.field)}
    for d in model.tables[ref.table].dimensions.values():
        if d.is_time and own & (set(phrase(d.name)) - {"date"}):
            return [d.name]
    time_dim = vocab.time_dimensions.get(ref.table)
    return [time_dim] if time_dim else []


def is_time(dimension: str, model: SemanticModel) -> bool:
    """Whether the dimension name means a date (in any table that has it)."""
    return any(c.dimension.is_time for c in model.dimension_candidates(dimension))
