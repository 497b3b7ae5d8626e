"""The condition language's syntax tree: the base class of its nodes. The nodes are comparisons
on dotted paths (``chatter.rules.comparisons``) joined by and/or/not
(``chatter.rules.junctions``).

Every node checks itself when built (so no tree is deeper than ``MAX_DEPTH``), evaluates against
a context, renders canonical text with ``str`` that parses back to an equal node, and converts to
the structured form with ``to_dict``. Parsing lives in ``chatter.rules.conditions``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from chatter.errors import ConditionError
from chatter.rules.values import MAX_LENGTH, show

if TYPE_CHECKING:
    from chatter.rules.junctions import And, Not, Or


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
        from chatter.rules.junctions import And  # that module imports this one

        return And((self, other))

    def __or__(self, other: Condition) -> Or:
        from chatter.rules.junctions import Or  # that module imports this one

        return Or((self, other))

    def __invert__(self) -> Not:
        from chatter.rules.junctions import Not  # that module imports this one

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
