"""Which kind of number a question asks for, and the measure of that kind: "how many" a count,
"what share / percent / rate / how likely" a rate, "average / per account" an average, and
"which converts best" the rate its words rank by (docs/questions.md).

The model says which measures are which: a ratio's numerator is the count of its outcome
(``conversion_rate = converted_users / users``), so a rate asked of a count is the ratio whose
numerator it is; an average of a sum is the ratio whose numerator it is (ARPU of MRR), else the
table's mean of the same column.
"""

from __future__ import annotations

import re

from chatter.analyst.structure_cues import ASCENDING, DESCENDING, FREQUENCY_WORDS
from chatter.analyst.words import singular, tokens
from chatter.semantic.model import SemanticModel

_RATE = re.compile(
    r"\b(share|rate|rates|percent|percentage|percentages|proportion|fraction|ratio|"
    r"how likely|likelihood|chance|odds|what portion|pct)\b|%"
)
_COUNT = re.compile(r"\b(how many|number of|count of|count|total number|volume of)\b")
_AVERAGE = re.compile(
    r"\b(average|avg|mean|typical)\b"
    r"|\bper (?:\w+ )?(account|user|customer|subscriber|signup|trial|company)s?\b"
)
# Quality rankings compare outcomes, not volumes: "converts best" ranks the conversion rate.
_QUALITY = re.compile(r"\b(best|worst|better|worse|well|poorly)\b")
_RANKING = frozenset(["highest", "lowest", "most", "least", "top", "bottom"])


def ranks_an_outcome(raw: tuple[str, ...], start: int, end: int) -> bool:
    """Whether a measure's words are an outcome verb a ranking word stands before: "the lowest
    converting plans", "highest-churning segments" rank how often it happens (its rate). Not
    "the most paying customers": there the words name whom to count."""
    return (
        end - start == 1 and raw[start].endswith("ing") and start > 0 and raw[start - 1] in _RANKING
    )


def intent(text: str) -> str | None:
    """``rate``, ``average``, ``count`` or ``quality`` (a ranking by how well), or None."""
    lowered = text.lower()
    if _RATE.search(lowered):
        return "rate"
    if _AVERAGE.search(lowered):
        return "average"
    if _COUNT.search(lowered):
        return "count"
    if _QUALITY.search(lowered):
        return "quality"
    return None


def rate_of(model: SemanticModel, measure: str) -> str | None:
    """The ratio measure whose numerator is ``measure`` (the rate of that outcome)."""
    ref = model.measure(measure)
    for m in model.tables[ref.table].measures.values():
        if m.agg == "ratio" and m.numerator and m.numerator.split(".")[-1] == measure:
            denominator = model.measure(m.denominator or "", home=ref.table).measure
            if denominator.agg in ("count", "count_distinct"):
                return m.name
    return None


def average_of(model: SemanticModel, measure: str) -> str | None:
    """The average of a summed or counted measure per account: the ratio whose numerator it is
    (ARPU of MRR, events per active user), else the mean of the same column."""
    ref = model.measure(measure)
    if ref.measure.agg not in ("sum", "count"):
        return None
    table = model.tables[ref.table]
    for m in table.measures.values():
        if m.agg == "ratio" and m.numerator and m.numerator.split(".")[-1] == measure:
            if ref.measure.agg == "count" and m.format == "percent":
                continue  # a share, not an average
            return m.name
    for m in table.measures.values():
        if m.agg == "avg" and m.column == ref.measure.column:
            return m.name
    return None


def _ratio_of_both(model: SemanticModel, measures: list[str]) -> str | None:
    """The ratio of two measures the question names together ("events per active user"), or
    of their kin ("average MRR per paying account": MRR over the accounts billed, ARPU)."""
    short = {m.split(".")[-1] for m in measures}
    for table in model.tables.values():
        for m in table.measures.values():
            parts = {(m.numerator or "").split(".")[-1], (m.denominator or "").split(".")[-1]}
            if m.agg == "ratio" and parts <= short:
                return m.name
    first, second = (_kin(model, m) for m in measures)
    for table in model.tables.values():
        for m in table.measures.values():
            if m.agg != "ratio":
                continue
            top, bottom = ((x or "").split(".")[-1] for x in (m.numerator, m.denominator))
            if (top in first and bottom in second) or (top in second and bottom in first):
                return m.name
    return None


def _kin(model: SemanticModel, measure: str) -> set[str]:
    """``measure`` and the measures of its table over the same rows and column that differ only
    in how periods combine (paying accounts and subscribers, revenue and MRR), an average's
    being the sums of its column: each may stand for another in "X per Y"."""
    ref = model.measure(measure)
    m = ref.measure
    agg = "sum" if m.agg == "avg" else m.agg
    if agg not in ("sum", "count", "count_distinct"):
        return {m.name}
    return {m.name} | {
        twin.name
        for twin in model.tables[ref.table].measures.values()
        if (twin.agg, twin.column, twin.filters) == (agg, m.column, m.filters)
    }


def ratio_asked(model: SemanticModel, measures: list[str], text: str) -> str | None:
    """The ratio of exactly two measures the question names together as a rate or an average
    ("events per active user", "share of users who converted"), or None."""
    names = list(dict.fromkeys(measures))
    if intent(text) not in ("average", "rate") or len(names) != 2:
        return None
    return _ratio_of_both(model, names)


def fit(
    model: SemanticModel, measures: list[str], text: str, ranked_outcome: bool = False
) -> list[str]:
    """``measures`` turned into the kind of number the question asks for (``ranked_outcome``:
    the words rank how often an outcome happens, see ``ranks_an_outcome``)."""
    kind = intent(text) or ("quality" if ranked_outcome else None)
    if any(model.measure(m).measure.agg == "ratio" for m in measures):
        return measures  # the rate words name the rate already asked for; counts stay counts
    if kind in ("rate", "quality"):
        rates = [rate_of(model, m) for m in measures]
        if any(rates):
            return list(dict.fromkeys(r or m for r, m in zip(rates, measures, strict=True)))
    if kind == "average":
        averages = [average_of(model, m) for m in measures]
        if any(averages):
            return list(dict.fromkeys(a or m for a, m in zip(averages, measures, strict=True)))
    return measures


def rows_counted(model: SemanticModel, dimension: str, text: str) -> str | None:
    """The count of the rows a level is a value of, when the question counts that level and
    names no measure: "how many API calls last month" counts events of that type."""
    return _rows_of(model, dimension) if intent(text) == "count" else None


def rows_by_frequency(model: SemanticModel, dimension: str, raw: tuple[str, ...]) -> str | None:
    """The count of the rows a field splits, when the question ranks its values by how often
    they occur and names no measure: "which event type is the most common"."""
    ranked = any(w in DESCENDING or w in ASCENDING for w in raw)
    return _rows_of(model, dimension) if ranked and FREQUENCY_WORDS & set(raw) else None


_HOW_MUCH = re.compile(r"\bhow much (?:did|do|does|have|has|had|will) (?:we|they|you|i)\b")


def amount_done(
    model: SemanticModel,
    names: list[tuple[str, tuple[str, ...]]],
    text: str,
    stems: tuple[str, ...],
) -> tuple[str, int] | None:
    """ "how much did we bill": the one summed measure whose name, or a synonym, holds the verb
    said after "how much did we" (``names``: each measure's name and the stems of a phrase
    naming it), with the verb's position; None when no word or several measures fit."""
    said = _HOW_MUCH.search(text.lower())
    if said is None:
        return None
    at = len(tokens(text[: said.end()]))
    if at >= len(stems):
        return None
    found = {
        name
        for name, words in names
        if stems[at] in words
        and model.measure(name).measure.agg == "sum"
        and model.measure(name).measure.non_additive is None
    }
    return (found.pop(), at) if len(found) == 1 else None


def _rows_of(model: SemanticModel, dimension: str) -> str | None:
    """The one plain count of the rows of the table ``dimension`` belongs to."""
    candidates = model.dimension_candidates(dimension)
    if len(candidates) != 1:
        return None
    table = model.tables[candidates[0].table]
    counts = [m.name for m in table.measures.values() if m.agg == "count" and not m.filters]
    return counts[0] if len(counts) == 1 else None


def distinct_counted(model: SemanticModel, noun: str, activity: str) -> str | None:
    """The distinct count of ``noun``'s rows among ``activity``'s ("how many users used X",
    "the feature used by the most accounts"): a count-distinct measure of the activity's table
    over the key of the noun's table."""
    counted, done = model.measure(noun), model.measure(activity)
    if counted.table == done.table:
        return None
    return _distinct_of(model, counted.table, done.table)


def counted_among(model: SemanticModel, measure: str, fields: list[str]) -> str | None:
    """A count of one table's rows split or filtered by a field only another table's rows have,
    rows that each belong to one of the counted ("number of users by feature" when the feature
    is an event's): the distinct count of the counted rows among the other table's, so that a
    window falls on the other table's date (the users active in it, not those who signed up)."""
    ref = model.measure(measure)
    if ref.measure.agg != "count" or ref.measure.filters:
        return None
    for name in fields:
        candidates = model.dimension_candidates(name)
        if any(c.table == ref.table or c.dimension.is_time for c in candidates):
            continue
        for c in candidates:
            path = model.join_path(c.table, ref.table)
            if path is None or any(edge.fans_out for edge in path):
                continue
            found = _distinct_of(model, ref.table, c.table)
            if found is not None:
                return found
    return None


def latest_of(model: SemanticModel, measure: str) -> str | None:
    """The twin of a count over a table of periods ("paying accounts", distinct accounts
    billed) that counts only the last period (a non-additive measure of the same table,
    aggregation, column and filters): the count asked with no window and no split by time is
    the latest one, as MRR's is."""
    ref = model.measure(measure)
    m = ref.measure
    if m.non_additive is not None or m.agg not in ("count", "count_distinct"):
        return None
    for twin in model.tables[ref.table].measures.values():
        if (
            twin.non_additive is not None
            and (twin.agg, twin.column, twin.filters) == (m.agg, m.column, m.filters)
            and twin.name != m.name
        ):
            return twin.name
    return None


# Words before an outcome's rows that make them what the rows became: "became paying customers".
_BECOMING = frozenset(tokens("become became becomes becoming turn turned turns turning into"))
# Words asking for the rows as they are at a time: "how many paying customers do we have".
_HELD = re.compile(
    r"\b(?:we(?: currently| still)? (?:have|had|got)|have we(?: got)?|had we|are there|were there"
    r"|currently|right now|at the moment|today)\b"
)
_HOW_MANY = re.compile(r"\bhow many\b")


def ongoing_count(
    model: SemanticModel,
    raw: tuple[str, ...],
    start: int,
    end: int,
    measure: str,
    text: str,
    *,
    split: bool = True,
) -> str | None:
    """A count of rows named by what they are doing, asked as held at a time ("how many paying
    customers do we have"), when the model gives those words, with another word for the same
    rows, to a count of the rows among another table's ("paying accounts": those billed): that
    count, of the rows doing it in the period, not of those that ever became so ("became
    paying customers", "paying customers by channel", or a rate of them keep ``measure``).
    Unless the count is ``split`` by a field, "how many" asks for them as held too: "how many
    paying customers in PK"."""
    if intent(text) not in ("count", None):
        return None
    lowered = text.lower()
    held = _HELD.search(lowered) or (not split and _HOW_MANY.search(lowered))
    if _BECOMING & set(raw[max(0, start - 2) : start]) or not held:
        return None
    return doing_now(model, raw[start:end], measure)


def doing_now(model: SemanticModel, said: tuple[str, ...], measure: str) -> str | None:
    """The count of the rows doing what ``said`` names in a period ("paying customers": the
    accounts billed), where the model gives ``measure``, a count of those that ever became so,
    the same words; else None."""
    if len(said) != 2 or not said[0].endswith("ing"):
        return None
    ref = model.measure(measure)
    if ref.measure.agg != "count" or not ref.measure.filters:
        return None
    own = model.tables[ref.table]
    nouns = {singular(t) for text in (own.name, *own.synonyms) for t in tokens(text)}
    if singular(said[1]) not in nouns:
        return None
    found = {
        m.name
        for table in model.tables.values()
        if table.name != ref.table
        for m in table.measures.values()
        if _distinct_of(model, ref.table, table.name) == m.name
        and any(
            len(words) == 2 and words[0] == said[0] and singular(words[1]) in nouns
            for words in (tokens(t) for t in (m.name, *m.synonyms))
        )
    }
    return found.pop() if len(found) == 1 else None


def _distinct_of(model: SemanticModel, counted: str, activity: str) -> str | None:
    """The count-distinct measure of table ``activity`` over the key of table ``counted``."""
    keys = set(model.tables[counted].primary_key)
    for m in model.tables[activity].measures.values():
        if m.agg == "count_distinct" and m.column in keys and not m.filters and not m.non_additive:
            return m.name
    return None
