"""Tables for the terminal report that fit the console's width without cutting a value.

A table wider than the console is wrapped, not cut: its columns continue in another block
under the first, each block repeating the columns that name a row; columns the caller marks
as droppable go first. Headers are the semantic model's names as words (``signup_date__month``
reads ``signup date (month)``, ``month__month`` reads ``month``); rates read as percentages.

>>> column_label("month__month"), column_label("signup_date__month"), column_label("mrr")
('month', 'signup date (month)', 'MRR')
>>> [column_kind(c, {"conversion_rate": "percent"}) for c in
...  ("conversion_rate_rest", "retention_rate", "rate_ratio", "churns", "users")]
['percent', 'percent', 'number', 'number', 'number']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chatter.number_text import cell_text
from chatter.semantic.model import SemanticModel
from chatter.tools.insight.wording import humanise

# Words that make an analysis column a proportion when no measure of the model names it: the
# analyses name their rates ``*_rate``, shares ``*_share_*``, churn and growth per period.
_RATE_WORDS = frozenset({"rate", "share", "churn", "growth", "retention"})
_NOT_RATE_WORDS = frozenset({"ratio"})  # a rate ratio is a multiple, not a share
_KEY_COLUMNS = 3  # at most this many leading columns are read together as a row's name


def measure_formats(model: SemanticModel) -> dict[str, str]:
    """Each measure of the model and its display format (number, percent, currency)."""
    return {name: m.format for t in model.tables.values() for name, m in t.measures.items()}


def column_label(name: str) -> str:
    """A column header in words; a time grain that repeats the field's name is not repeated."""
    base, _, grain = name.partition("__")
    if grain and base.split("_")[-1] == grain:
        return humanise(base)
    return humanise(name)


def column_kind(name: str, formats: Mapping[str, str]) -> str:
    """How a column's numbers read: the model's format for a measure or a column derived from
    one (``conversion_rate_rest``), else percent for an analysis's rate, else number."""
    if name in formats:
        return formats[name]
    derived = [m for m in formats if name.startswith(f"{m}_")]
    if derived:
        return formats[max(derived, key=len)]
    words = set(name.lower().split("_"))
    return "percent" if words & _RATE_WORDS and not words & _NOT_RATE_WORDS else "number"


@dataclass(frozen=True)
class Cell:
    """One cell's text. Numbers are right-aligned and never broken; ``keep`` is the width of
    the longest piece that must stay on one line (0: the longest word)."""

    text: str
    numeric: bool = False
    keep: int = 0
    style: str | None = None

    @property
    def widest(self) -> int:
        return max((cell_len(line) for line in self.text.splitlines()), default=0)

    @property
    def least(self) -> int:
        if self.numeric:
            return self.widest
        longest_word = max((cell_len(w) for w in self.text.split()), default=0)
        return max(self.keep, longest_word)


def value_cell(value: Any, kind: str = "number") -> Cell:
    """A row value as a cell: missing as a dim dash, numbers by ``kind``."""
    if value is None:
        return Cell("-", style="dim")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return Cell(cell_text(value, kind), numeric=numeric)


@dataclass
class Column:
    """A header and its cells; ``comfortable``: the width under which a long text column
    reads badly, kept before droppable columns are (never more than the text needs)."""

    header: str
    cells: list[Cell] = field(default_factory=list)
    comfortable: int = 0

    @property
    def least(self) -> int:
        header = max((cell_len(w) for w in self.header.split()), default=0)
        least = max([header, *(c.least for c in self.cells)])
        return max(least, min(self.comfortable, self.widest))

    @property
    def widest(self) -> int:
        return max([cell_len(self.header), *(c.widest for c in self.cells)])


def _overhead(count: int) -> int:
    """Padding (one space each side) and the divider between columns (no outer edge)."""
    return 3 * count - 1 if count else 0


def _fits(columns: Sequence[Column], width: int) -> bool:
    return sum(c.least for c in columns) + _overhead(len(columns)) <= width


def _widths(columns: Sequence[Column], width: int) -> list[int]:
    """Each column at least its minimum; the room left is shared equally among the columns
    that would use it, a column that needs less than its share getting just what it needs (so
    short texts end up on one line and long ones share the rest)."""
    widths = [c.least for c in columns]
    spare = width - sum(widths) - _overhead(len(columns))
    lacking = sorted(
        (c.widest - w, i) for i, (c, w) in enumerate(zip(columns, widths, strict=True))
    )
    wanting = [(lack, i) for lack, i in lacking if lack > 0]
    for n, (lack, i) in enumerate(wanting):
        share = min(lack, max(spare, 0) // (len(wanting) - n))
        widths[i] += share
        spare -= share
    if sum(widths) + _overhead(len(columns)) > width:  # one column wider than the console
        widths = [max(1, w) for w in widths]
        excess = sum(widths) + _overhead(len(columns)) - width
        widths[-1] = max(1, widths[-1] - excess)
    return widths


def _blocks(columns: list[Column], key: int, width: int) -> list[list[Column]]:
    """Columns in blocks that each fit, each starting with the ``key`` columns."""
    key = min(key, len(columns))
    while key > 1 and not _fits(columns[: key + 1], width):
        key -= 1
    head, rest = columns[:key], columns[key:]
    blocks: list[list[Column]] = []
    block = list(head)
    for column in rest:
        if len(block) > len(head) and not _fits([*block, column], width):
            blocks.append(block)
            block = list(head)
        block.append(column)
    blocks.append(block)
    return blocks


def print_table(
    console: Console,
    columns: list[Column],
    *,
    key: int = 1,
    droppable: Sequence[str] = (),
) -> list[str]:
    """Print ``columns`` within the console's width, leaving out columns with no text; returns
    the headers of the droppable columns left out (``droppable`` lists headers, first
    dropped first)."""
    width = console.width
    shown = [c for c in columns if any(cell.text for cell in c.cells)]  # empty says nothing
    dropped: list[str] = []
    for header in droppable:
        if _fits(shown, width):
            break
        shown = [c for c in shown if c.header != header]
        dropped.append(header)
    for n, block in enumerate(_blocks(shown, key, width)):
        table = Table(show_edge=False, header_style="bold")
        for column, w in zip(block, _widths(block, width), strict=True):
            numeric = any(c.numeric for c in column.cells)
            table.add_column(
                column.header, width=w, justify="right" if numeric else "left", overflow="fold"
            )
        for row in range(len(block[0].cells) if block else 0):
            table.add_row(*(_text(column.cells[row]) for column in block))
        if n:
            console.print()
        console.print(table)
    return dropped


def _text(cell: Cell) -> Text:
    return Text(cell.text, style=cell.style or "", justify="right" if cell.numeric else "left")


def key_columns(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> int:
    """How many leading columns name a row: the fewest (at most three, before the first
    fractional number) whose values tell every row apart; 0 when none do."""
    for count in range(1, min(_KEY_COLUMNS, len(columns)) + 1):
        if any(isinstance(r.get(columns[count - 1]), float) for r in rows):
            return 0
        seen = {tuple(_hashable(r.get(c)) for c in columns[:count]) for r in rows}
        if len(seen) == len(rows):
            return count
    return 0


def row_name(columns: Sequence[str], row: Mapping[str, Any], key: int) -> str:
    """A row's name from its ``key`` leading values: text as it is, a number with its
    column's name (``fintech``, ``industry / fintech``, ``2024-01-01 / periods since signup 3``)."""
    parts = []
    for column in columns[:key]:
        value = row.get(column)
        text = cell_text(value, missing="-")
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        parts.append(f"{column_label(column)} {text}" if numeric else text)
    return " / ".join(parts)


def _hashable(value: Any) -> Any:
    if isinstance(value, list | dict):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
