"""The structured form of a condition (JSON or YAML objects) to a syntax tree.

``{"all": [...]}``, ``{"any": [...]}`` and ``{"not": ...}`` join conditions; a comparison is
``{"path": "user.role", "op": "eq", "value": "admin"}``. An item may also be condition text.
Errors name the location of the bad part, like ``all[1].op``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from chatter.errors import ConditionError, suggest
from chatter.rules.comparisons import Between, Comparison, Exists, Membership
from chatter.rules.nodes import And, Condition, Not, Or
from chatter.rules.text_syntax import OPERATOR_HELP, did_you_mean, parse_text
from chatter.rules.values import MAX_DEPTH, OPERATORS, SYMBOL_OPERATORS, check_path

_JOINS = ("all", "any", "not")
_LEAF = ("path", "op", "value")


def _fail(loc: str, problem: str, hint: str = "", suggestions: list[str] | None = None) -> NoReturn:
    where = f"at {loc}" if loc else "at the top level"
    raise ConditionError(f"{problem} ({where}).{hint}", suggestions=suggestions or ())


def _at(loc: str, key: str) -> str:
    return f"{loc}.{key}" if loc and not key.startswith("[") else f"{loc}{key}"


def _build(loc: str, make: type[Condition], *args: object) -> Condition:
    try:
        return make(*args)
    except ConditionError as err:
        _fail(loc, err.message.rstrip("."))


def parse_object(data: object, loc: str = "", depth: int = 1) -> Condition:
    """The tree of a condition in structured form; ``loc`` and ``depth`` say where ``data`` sits
    in the enclosing object (nesting is checked before recursing, so cycles end in an error)."""
    if depth > MAX_DEPTH:
        _fail(loc, f"Condition is nested more than {MAX_DEPTH} levels deep")
    if isinstance(data, Condition):
        return data
    if isinstance(data, str):
        return _parse_text_at(data, loc)
    if not isinstance(data, Mapping):
        _fail(loc, f"Expected an object or condition text, found {type(data).__name__}")
    for key in data:
        if key not in _JOINS + _LEAF:
            close = suggest(str(key), _JOINS + _LEAF)
            hint = did_you_mean(close) + " Keys: all, any, not, or path, op, value."
            _fail(loc, f"Unknown key {str(key)[:40]!r}", hint, close)
    joins = [key for key in _JOINS if key in data]
    if len(joins) > 1 or (joins and any(key in data for key in _LEAF)):
        _fail(loc, "An object holds one of 'all', 'any', 'not', or a comparison (path, op, value)")
    if not joins:
        return _comparison(data, loc)
    key = joins[0]
    if key == "not":
        operand = parse_object(data["not"], _at(loc, "not"), depth + 1)
        return _build(loc, Not, operand)
    items = data[key]
    if not isinstance(items, list | tuple):
        _fail(_at(loc, key), f"'{key}' takes a list of conditions, not {type(items).__name__}")
    operands = [
        parse_object(item, _at(_at(loc, key), f"[{i}]"), depth + 1) for i, item in enumerate(items)
    ]
    if not operands:
        _fail(_at(loc, key), f"'{key}' needs at least one condition")
    if len(operands) == 1:
        return operands[0]
    return _build(loc, And if key == "all" else Or, tuple(operands))


def _parse_text_at(text: str, loc: str) -> Condition:
    if not loc:
        return parse_text(text)
    try:
        return parse_text(text)
    except ConditionError as err:
        raise ConditionError(
            f"In the condition text at {loc}: {err.message}",
            column=err.column,
            suggestions=err.suggestions,
        ) from None


def _comparison(data: Mapping[object, object], loc: str) -> Condition:
    path, op = data.get("path"), data.get("op")
    if "path" not in data:
        _fail(loc, "A comparison needs a 'path'", ' e.g. {"path": "user.role", "op": "eq", ...}')
    try:
        check_path(path)
    except ConditionError as err:
        _fail(_at(loc, "path"), err.message.rstrip("."))
    if "op" not in data:
        _fail(loc, "A comparison needs an 'op'", " " + OPERATOR_HELP)
    if not isinstance(op, str):
        _fail(_at(loc, "op"), f"Expected an operator, found {str(op)[:40]!r}", " " + OPERATOR_HELP)
    name: str = SYMBOL_OPERATORS.get(op, op.lower().replace("not in", "not_in"))
    return _leaf(data, loc, path, name)


def _leaf(data: Mapping[object, object], loc: str, path: object, op: str) -> Condition:
    if op not in OPERATORS:
        close = suggest(op, OPERATORS)
        hint = did_you_mean(close) + " " + OPERATOR_HELP
        _fail(_at(loc, "op"), f"Unknown operator {op[:40]!r}", hint, close)
    value = data.get("value")
    value_loc = _at(loc, "value")
    if op == "exists":
        if value is not None:
            _fail(value_loc, "'exists' takes no value")
        return _build(_at(loc, "path"), Exists, path)
    if "value" not in data:
        _fail(loc, f"'{op}' needs a 'value'")
    if op in ("in", "not_in"):
        if not isinstance(value, list | tuple):
            _fail(value_loc, f"'{op}' takes a list of values, not {type(value).__name__}")
        return _build(value_loc, Membership, path, op, tuple(value))
    if op == "between":
        if not isinstance(value, list | tuple) or len(value) != 2:
            _fail(value_loc, "'between' takes [low, high], with null for no bound")
        return _build(value_loc, Between, path, value[0], value[1])
    return _build(value_loc, Comparison, path, op, value)
