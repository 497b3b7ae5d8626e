"""The condition language's syntax tree: the base class of its nodes and the boolean junctions
(not, and, or) that join the comparisons on dotted paths (``chatter.rules.comparisons``).

Every node checks itself when built (so no tree is deeper than ``MAX_DEPTH``), evaluates against
a context, renders canonical text with ``str`` that parses back to an equal node, and converts to
the structured form with ``to_dict``. Parsing lives in ``chatter.rules.conditions``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from chatter.errors import ConditionError
from chatter.rules.values import MAX_DEPTH, MAX_LENGTH, show


class Condition(ABC):
    """A condition over a context. Build one with ``parse_condition`` (text or a dict) or from the
    node classes; ``a & b``, ``a | b`` and ``~a`` combine them."""

    __slots__ = ()

    @property
    def depth(self) -> int:
        return 1

    @abstractmethod
    def evaluate(self, context: object) -> bool:
        """True when the context satisfies the condition; never raises on the context's data."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The structured form, e.g. ``{"all": [{"path": "x", "op": "eq", "value": 1}, ...]}``."""

    @abstractmethod
    def _key(self) -> tuple[object, ...]:
        """What makes two conditions of one kind equal (and their hash)."""

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Condition)
            and type(self) is type(other)
            and self._key() == other._key()
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __and__(self, other: Condition) -> And:
        return And((self, other))

    def __or__(self, other: Condition) -> Or:
        return Or((self, other))

    def __invert__(self) -> Not:
        return Not(self)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """In pydantic models a Condition field accepts text, a dict or a Condition, and
        serializes to its canonical text."""

        def validate(value: object) -> Condition:
            condition = _validate(value)
            if not isinstance(condition, cls):
                raise PydanticCustomError(
                    "invalid_condition",
                    "expected a {kind} condition, not {text}",
                    {"kind": cls.__name__, "text": show(str(condition))},
                )
            return condition

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "title": "Condition",
            "description": "Condition text (user_tier in [premium, enterprise]) or its object form.",
            "anyOf": [{"type": "string", "maxLength": MAX_LENGTH}, {"type": "object"}],
        }


def _validate(value: object) -> Condition:
    # The one import cycle of the rules: the parser builds the nodes defined here, and a
    # pydantic field of a node type parses text with it. Deferred to validation time, and
    # allowed by name in tests/unit/test_layers.py.
    from chatter.rules.conditions import parse_condition

    try:
        return parse_condition(value)  # type: ignore[arg-type]  # parse_condition checks types
    except ConditionError as err:
        raise PydanticCustomError(
            "invalid_condition", "{message}", {"message": err.message, "column": err.column}
        ) from None


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
