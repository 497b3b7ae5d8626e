"""The joints of the condition language's syntax tree: ``not`` over one condition, ``and`` and
``or`` over two or more (``and`` binds tighter than ``or`` when written as text)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from chatter.errors import ConditionError
from chatter.rules.nodes import Condition
from chatter.rules.values import MAX_DEPTH, show


def _check_operands(operands: object, word: str, minimum: int) -> tuple[Condition, ...]:
    items = operands
    if not isinstance(items, Sequence) or not all(isinstance(c, Condition) for c in items):
        raise ConditionError(f"'{word}' joins conditions, not {show(operands)}.")
    if len(items) < minimum:
        raise ConditionError(f"'{word}' joins at least {minimum} conditions, not {len(items)}.")
    if 1 + max(c.depth for c in items) > MAX_DEPTH:
        raise ConditionError(f"Condition is nested more than {MAX_DEPTH} levels deep.")
    return tuple(items)


def _wrap(condition: Condition, *kinds: type[Condition]) -> str:
    return f"({condition})" if isinstance(condition, kinds) else str(condition)


@dataclass(frozen=True, slots=True, eq=False)
class Not(Condition):
    """``not operand``: exactly the negation of its operand."""

    operand: Condition

    def __post_init__(self) -> None:
        if not isinstance(self.operand, Condition):
            raise ConditionError(f"'not' negates a condition, not {show(self.operand)}.")
        _check_operands((self.operand,), "not", 1)

    def _key(self) -> tuple[object, ...]:
        return (self.operand,)

    @property
    def depth(self) -> int:
        return 1 + self.operand.depth

    def evaluate(self, context: object) -> bool:
        return not self.operand.evaluate(context)

    def to_dict(self) -> dict[str, Any]:
        return {"not": self.operand.to_dict()}

    def __str__(self) -> str:
        return "not " + _wrap(self.operand, And, Or)


@dataclass(frozen=True, slots=True, eq=False)
class _Junction(Condition):
    """Operands joined by one word: And and Or differ only in their class attributes."""

    operands: tuple[Condition, ...]
    word: ClassVar[str]  # in text: "and" / "or"
    key: ClassVar[str]  # in a dict: "all" / "any"
    combine: ClassVar[Callable[[Iterable[bool]], bool]]
    #: Operand kinds written in parentheses (and binds tighter than or).
    grouped: ClassVar[tuple[type[Condition], ...]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "operands", _check_operands(self.operands, self.word, 2))

    def _key(self) -> tuple[object, ...]:
        return self.operands

    @property
    def depth(self) -> int:
        return 1 + max(c.depth for c in self.operands)

    def evaluate(self, context: object) -> bool:
        return type(self).combine(c.evaluate(context) for c in self.operands)

    def to_dict(self) -> dict[str, Any]:
        return {self.key: [c.to_dict() for c in self.operands]}

    def __str__(self) -> str:
        return f" {self.word} ".join(_wrap(c, *self.grouped) for c in self.operands)


class And(_Junction):
    """All operands hold (``a and b and c``; ``{"all": [...]}``)."""

    __slots__ = ()
    word, key, combine = "and", "all", all


class Or(_Junction):
    """Some operand holds (``a or b``; ``{"any": [...]}``); and binds tighter than or."""

    __slots__ = ()
    word, key, combine = "or", "any", any


And.grouped = (And, Or)
Or.grouped = (Or,)
