"""Shapes of a sentence in which a word can only be a value, used to catch values the data
lacks: a word set against a level ("retail vs education"), a word just before the rows counted
("Healthcare customers' churn"), a word just after a field's name ("plan choir"), a country the
data lacks ("in australia") and a name written as an identifier ("gantt_view"). Number bands
are in ``chatter.analyst.level_bands``."""

from __future__ import annotations

import re

from chatter.analyst.level_aliases import aliases, countries_in
from chatter.analyst.level_names import (
    UnknownLevel,
    dimension_named,
    names_rows,
    of_field,
    of_no_field,
)
from chatter.analyst.parse import ParsedQuestion
from chatter.analyst.structure_cues import EXCLUDE_CUES, FILTER_CUES
from chatter.analyst.vocabulary import Vocabulary
from chatter.analyst.words import STOPWORDS, tokens

_AGAINST = frozenset(["vs", "versus", "or", "and"])


def against_level(
    parsed: ParsedQuestion, vocab: Vocabulary, said: str, first: int, last: int
) -> UnknownLevel | None:
    """``said`` (the words ``first..last``) set against a level ("retail vs education",
    "telecom or retail"): another value of that level's field, asked back as one."""
    raw = parsed.words.raw
    placed = {
        i
        for m in [*parsed.measures, *parsed.dimensions, *(m for m, _ in parsed.levels)]
        for i in range(m.start, m.end)
    }
    # "trade show vs meetup": an unplaced word more may end the value set against the level
    more = last + 1 < len(raw) and raw[last + 1].isalpha() and last + 1 not in placed
    more = more and raw[last + 1] not in _AGAINST | _ARTICLES
    if _compared_to(raw, first):  # "webinar signups compared to cold calling"
        earlier = [m for m, _ in parsed.levels if m.end <= first and m.entry.name in vocab.levels]
        if earlier:
            if more:
                said = " ".join(parsed.words.original[first : last + 2])
            return of_field(vocab, said, earlier[-1].entry.name)
    for match, _ in parsed.levels:
        if match.entry.name not in vocab.levels:
            continue
        if (match.end + 1 == first and raw[match.end] in _AGAINST) or (
            last + 2 == match.start and raw[last + 1] in _AGAINST
        ):
            return of_field(vocab, said, match.entry.name)
        if more and last + 3 == match.start and raw[last + 2] in _AGAINST:
            said = " ".join(parsed.words.original[first : last + 2])
            return of_field(vocab, said, match.entry.name)
    return None


_COMPARED_TO = frozenset([("compared", "to"), ("compared", "with"), ("relative", "to")])


def _compared_to(raw: tuple[str, ...], first: int) -> bool:
    """Whether the words before ``first`` set what follows against what came before."""
    return tuple(raw[max(0, first - 2) : first]) in _COMPARED_TO or (
        first > 0 and raw[first - 1] in ("vs", "versus", "against")
    )


def before_rows(parsed: ParsedQuestion, vocab: Vocabulary, last: int) -> bool:
    """Whether the word after ``last`` names the rows counted: "Healthcare customers' churn",
    "conversion of solar companies" (a value qualifying whom the number is about)."""
    raw = parsed.words.raw
    return last + 1 < len(raw) and names_rows(vocab, raw[last + 1], fields=False)


# Words that compare rather than name: "the cheaper plans", "larger companies".
_COMPARATIVES = frozenset(
    [
        "cheaper",
        "pricier",
        "costlier",
        "bigger",
        "larger",
        "smaller",
        "higher",
        "lower",
        "better",
        "worse",
        "newer",
        "older",
        "faster",
        "slower",
        "longer",
        "shorter",
        "greater",
        "lesser",
        "fewer",
        "richer",
        "poorer",
        "stronger",
        "weaker",
        "busier",
        "heavier",
        "lighter",
        "earlier",
        "later",
        "wider",
        "narrower",
        "deeper",
        "safer",
        "riskier",
        "healthier",
        "happier",
        "more",
        "less",
    ]
)


_SUPERLATIVES = frozenset(
    tokens(
        "cheapest priciest costliest biggest largest smallest highest lowest newest oldest fastest "
        "slowest longest shortest greatest strongest weakest busiest heaviest lightest earliest "
        "latest widest deepest safest riskiest healthiest happiest richest poorest best worst most "
        "least fewest"
    )
)


def comparative(word: str) -> bool:
    """A comparative or superlative ("cheaper", "largest"), not a name ending so ("starter",
    "Forest")."""
    return word in _COMPARATIVES or word in _SUPERLATIVES


def level_of_another_field(parsed: ParsedQuestion, vocab: Vocabulary) -> list[UnknownLevel]:
    """A level of one field said as another's: "the galaxy industry" when galaxy is a plan,
    "the newsletter plan" when newsletter is a channel (the article makes it a name)."""
    raw = parsed.words.raw
    out = []
    for match, _ in parsed.levels:
        own = match.entry.name.split(".")[-1]
        if match.entry.value is None:
            continue
        after = raw[match.end] if match.end < len(raw) else ""
        field = dimension_named(vocab, after)
        # "the galaxy industry", or "quote_sent plan signups": the rows counted follow
        named = match.start > 0 and raw[match.start - 1] in ("the", "a", "an", "our", "their")
        counted = match.end + 1 < len(raw) and names_rows(vocab, raw[match.end + 1], fields=False)
        if field is None or not (named or counted):
            # "conversion for plan veterinary": a field's name (not split by), then the value
            # said as its
            field = next(
                (
                    d.entry.name
                    for d in parsed.dimensions
                    if d.end == match.start
                    and d.entry.name in vocab.levels
                    and (d.start == 0 or raw[d.start - 1] not in _SPLITS)
                ),
                None,
            )
        if field is None or field.split(".")[-1] == own:
            continue
        if match.entry.value not in vocab.levels[field]:
            out.append(of_field(vocab, match.entry.value, field))
    return out


# Words before a field that split by it ("by plan veterinary" is by plan, for veterinary).
_SPLITS = frozenset(["by", "per", "across", "each", "every", "which", "what"])


# Words after a field's name that say how its values are shown, or speak of them all, not
# which: "country code", "plan level", "the plan mix", "channel performance", "by channel YoY".
_FIELD_NOUNS = frozenset(
    tokens(
        "code codes name names id ids type types kind kinds group groups level levels band bands "
        "bucket buckets tier tiers category categories segment segments label labels option "
        "options wise basis sorted ordered descending ascending alphabetically mix distribution "
        "performance summary overview analysis details metrics kpis yoy mom qoq wow "
        # verbs that go on to say how ("by plan including trials"), where a value could end
        # so too ("industry fishing")
        "including included starting beginning ending going based combined listed shown "
        "showing displayed having"
    )
)


def speaks_of_all(raw: tuple[str, ...], at: int) -> bool:
    """Whether the word at ``at``, just after a field's name, speaks of its values as a whole
    or how they are shown ("country code", "plan mix"), not of one."""
    return at < len(raw) and raw[at] in _FIELD_NOUNS


# Words before a field that make it a clause's subject: "which plan brings in the most".
_ASKING = frozenset(["which", "what", "whose", "each", "every", "any"])
_ARTICLES = frozenset(["the", "a", "an", "our", "their", "my", "this", "that", "its"])


def after_field(
    parsed: ParsedQuestion,
    vocab: Vocabulary,
    candidates: set[str],
    used: set[int],
    *,
    names_only: bool = False,
) -> list[UnknownLevel]:
    """ "plan choir", "industry biotech", "channel tik tok": the words just after a categorical
    field's name that the parse could not place (``candidates``, none of ``used``) are a value
    of that field the data lacks. ``names_only``: only words written as names ("plan Choir"),
    for questions asking why, where a verb may follow ("why does channel matter")."""
    raw, original = parsed.words.raw, parsed.words.original
    levels_at = {i for m, _ in parsed.levels for i in range(m.start, m.end)}
    out = []
    for d in parsed.dimensions:
        lead = d.start - 1
        # "which plan brings in the most", "did the partner program channel bring in": the
        # field heads a clause's subject, the value (if any) said before it.
        heads = lead >= 0 and (
            raw[lead] in _ASKING | _ARTICLES or lead in levels_at or raw[lead] in candidates
        )
        if d.entry.name not in vocab.levels or heads:
            continue
        end = d.end
        while (
            end < len(raw)
            and raw[end] in candidates
            and len(raw[end]) > 2  # "(p < 0.001)"
            and end not in used
            and parsed.outside_window(end)
            and raw[end] not in _FIELD_NOUNS
            and parsed.words.stems[end] not in FILTER_CUES | EXCLUDE_CUES  # "size, not ..."
            and not comparative(raw[end])
            and not raw[end].endswith("ly")  # "by plan respectively"
        ):
            end += 1
        said = " ".join(original[d.end : end])
        if end > d.end and (not names_only or said[:1].isupper()):
            out.append(of_field(vocab, said, d.entry.name))
    return out


def verb_like(word: str) -> bool:
    """A word shaped like a verb or an adverb ("keeping", "returned", "mostly")."""
    return word.endswith(("ing", "ed", "ly"))


def _country_fields(vocab: Vocabulary) -> list[str]:
    return [d for d, values in vocab.levels.items() if aliases(values)]


# Words after which a word in lower case may be a place: "in australia", "excluding chile".
_PLACE_CUES = frozenset(
    tokens(
        "in from for only excluding except without among within outside vs versus or and "
        "across based located"
    )
)


def _place_said(parsed: ParsedQuestion, vocab: Vocabulary, i: int) -> bool:
    """Whether the word at ``i``, a word the analyst does not know, stands where a place does:
    after a filter cue (an article between), or before the rows counted ("kenya accounts")."""
    raw = parsed.words.raw
    if raw[i] in vocab.known_words or raw[i] in STOPWORDS or not parsed.outside_window(i):
        return False  # "for us", "from me": words, not places
    lead = i - 1
    while lead >= 0 and raw[lead] in _ARTICLES:
        lead -= 1
    return (lead >= 0 and raw[lead] in _PLACE_CUES) or before_rows(parsed, vocab, i)


def unknown_countries(
    parsed: ParsedQuestion, vocab: Vocabulary, found: list[UnknownLevel]
) -> list[UnknownLevel]:
    """Countries named that the data's country field lacks: "customers in the United States"
    when no account is in the US, "country JP"."""
    fields = _country_fields(vocab)
    if not fields:
        return []
    levels_at = {i for m, _ in parsed.levels for i in range(m.start, m.end)}
    said_before = {f.said.lower() for f in found}
    out = []
    raw = parsed.words.raw
    places = frozenset(i for i in range(len(raw)) if _place_said(parsed, vocab, i))
    for start, end, code in countries_in(raw, parsed.words.original, places):
        if levels_at & set(range(start, end)):
            continue  # a level of the data, read as one
        field = fields[0]
        named = set(vocab.levels[field]) | set(aliases(vocab.levels[field]).values())
        said = " ".join(parsed.words.original[start:end])
        if code not in named and said.lower() not in said_before:
            out.append(of_field(vocab, said, field))
    return out


_IDENTIFIER = re.compile(r"(?<!\w)([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)(?!\w)")


def unknown_identifiers(
    parsed: ParsedQuestion, asked: str, vocab: Vocabulary, found: list[UnknownLevel]
) -> list[UnknownLevel]:
    """A name written as an identifier ("gantt_view") that the parse could not place: a value
    the data lacks (a field's name would have been placed, a slip in one repaired)."""
    unknown = set(parsed.unknown_words)
    said_before = {f.said.lower() for f in found}
    out = []
    for m in _IDENTIFIER.finditer(asked):
        ident = m.group(1)
        parts = ident.lower().split("_")
        if any(p in unknown for p in parts) and ident.lower() not in said_before:
            out.append(of_no_field(vocab, ident))
    return out
