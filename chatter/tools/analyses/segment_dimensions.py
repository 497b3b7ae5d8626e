"""Which dimensions a segment test covers when the user names none: every categorical dimension
of the entity table, so an effect planted in any of them is looked for (a deep dive that tested
only two of five dimensions reported "no difference" on data with one strong channel effect).

Left out: identifiers, dates and numbers (not segments), the outcome's own fields (a rate of
converted accounts split by ``converted`` is true by construction), and dimensions with so many
levels that each is a handful of accounts (an id stored as text); each is said in a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatter.semantic.model import SemanticModel

#: At most this many dimensions are tested by default, in the model's order; more are named in
#: a note and can be chosen with ``dimensions``.
MAX_DEFAULT_DIMENSIONS = 12
#: A dimension picked by default with more levels than this is left out (with a note).
MAX_DEFAULT_LEVELS = 50
_CATEGORICAL = frozenset({"string", "boolean"})


@dataclass
class DimensionChoice:
    """The dimensions to test and what was left out of the default, and why."""

    dimensions: list[str]
    by_default: bool
    left_out: list[str] = field(default_factory=list)

    def too_many_levels(self, name: str, levels: int) -> None:
        self.left_out.append(
            f"{name} ({levels:,} levels, more than {MAX_DEFAULT_LEVELS}; name it in "
            "dimensions to test it)"
        )

    def notes(self, tested: list[str]) -> list[str]:
        if not self.by_default:
            return []
        out = [
            "Every categorical dimension was tested (none was named): "
            + (", ".join(tested) if tested else "none")
            + "; all their tests are one correction family with the run's other tests."
        ]
        if self.left_out:
            out.append("Left out of the default: " + "; ".join(self.left_out) + ".")
        return out


def _outcome_fields(model: SemanticModel, metric: str) -> set[str]:
    """The columns the metric's own counts filter on (``converted`` for a conversion rate)."""
    ratio = model.measure(metric).measure
    out: set[str] = set()
    for part in (ratio.numerator, ratio.denominator):
        if part:
            out |= {f.field.split(".")[-1] for f in model.measure(part).measure.filters}
    return out


def choose_dimensions(
    model: SemanticModel,
    named: tuple[str, ...] | None,
    metric: str,
    table: str,
    outcomes: tuple[str, ...] = (),
) -> DimensionChoice:
    """``named`` as given, or every categorical dimension of ``table`` but the outcome's own
    (``outcomes`` adds the roles that are outcomes, e.g. ``converted``, ``churned``)."""
    if named is not None:
        return DimensionChoice(list(named), by_default=False)
    spec = model.tables[table]
    skip = _outcome_fields(model, metric) | set(spec.primary_key)
    skip |= {o.split(".")[-1] for o in outcomes}
    eligible = [
        name
        for name, dim in spec.dimensions.items()
        if dim.type in _CATEGORICAL and name not in skip and dim.column not in skip
    ]
    choice = DimensionChoice(eligible[:MAX_DEFAULT_DIMENSIONS], by_default=True)
    if len(eligible) > MAX_DEFAULT_DIMENSIONS:
        extra = eligible[MAX_DEFAULT_DIMENSIONS:]
        choice.left_out.append(
            f"{', '.join(extra)} (more than {MAX_DEFAULT_DIMENSIONS} dimensions; name them in "
            "dimensions to test them)"
        )
    return choice
