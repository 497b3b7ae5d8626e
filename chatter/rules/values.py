"""Values and paths of the condition language: the lexical rules shared by the parser and the
renderer, and how a context's values are found (``resolve``) and compared (``same``, ``ordered``).
"""

from __future__ import annotations

import math
import numbers
import operator
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, get_args

from chatter.errors import ConditionError

MAX_LENGTH = 2_000  # characters of condition text
MAX_DEPTH = 32  # levels of the tree; a comparison is one level

Scalar = str | int | float | bool | None
Bound = str | int | float | None  # None: no bound on that side
CompareOp = Literal["eq", "ne", "lt", "le", "gt", "ge"]
MemberOp = Literal["in", "not_in"]
OPERATORS: tuple[str, ...] = (*get_args(CompareOp), *get_args(MemberOp), "between", "exists")
SYMBOL_OPERATORS: dict[str, CompareOp] = {
    "==": "eq",
    "=": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
}
RESERVED = frozenset({"and", "or", "not", "true", "false", "null", *OPERATORS})

#: A bare word: what the tokenizer reads as one word, and what a string may render as unquoted.
WORD = re.compile(r"[\w.+\-:/@]+")
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
INTEGER = re.compile(r"[+-]?[0-9]+")
_PATH = re.compile(r"\w+(?:\.\w+)*")
ORDERED_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


# ---- values -----------------------------------------------------------------------------------


def check_path(path: object) -> str:
    """``path`` if it is names joined by dots (``user.role``, ``items.0``), else ConditionError."""
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        raise ConditionError(
            f"Invalid path {show(path)}, not names of letters, digits and _ joined by dots "
            "like user.role."
        )
    if path.lower() in RESERVED:
        raise ConditionError(f"{path!r} is a reserved word and cannot be a path.")
    return path


def check_scalar(value: object, what: str) -> Scalar:
    """``value`` as a plain str, int, float, bool or None; finite numbers only."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a plain str, also from str subclasses and enums
    if isinstance(value, numbers.Real):
        number = int(value) if isinstance(value, numbers.Integral) else float(value)
        if not (math.isfinite(number) and abs(number) <= sys.float_info.max):
            raise ConditionError(f"{what} must be a finite number within ±1.8e308, not {value}.")
        return number
    raise ConditionError(f"{what} must be text, a number, true, false or null, not {show(value)}.")


def is_bare(text: str) -> bool:
    """True when ``text`` can be written unquoted and still read back as that same text."""
    return (
        WORD.fullmatch(text) is not None
        and NUMBER.fullmatch(text) is None
        and text.lower() not in RESERVED
    )


def render_value(value: Scalar) -> str:
    """Canonical text of one value: null, true, 3, 0.7, premium or "two words"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if is_bare(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if is_number(value) else type(value).__name__


def tagged(values: Sequence[object]) -> tuple[tuple[str, object], ...]:
    """Values with their kind, so that equal trees evaluate equally (1 == True, but not here)."""
    return tuple((kind(v), v) for v in values)


# ---- evaluation -------------------------------------------------------------------------------


def resolve(context: object, path: str) -> object:
    """The value at ``path``: mapping keys, list indexes (``items.0``) and public, non-callable
    attributes. A path that does not resolve reads as None, exactly like a null value."""
    current = context
    for segment in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(segment)
        elif isinstance(current, Sequence) and not isinstance(current, str | bytes):
            index = int(segment) if segment.isascii() and segment.isdigit() else len(current)
            current = current[index] if index < len(current) else None
        elif (
            current is None
            or isinstance(current, str | bytes | numbers.Number)
            or segment.startswith("_")
        ):
            return None
        else:
            current = getattr(current, segment, None)
            if callable(current):
                return None
        if current is None:
            return None
    return current


def same(actual: object, expected: Scalar) -> bool:
    """Equality without surprises: numbers numerically (1 == 1.0), booleans only with booleans,
    text only with text, null only with null (or a missing path). Other pairs are unequal."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if is_number(actual) and is_number(expected):
        return bool(actual == expected)
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected
    return actual is None and expected is None


def ordered(actual: object, op: str, bound: Bound) -> bool:
    """``actual op bound`` for two numbers or two texts; False for any other pair."""
    if (is_number(actual) and is_number(bound)) or (
        isinstance(actual, str) and isinstance(bound, str)
    ):
        return bool(ORDERED_OPS[op](actual, bound))
    return False
