"""The condition language's syntax tree: comparisons on dotted paths, joined by and/or/not.

Every node checks itself when built (so no tree is deeper than ``MAX_DEPTH``), evaluates against
a context, renders canonical text with ``str`` that parses back to an equal node, and converts to
the structured form with ``to_dict``. Parsing lives in ``chatter.rules.conditions``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, get_args

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from chatter.errors import ConditionError
from chatter.rules.values import (
    MAX_DEPTH,
    MAX_LENGTH,
    ORDERED_OPS,
    Bound,
    CompareOp,
    MemberOp,
    Scalar,
    check_path,
    check_scalar,
    kind,
    ordered,
    render_value,
    resolve,
    same,
    show,
    tagged,
)


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
    from chatter.rules.conditions import parse_condition  # that module imports this one

    try:
        return parse_condition(value)  # type: ignore[arg-type]  # parse_condition checks types
    except ConditionError as err:
        raise PydanticCustomError(
            "invalid_condition", "{message}", {"message": err.message, "column": err.column}
        ) from None


@dataclass(frozen=True, slots=True, eq=False)
class Comparison(Condition):
    """``path op value`` with op one of eq, ne, lt, le, gt, ge."""

    path: str
    op: CompareOp
    value: Scalar

    def __post_init__(self) -> None:
        check_path(self.path)
        if self.op not in get_args(CompareOp):
            raise ConditionError(
                f"Comparison operator must be eq, ne, lt, le, gt or ge: {self.op!r}."
            )
        if isinstance(self.value, list | tuple):
            raise ConditionError(f"'{self.op}' takes one value; use 'in' for a list.")
        value = check_scalar(self.value, f"The value of '{self.op}'")
        if self.op in ORDERED_OPS and (value is None or isinstance(value, bool)):
            raise ConditionError(
                f"'{self.op}' compares numbers or text, not {render_value(value)}."
            )
        object.__setattr__(self, "value", value)

    def evaluate(self, context: object) -> bool:
        actual = resolve(context, self.path)
        if self.op == "eq":
            return same(actual, self.value)
        if self.op == "ne":
            return not same(actual, self.value)
        return ordered(actual, self.op, self.value)

    def _key(self) -> tuple[object, ...]:
        return (self.path, self.op, tagged([self.value]))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": self.op, "value": self.value}

    def __str__(self) -> str:
        return f"{self.path} {self.op} {render_value(self.value)}"


@dataclass(frozen=True, slots=True, eq=False)
class Membership(Condition):
    """``path in [a, b]`` or ``path not_in [a, b]``; membership uses ``same`` equality."""

    path: str
    op: MemberOp
    values: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        check_path(self.path)
        if self.op not in get_args(MemberOp):
            raise ConditionError(f"Membership operator must be in or not_in: {self.op!r}.")
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Sequence):
            raise ConditionError(f"'{self.op}' takes a list of values, not {show(self.values)}.")
        if not self.values:
            raise ConditionError(f"'{self.op}' needs at least one value.")
        values = tuple(check_scalar(v, f"A value of '{self.op}'") for v in self.values)
        object.__setattr__(self, "values", values)

    def evaluate(self, context: object) -> bool:
        actual = resolve(context, self.path)
        found = any(same(actual, v) for v in self.values)
        return found if self.op == "in" else not found

    def _key(self) -> tuple[object, ...]:
        return (self.path, self.op, tagged(self.values))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": self.op, "value": list(self.values)}

    def __str__(self) -> str:
        return f"{self.path} {self.op} [{', '.join(render_value(v) for v in self.values)}]"


@dataclass(frozen=True, slots=True, eq=False)
class Between(Condition):
    """``low <= path <= high``, inclusive; a None bound is open (``*`` in text)."""

    path: str
    low: Bound
    high: Bound

    def __post_init__(self) -> None:
        check_path(self.path)
        bounds = []
        for side in ("low", "high"):
            bound = check_scalar(getattr(self, side), f"The {side} bound of 'between'")
            if isinstance(bound, bool):
                raise ConditionError(f"Bounds of 'between' are numbers or text, not {bound}.")
            object.__setattr__(self, side, bound)
            bounds.append(bound)
        low, high = bounds
        if low is None and high is None:
            raise ConditionError("'between' needs at least one bound; * stands for no bound.")
        if low is not None and high is not None:
            if kind(low) != kind(high):
                raise ConditionError(
                    f"Bounds of 'between' must both be numbers or both be text, not "
                    f"{render_value(low)} and {render_value(high)}."
                )
            if low > high:  # type: ignore[operator]  # same kind, checked above
                raise ConditionError(
                    f"The low bound {render_value(low)} of 'between' is above the high bound "
                    f"{render_value(high)}."
                )

    def evaluate(self, context: object) -> bool:
        actual = resolve(context, self.path)
        return (self.low is None or ordered(actual, "ge", self.low)) and (
            self.high is None or ordered(actual, "le", self.high)
        )

    def _key(self) -> tuple[object, ...]:
        return (self.path, tagged([self.low, self.high]))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": "between", "value": [self.low, self.high]}

    def __str__(self) -> str:
        low = "*" if self.low is None else render_value(self.low)
        high = "*" if self.high is None else render_value(self.high)
        return f"{self.path} between {low} and {high}"


@dataclass(frozen=True, slots=True, eq=False)
class Exists(Condition):
    """``path exists``: the path resolves to a value other than null."""

    path: str

    def __post_init__(self) -> None:
        check_path(self.path)

    def evaluate(self, context: object) -> bool:
        return resolve(context, self.path) is not None

    def _key(self) -> tuple[object, ...]:
        return (self.path,)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": "exists"}

    def __str__(self) -> str:
        return f"{self.path} exists"


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
