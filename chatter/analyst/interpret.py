"""Question -> semantic query: the measures a parsed question asks for, split by the dimensions
and time grain it names, filtered by its levels, ordered and limited as it says.

The router uses this for a question that asks for numbers; follow-ups use its parts to edit the
previous query.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from chatter.analyst import measure_intent
from chatter.analyst.parse import Match, ParsedQuestion
from chatter.analyst.time_window import TimeWindow
from chatter.analyst.vocabulary import Entry, Vocabulary
from chatter.analyst.words import phrase
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import SemanticQuery


def build_query(parsed: ParsedQuestion, model: SemanticModel, vocab: Vocabulary) -> SemanticQuery:
    """The one semantic query the question asks for (not yet resolved against the model)."""
    measures = measures_asked(parsed, model)
    filters = [{**f, "field": own_table(f["field"], measures, model)} for f in parsed.filters()]
    # A field kept to one level is not a split; one with levels left out still is ("signups
    # by plan excluding starter": the other plans, one row each).
    filtered = {f["field"] for f in filters if f["op"] == "="}
    dims = [own_table(d, measures, model) for d in parsed.dimension_names]
    dims = [d for d in dims if d not in filtered]
    times = [d for d in dims if is_time(d, model)]
    if parsed.window is None and not parsed.grain and not times:
        # "how many paying accounts do we have": those of the last period, as MRR is
        measures = [measure_intent.latest_of(model, m) or m for m in measures]
    if parsed.grain or times:
        grain = parsed.grain or unsaid_grain(parsed)
        dims = [d for d in dims if not is_time(d, model)]
        targets = times or default_time(measures, model, vocab)
        dims += [f"{d}__{grain}" for d in targets]
    dims += spread_over_periods(parsed, measures, dims, model)
    order = []
    if parsed.descending is not None and measures:
        order = [{"field": measures[0], "descending": parsed.descending}]
    return SemanticQuery.parse(
        {
            "measures": measures,
            "dimensions": dims,
            "filters": [*filters, *window_filters(parsed, measures, model, vocab)],
            "order_by": order,
            "limit": parsed.limit,
        }
    )


#: The longest window (in days) a date split with no grain said is split by day in.
DAYS_SPLIT_BY_DAY = 31


def unsaid_grain(parsed: ParsedQuestion) -> str:
    """The grain of a date split whose grain the question does not say: by month (a date split
    by day is rarely what is meant), but by day in a window of a month or less ("signups by
    date last week": one row per day, not one for the month)."""
    window = parsed.window
    if window is None or window.start is None or window.end is None:
        return "month"
    return "day" if (window.end - window.start).days < DAYS_SPLIT_BY_DAY else "month"


def own_table(name: str, measures: list[str], model: SemanticModel) -> str:
    """A field the measure's own table has by the same name, over another table's: "MRR by
    plan" is by the plan billed (revenue's), "signups by plan" by the plan at signup."""
    table, _, short = name.rpartition(".")
    if not table or not measures:
        return name
    home = model.measure(measures[0]).table
    return short if home != table and short in model.tables[home].dimensions else name


def spread_over_periods(
    parsed: ParsedQuestion, measures: list[str], dims: list[str], model: SemanticModel
) -> list[str]:
    """A measure that does not add up over its date, asked over a window of several periods
    with no split by time ("MRR between March and May"), is shown period by period."""
    window = parsed.window
    if window is None or any(is_time(d.split("__")[0], model) for d in dims):
        return []
    for name in measures:
        na = model.measure(name).measure.non_additive
        if na is None:
            continue
        if _one_named_period(window):
            return []  # "MRR in Q3 2023": that quarter's MRR (its last month's), one number
        if window.start is None or window.end is None or _periods(window, na.grain) > 1:
            return [f"{na.dimension}__{na.grain}"]
    return []


_COUNTED = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
    r"(day|week|month|quarter|year)s?\b"
)


_SO_FAR = re.compile(r"^(?:(?:in|for|during) )?(?:the )?(this|current) (quarter|half|year)$")


def _period_end(start: dt.date, unit: str) -> dt.date:
    months = {"quarter": 3, "half": 6, "year": 12}[unit]
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _one_named_period(window: TimeWindow) -> bool:
    """A window that is one calendar quarter, half or year, named as such ("Q3 2023", "in 2024",
    "last quarter"), not a count of months that happens to fill one ("the last 3 months")."""
    if window.start is None or window.end is None or _COUNTED.search(window.said.lower()):
        return False
    start, end = window.start, window.end
    so_far = _SO_FAR.match(window.said.lower())
    if so_far:  # "this year": the year named, up to today
        end = _period_end(start, so_far.group(2))
    if start.day != 1 or (end + dt.timedelta(days=1)).day != 1:
        return False
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return (months, (start.month - 1) % months) in ((3, 0), (6, 0), (12, 0))


def _periods(window: TimeWindow, grain: str) -> int:
    """How many periods of ``grain`` a closed window touches."""
    assert window.start is not None and window.end is not None
    if grain == "day":
        return (window.end - window.start).days + 1
    if grain == "week":
        return (window.end - window.start).days // 7 + 1
    months = (window.end.year - window.start.year) * 12 + window.end.month - window.start.month
    size = {"month": 1, "quarter": 3, "year": 12}[grain]
    return months // size + 1


def measures_asked(parsed: ParsedQuestion, model: SemanticModel) -> list[str]:
    """The measures asked for. A count named by a word for the table's rows ("accounts",
    "signups") only qualifies another measure ("revenue of enterprise accounts", "conversion
    per signup cohort") unless the question counts ("how many customers")."""
    chosen: list[Match] = list(parsed.measures)
    if len(chosen) == 1:  # "how many paying customers": those billed, not those converted
        m = chosen[0]
        said = (parsed.words.raw, m.start, m.end, m.entry.name, parsed.text)
        split = bool(parsed.dimensions or parsed.grain)
        ongoing = measure_intent.ongoing_count(model, *said, split=split) if m.entry.words else None
        if ongoing is not None:
            chosen = [Match(Entry(m.entry.words, m.entry.raw, "measure", ongoing), m.start, m.end)]
    both = measure_intent.ratio_asked(model, [m.entry.name for m in chosen], parsed.text)
    if both is None and len(chosen) == 2:  # "revenue per paying customer": those billed
        doing = [
            measure_intent.doing_now(model, parsed.words.raw[m.start : m.end], m.entry.name)
            or m.entry.name
            for m in chosen
        ]
        both = measure_intent.ratio_asked(model, doing, parsed.text)
    if both is not None:  # "events per active user": the ratio of the two
        return [both]
    users_of = _accounts_that_used(chosen, parsed, model)
    if users_of is not None:  # "how many users used bulk_edit": distinct accounts of events
        return [users_of]
    nouns = [m for m in chosen if is_entity_noun(m, model)]
    counting = {i for i, r in enumerate(parsed.words.raw) if r in ("many", "number")}
    if len(nouns) > 1 and len(nouns) == len(chosen) and counting:
        # "how many events did accounts generate": the noun counted, not its subject.
        counted_nouns = [m for m in nouns if any(0 < m.start - i <= 2 for i in counting)]
        chosen = nouns = counted_nouns or nouns
    if len(nouns) < len(chosen):
        listed = {i for i, r in enumerate(parsed.words.raw) if r in ("and", "plus")}
        chosen = [
            m
            for m in chosen
            if m not in nouns
            or any(0 < m.start - i <= 2 for i in counting)
            or m.start - 1 in listed
        ]
    # "events from accounts that came in through referrals", "events for fintech companies":
    # the noun after "from" or "for" (and the levels it is said with) qualifies.
    qualifying = {"from", "of", "among", "by", "with", "whose", "that", "who", "for"}
    counting = {i for i, r in enumerate(parsed.words.raw) if r in ("many", "number")}
    counted = {m.start for m in chosen if any(0 < m.start - i <= 2 for i in counting)}
    level_words = {i for match, _ in parsed.levels for i in range(match.start, match.end)}

    def word_before(i: int) -> str:
        i -= 1
        while i in level_words:
            i -= 1
        return parsed.words.raw[i] if i >= 0 else ""

    heads = [
        m
        for m in chosen
        if m.start in counted or not (m in nouns and word_before(m.start) in qualifying)
    ]
    chosen = heads or chosen
    # "how many users churned": the verb's yes/no field is what is counted, the noun just
    # before it its subject.
    verbs = {m.start for m in chosen if not m.entry.words}
    chosen = [
        m
        for m in chosen
        if not (is_entity_noun(m, model) and any(0 < v - m.end + 1 <= 2 for v in verbs))
    ] or chosen
    names = list(dict.fromkeys(m.entry.name for m in sorted(chosen, key=lambda m: m.start)))
    ranked = any(measure_intent.ranks_an_outcome(parsed.words.raw, m.start, m.end) for m in chosen)
    fitted = measure_intent.fit(model, names, parsed.text, ranked)
    fields = [*parsed.dimension_names, *(m.entry.name for m, _ in parsed.levels)]
    among = measure_intent.counted_among(model, fitted[0], fields) if len(fitted) == 1 else None
    return [among] if among is not None else fitted  # "users by feature": active users


_USE_VERBS = frozenset(["use", "used", "uses", "using", "tried", "adopted"])


def _accounts_that_used(chosen: list[Match], parsed: ParsedQuestion, model: SemanticModel):
    """One table's row noun and another's use verb ("users used", "used by the most accounts"):
    how many of the noun's rows did the activity, a distinct count."""
    nouns = [m for m in chosen if is_entity_noun(m, model)]
    verbs = [m for m in chosen if m not in nouns and parsed.words.raw[m.start] in _USE_VERBS]
    if len(nouns) != 1 or len(verbs) != 1 or len(chosen) != 2:
        return None
    return measure_intent.distinct_counted(model, nouns[0].entry.name, verbs[0].entry.name)


def is_entity_noun(match: Match, model: SemanticModel) -> bool:
    """A bare count whose words are its table's name or one of its synonyms."""
    if not match.entry.words:  # a yes/no field read as the count of its yeses
        return False
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


_GENERIC_DATE_WORDS = frozenset(
    phrase("date time day timestamp period at up when month week quarter year")
)


def window_field(
    parsed: ParsedQuestion, measures: list[str], model: SemanticModel, vocab: Vocabulary
) -> str | None:
    """The date a window filters: one the question names next to it ("signed up in 2024",
    "churned in 2024": a date whose words, or those of a yes/no field beside it, stand just
    before the window), else the date of the measure's population (a rate's denominator's:
    conversion and churn rates in 2024 are those of the accounts that signed up in 2024)."""
    window = parsed.window
    if window is None:
        return None
    # a measure's own words ("churn rate") name what is measured, and a level's
    # ("contract_signed events") a value, not a date
    measure_words = {i for m in parsed.measures if m.entry.words for i in range(m.start, m.end)} | {
        i for m, _ in parsed.levels for i in range(m.start, m.end)
    }
    before = [
        (window.span[0] - i, parsed.words.stems[i])
        for i in range(max(0, window.span[0] - 4), window.span[0])
        if i not in measure_words
    ]
    best: tuple[int, str] | None = None
    home = model.measure(measures[0]).table if measures else None
    for table in model.tables.values():
        path = model.join_path(home, table.name) if home and table.name != home else []
        if path is None or any(edge.fans_out for edge in path):
            continue  # a date the measure's rows reach only one to many
        dims = table.dimensions.values()
        for d in dims:
            if not d.is_time:
                continue
            own = {w for text in (d.name, *d.synonyms) for w in phrase(text)}
            # A yes/no field whose name shares a word with the date ("churned", churn_date).
            flags = [f for f in dims if f.type == "boolean" and set(phrase(f.name)) & own]
            own |= {w for f in flags for text in (f.name, *f.synonyms) for w in phrase(text)}
            own -= _GENERIC_DATE_WORDS
            for distance, stem in before:
                if stem in own and (best is None or distance < best[0]):
                    qualified = (
                        d.name
                        if len(model.dimension_candidates(d.name)) == 1
                        else f"{table.name}.{d.name}"
                    )
                    best = (distance, qualified)
    population = measures[0] if measures else None
    if best is not None and not _outcome_date(model, population, best[1]):
        return best[1]
    while population is not None:
        ref = model.measure(population)
        if ref.measure.agg != "ratio" or not ref.measure.denominator:
            break
        population = ref.measure.denominator
    dates = default_time([population], model, vocab) if population else []
    return dates[0] if dates else None


def _outcome_date(model: SemanticModel, measure: str | None, date: str) -> bool:
    """Whether ``date`` is when a rate's outcome happened ("churned in 2024" for the churn
    rate): a rate over a window counts its population's window, not its outcome's, or every
    account counted would have had the outcome."""
    if measure is None:
        return False
    ref = model.measure(measure)
    if ref.measure.agg != "ratio" or not ref.measure.numerator:
        return False
    numerator = model.measure(ref.measure.numerator, home=ref.table).measure
    date_words = set(phrase(date.split(".")[-1])) - _GENERIC_DATE_WORDS
    return any(set(phrase(f.field)) & date_words for f in numerator.filters)


def window_filters(
    parsed: ParsedQuestion, measures: list[str], model: SemanticModel, vocab: Vocabulary
) -> list[dict[str, Any]]:
    """The question's window as filters on the date that fits ``measures``."""
    window, field = parsed.window, window_field(parsed, measures, model, vocab)
    if window is None or field is None:
        return []
    return filters_for_window(window, field, model)


def filters_for_window(
    window: TimeWindow, field: str, model: SemanticModel
) -> list[dict[str, Any]]:
    """A window as filters on ``field``: inclusive days on a date, and on a timestamp from
    the first day's midnight up to (not including) the midnight after the last."""
    timestamp = any(c.dimension.type == "timestamp" for c in model.dimension_candidates(field))
    out: list[dict[str, Any]] = []
    if timestamp:
        if window.start:
            out.append({"field": field, "op": ">=", "value": window.start.isoformat()})
        if window.end:
            after = (window.end + dt.timedelta(days=1)).isoformat()
            out.append({"field": field, "op": "<", "value": after})
        return out
    if window.start and window.end:
        value = [window.start.isoformat(), window.end.isoformat()]
        return [{"field": field, "op": "between", "value": value}]
    if window.start:
        return [{"field": field, "op": ">=", "value": window.start.isoformat()}]
    assert window.end is not None
    return [{"field": field, "op": "<=", "value": window.end.isoformat()}]
