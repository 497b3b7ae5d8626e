"""The number check: every number an insight's text states must be readable from its evidence.

A number is read with the precision it is shown at (``13.9%`` is 0.139 give or take 0.0005)
and matches an evidence value that rounds to it; signs are not compared (direction is said in
words). Percentages and percentage points are read as proportions, ``k``/``M``/``bn`` scale,
``p < 0.001`` needs an evidence p-value below the bound. Names from the evidence (levels such
as ``1-10``, dates, reasons) are taken out of the text first, so their digits are not numbers.

>>> unsupported_numbers("fintech 13.0% vs 24.5% (p < 0.001)", [{"rate": 0.1302,
...     "rate_rest": 0.2448, "p_adjusted": 1e-9, "segment": "fintech"}])
[]
>>> unsupported_numbers("fintech 19.3%", [{"rate": 0.1302}])
['19.3%']
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatter.tools.insight.wording import humanise

_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_NUMBER = re.compile(
    r"(?P<cmp>[<>≤≥]=?\s*)?"
    r"(?<!\d)[$€£]?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<exp>[eE][-+]?\d+)?"
    r"(?P<unit>\s*%|\s*percent\b|[\s-]*percentage[\s-]points?\b|[\s-]*points?\b|\s*pp\b"
    r"|\s*pts\b|\s*(?:k|K|M|bn|B)\b|\s*(?:thousand|million|billion)\b)?",
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?")
_P_KEYS = ("p_value", "p_adjusted")
_INNER = re.compile(r"\((.+)\)$")  # the level of an estimate named ``stat(level)``


@dataclass(frozen=True)
class Quantity:
    """A number as written: its value in evidence units, the half-width of its rounding, and
    whether it is a bound (``<``/``>``) rather than a value."""

    text: str
    value: float
    tolerance: float
    bound: str | None = None


def _quantity(match: re.Match[str]) -> Quantity:
    raw = match.group("num").replace(",", "")
    value, tolerance = float(raw), 0.5 * 10.0 ** -len(raw.partition(".")[2])
    if match.group("exp"):
        power = 10.0 ** int(match.group("exp")[1:])
        value, tolerance = value * power, tolerance * power
    unit = (match.group("unit") or "").strip(" -").lower()
    scale = 0.01 if unit.startswith(("%", "percent", "point", "pp", "pt")) else 1.0
    scale = _SCALES.get(unit, scale)
    cmp = (match.group("cmp") or "").strip()
    bound = ("<" if cmp[0] in "<≤" else ">") if cmp else None
    return Quantity(match.group(0).strip(), value * scale, tolerance * scale, bound)


def numbers_in(text: str, *, names: Iterable[str] = ()) -> list[Quantity]:
    """The numbers ``text`` states, after taking out the given ``names`` (whole words only)."""
    for name in sorted({n for n in names if n and any(c.isdigit() for c in n)}, key=len)[::-1]:
        text = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", " ", text)
    return [_quantity(m) for m in _NUMBER.finditer(text) if m.group("num")]


@dataclass
class EvidenceValues:
    """Numeric and text leaves of a set of evidence values."""

    numbers: list[float]
    p_values: list[float]
    names: set[str]


def _walk(value: Any, key: str, out: EvidenceValues) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        if math.isfinite(value):
            out.numbers.append(abs(float(value)))
            if key.endswith(_P_KEYS):
                out.p_values.append(abs(float(value)))
    elif isinstance(value, str):
        out.names.update({value, value.replace("_", " "), humanise(value)})
        date = _ISO_DATE.match(value)
        if date:
            out.names.add(date.group(0)[:7])
            out.numbers.append(float(date.group(1)))
    elif isinstance(value, Mapping):
        for k, v in value.items():
            out.names.update({str(k), humanise(str(k)), *_INNER.findall(str(k))})
            _walk(v, str(k), out)
    elif isinstance(value, list | tuple):
        out.numbers.append(float(len(value)))  # "the 4 alike levels": a list's length
        for v in value:
            _walk(v, key, out)


def evidence_values(items: Sequence[Any]) -> EvidenceValues:
    """Every number and name in ``items``, plus how many items and how many findings there
    are (a count of the cited tests is readable from the citations themselves)."""
    tests = sum(isinstance(item, Mapping) and "test" in item for item in items)
    out = EvidenceValues(numbers=[float(len(items)), float(tests)], p_values=[], names=set())
    for item in items:
        _walk(item, "", out)
    return out


def _supported(q: Quantity, values: EvidenceValues, stated: Sequence[Quantity]) -> bool:
    pool = values.p_values or values.numbers
    if q.bound == "<":  # a bound is kept as written: "p < 0.001" needs a p-value below it
        return any(v <= q.value for v in pool) or any(
            s.bound == "<" and s.value <= q.value for s in stated
        )
    if q.bound == ">":
        return any(v >= q.value for v in pool) or any(
            s.bound == ">" and s.value >= q.value for s in stated
        )
    slack = q.tolerance * (1 + 1e-9) + 1e-12
    return any(abs(q.value - v) <= slack + 1e-9 * v for v in values.numbers) or any(
        s.bound is None and abs(q.value - s.value) <= slack + s.tolerance for s in stated
    )


def unsupported_numbers(
    text: str,
    items: Sequence[Any],
    *,
    allowed_texts: Sequence[str] = (),
    parameters: Iterable[float] = (),
) -> list[str]:
    """Numbers in ``text`` that no evidence item (nor an allowed text, nor a run parameter such
    as alpha) supports, as written; empty when the text is faithful."""
    values = evidence_values(items)
    values.numbers.extend(abs(float(p)) for p in parameters)
    stated = [q for t in allowed_texts for q in numbers_in(t, names=values.names)]
    return [
        q.text for q in numbers_in(text, names=values.names) if not _supported(q, values, stated)
    ]
