"""What the router can recognise, drawn from the semantic model, the templates and the data:
measure and dimension names with their synonyms, the levels of categorical dimensions (read from
the database), and each template's words (its description, its questions, the names and
synonyms of the measures and dimensions its steps use)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chatter.analyst.level_aliases import aliases
from chatter.analyst.words import STOPWORDS, phrase, singular, tokens
from chatter.semantic.model import SemanticModel
from chatter.semantic.warehouse import Warehouse
from chatter.workflow.template import StepSpec, Template

MAX_LEVELS = 200  # a dimension with more distinct values is not a list of segments


@dataclass(frozen=True)
class Entry:
    """One recognisable phrase and what it names."""

    words: tuple[str, ...]  # stemmed
    raw: tuple[str, ...]  # as written (an exact match beats a stemmed one)
    kind: str  # "measure", "dimension" or "level"
    name: str  # measure or dimension name (qualified when needed)
    value: str | None = None  # the level, for kind "level"
    ratio: bool = False  # a ratio measure (preferred when the question asks for a share)
    weight: float = 1.0  # names and synonyms 1.0; words from descriptions less


@dataclass
class Vocabulary:
    entries: list[Entry] = field(default_factory=list)
    template_words: dict[str, Counter[str]] = field(default_factory=dict)
    # Keyword phrases naming what no measure gives ("lifetime value", "power users"): a
    # question that uses one wants that template's analysis.
    template_concepts: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    known_words: set[str] = field(default_factory=set)  # raw words, for spelling repair
    # Word pairs of the model's names ("company size"): a short slip is repaired only in one.
    known_pairs: frozenset[tuple[str, str]] = frozenset()
    # A yes/no dimension and the count of rows where it is true ("how many converted").
    flag_measures: dict[str, str] = field(default_factory=dict)
    time_dimensions: dict[str, str] = field(default_factory=dict)  # table -> its first date dim
    levels: dict[str, list[str]] = field(default_factory=dict)  # dimension -> its data's values
    generic_words: set[str] = field(default_factory=set)  # stems that mean more than a level
    # Stems of the model's names and synonyms and of the templates' keywords: words that name
    # something besides a value (a word known only from a template's prose may be a value).
    naming_words: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)  # the date and timestamp dimensions
    row_counts: set[str] = field(default_factory=set)  # counts of a table's rows ("users")
    counts: set[str] = field(default_factory=set)  # every count, distinct ones included
    # Per table, the words naming its rows ("users", "accounts", "customers"), singular.
    row_nouns: list[frozenset[str]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind]


def build_vocabulary(
    model: SemanticModel,
    templates: Mapping[str, Template],
    levels: dict[str, list[str]] | None = None,
) -> Vocabulary:
    vocab = Vocabulary()
    for table in model.tables.values():
        for m in table.measures.values():
            for text in (m.name, *m.synonyms):
                vocab.entries.append(
                    Entry(
                        phrase(text), tuple(tokens(text)), "measure", m.name, ratio=m.agg == "ratio"
                    )
                )
        # "how many churned": the count whose yes/no filters include the flag, fewest first
        # (churned_users is converted and churned; "converted" is converted_users).
        flagged = [
            m
            for m in table.measures.values()
            if m.agg == "count" and m.filters and all(f.value is True for f in m.filters)
        ]
        for m in sorted(flagged, key=lambda m: len(m.filters)):
            for f in m.filters:
                vocab.flag_measures.setdefault(f.field, m.name)
        vocab.row_counts |= {
            m.name for m in table.measures.values() if m.agg == "count" and not m.filters
        }
        vocab.counts |= {
            m.name for m in table.measures.values() if m.agg in ("count", "count_distinct")
        }
        nouns = [tokens(text) for text in (table.name, *table.synonyms)]
        vocab.row_nouns.append(frozenset(singular(n[0]) for n in nouns if len(n) == 1))
        for d in table.dimensions.values():
            qualified = (
                d.name if len(model.dimension_candidates(d.name)) == 1 else f"{table.name}.{d.name}"
            )
            for text in (d.name, *d.synonyms):
                vocab.entries.append(
                    Entry(phrase(text), tuple(tokens(text)), "dimension", qualified)
                )
            if d.is_time and table.name not in vocab.time_dimensions:
                vocab.time_dimensions[table.name] = d.name
            if d.is_time:
                vocab.dates.add(qualified)
    for dimension, values in (levels or {}).items():
        vocab.levels[dimension] = list(values)
        named = [(value, value) for value in values]
        named += list(aliases(values).items())  # "Germany" for the level "DE"
        for text, value in named:
            words = phrase(text)
            if words:  # short codes and common words are vetted where they are matched
                vocab.entries.append(
                    Entry(words, tuple(tokens(text)), "level", dimension, value=value)
                )
    model_words = {w for e in vocab.entries if e.kind != "level" for w in e.words}
    # Words of a template's name that other names share ("deep dive") tell nothing apart.
    in_names = Counter(w for name in templates for w in set(tokens(name)))
    for name, template in templates.items():
        concepts = [
            p for p in (phrase(k) for k in template.keywords) if p and not set(p) <= model_words
        ]
        distinct = [w for w in tokens(name) if in_names[w] == 1]
        if len(distinct) > 1:  # "revenue optimization": the template's own name, asked for
            concepts = [*concepts, phrase(" ".join(distinct))]
        vocab.template_concepts[name] = concepts
        vocab.template_words[name] = _template_words(template, distinct, concepts)
    _discount_shared(vocab.template_words)
    # Words that mean something besides a level: a level spelled like one ("growth") needs a
    # cue to be read as the level. Taken before the levels of the templates' splits join the
    # templates' words.
    vocab.generic_words = {w for c in vocab.template_words.values() for w in c} | model_words
    vocab.naming_words = (
        model_words
        | {w for t in templates.values() for k in (*t.keywords, t.name) for w in phrase(k)}
        | {w for t in model.tables.values() for k in (t.name, *t.synonyms) for w in phrase(k)}
    )
    for name, template in templates.items():
        _step_words(model, template, levels or {}, vocab.template_words[name])
    vocab.known_words = {w for e in vocab.entries for w in e.raw} | {
        w
        for t in templates.values()
        for text in (
            t.name,
            t.description,
            *t.questions,
            *t.keywords,
            *(f"{s.id} {s.description}" for s in t.steps),
        )
        for w in tokens(text)
    }
    vocab.known_pairs = frozenset(
        (a, b)
        for e in vocab.entries
        if e.kind != "level"
        for a, b in zip(e.raw, e.raw[1:], strict=False)
    )
    return vocab


def _discount_shared(words: dict[str, Counter[str]]) -> None:
    """A word every template uses tells them apart no better than a stopword ("deep", "dive")."""
    if len(words) < 2:
        return
    for word in set.intersection(*(set(c) for c in words.values())):
        for counter in words.values():
            del counter[word]


def _counter_adder(words: Counter[str]) -> Any:
    def add(text: str, weight: int) -> None:
        for t in tokens(text):
            if t not in STOPWORDS and len(t) > 2:
                words[phrase(t)[0]] += weight

    return add


def _template_words(
    template: Template, name_words: list[str], concepts: list[tuple[str, ...]]
) -> Counter[str]:
    """Words of the template's own text: its distinct name words, description, questions,
    keywords (concepts count as phrases elsewhere, not word by word) and step descriptions."""
    words: Counter[str] = Counter()
    add = _counter_adder(words)
    add(" ".join(name_words), 3)
    add(template.description, 1)
    for text in (*template.questions, *(k for k in template.keywords if phrase(k) not in concepts)):
        add(text, 3)
    for step in template.steps:
        add(step.description, 1)
        add(f"{step.id} {step.tool}".replace("_", " "), 1)
    return words


def _step_words(
    model: SemanticModel, template: Template, levels: dict[str, list[str]], words: Counter[str]
) -> None:
    """Add the names and synonyms of what the steps measure and split by (their parameters and
    their tools' defaults), and the levels of the dimensions they split by ("the API")."""
    add = _counter_adder(words)
    for step in template.steps:
        measures, dimensions = step_names(step)
        for name in measures:
            ref = model.measure(name)
            for text in (ref.measure.name, *ref.measure.synonyms):
                add(text, 2)
        tested = split_dimensions(step, model)
        for name in dict.fromkeys([*dimensions, *tested]):
            for dim in model.dimension_candidates(name.split("__")[0]):
                for text in (dim.dimension.name, *dim.dimension.synonyms):
                    add(text, 1)
        for name in tested:
            for value in levels.get(name, []):
                add(value, 2)


def split_dimensions(step: StepSpec, model: SemanticModel) -> list[str]:
    """The dimensions a step tests across: its ``dimensions`` parameter, or, for a segment test
    that names none, every categorical dimension it will test by default."""
    from chatter.tools.analyses import SegmentTestParams
    from chatter.tools.analyses.segment_dimensions import choose_dimensions
    from chatter.tools.registry import get_tool, parse_params

    given = step.parameters.get("dimensions")
    if isinstance(given, list):
        return [str(d) for d in given]
    params = parse_params(get_tool(step.tool), step.parameters, where=f"step {step.id}")
    if not isinstance(params, SegmentTestParams) or params.dimensions is not None:
        return []
    roles = (params.converted_dimension, params.churned_dimension)
    return choose_dimensions(model, None, params.metric, params.entity_table, roles).dimensions


def step_names(step: StepSpec) -> tuple[list[str], list[str]]:
    """The measures and dimensions a step uses: its parameters and its tool's defaults."""
    from chatter.semantic.query import SemanticQuery
    from chatter.tools.registry import get_tool, marker, parse_params

    params = parse_params(get_tool(step.tool), step.parameters, where=f"step {step.id}")
    if isinstance(params, SemanticQuery):
        return list(params.measures), list(params.dimensions)
    measures: list[str] = []
    dimensions: list[str] = []
    for name, info in type(params).model_fields.items():
        kind = marker(info.annotation, info.metadata)
        value = getattr(params, name)
        values = list(value) if isinstance(value, tuple | list) else [value]
        if kind is not None and value is not None:
            (measures if kind.kind == "measure" else dimensions).extend(map(str, values))
    return measures, dimensions


def data_levels(warehouse: Warehouse) -> dict[str, list[str]]:
    """The values of every low-cardinality string dimension, read from the data (cached by the
    result cache like any query), so "only enterprise" finds the plan called enterprise."""
    out: dict[str, list[str]] = {}
    model = warehouse.model
    for table in model.tables.values():
        for d in table.dimensions.values():
            if d.type != "string":
                continue
            qualified = (
                d.name if len(model.dimension_candidates(d.name)) == 1 else f"{table.name}.{d.name}"
            )
            try:
                result = warehouse.query({"dimensions": [qualified], "limit": MAX_LEVELS + 1})
            except Exception:  # a table the database lacks: nothing to recognise there
                continue
            values = [str(row[0]) for row in result.rows if row[0] is not None]
            if len(values) <= MAX_LEVELS:
                out[qualified] = values
    return out
