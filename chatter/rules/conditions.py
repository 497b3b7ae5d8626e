"""A small condition language for routing on context: which user, which question, which plan.

Grammar (keywords and operators are case-insensitive; paths are not)::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*       -- so not binds tightest, then and, then or
    not_expr   := "not" not_expr | "(" or_expr ")" | comparison
    comparison := PATH "exists"
                | PATH ("eq" | "ne" | "lt" | "le" | "gt" | "ge"
                        | "==" | "=" | "!=" | "<" | "<=" | ">" | ">=") value
                | PATH ("in" | "not_in" | "not in") "[" value ("," value)* "]"
                | PATH "between" bound "and" bound     -- inclusive; "*" means no bound
    PATH       := names of letters, digits and _ joined by dots: user.role, items.0.sku
    value      := NUMBER | "double" or 'single' quoted text (\\ escapes) | true | false | null
                | a bare word such as premium or 2024-01-01 (letters, digits and _ . - + : / @)
    bound      := NUMBER | text | "*"

Reserved words (and, or, not, true, false, null and the operator names) cannot be paths; quote
them to use them as text. Text is at most ``MAX_LENGTH`` characters and at most ``MAX_DEPTH``
levels deep. The structured form says the same with objects: ``{"all": [...]}``,
``{"any": [...]}``, ``{"not": ...}`` and ``{"path": ..., "op": ..., "value": ...}`` (a list for
in and not_in, ``[low, high]`` with null for no bound for between, no value for exists).

Semantics, chosen so that ``not`` is always plain negation:

- A path that does not resolve (a missing key, index or attribute) reads as null.
- eq is true for two numbers that are equal (1 eq 1.0), two equal texts, two equal booleans, or
  null and null; any other pair is unequal, never an error ("1" ne 1, true ne 1).
- ne and not_in are exactly ``not eq`` and ``not in``: true for a missing path.
- lt, le, gt, ge and between compare two numbers, or two texts (by code point); any other pair,
  a missing path included, is false. Both bounds of between must be of one kind, low <= high.
- exists is true when the path holds a value other than null.

>>> rule = parse_condition(
...     "user_tier in [premium, enterprise] and query_complexity between 0.7 and 1.0"
... )
>>> rule.evaluate({"user_tier": "premium", "query_complexity": 0.8})
True
>>> rule.evaluate({"user_tier": "premium"})
False
>>> rule == parse_condition({"all": [
...     {"path": "user_tier", "op": "in", "value": ["premium", "enterprise"]},
...     {"path": "query_complexity", "op": "between", "value": [0.7, 1.0]},
... ]})
True
>>> str(parse_condition("user.role == 'admin' OR NOT (plan exists)"))
'user.role eq admin or not plan exists'
>>> parse_condition("score between 0.7 and *").evaluate({"score": 3})
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chatter.errors import ConditionError
from chatter.rules.comparisons import Between, Comparison, Exists, Membership
from chatter.rules.nodes import And, Condition, Not, Or
from chatter.rules.object_syntax import parse_object
from chatter.rules.text_syntax import parse_text
from chatter.rules.values import MAX_DEPTH, MAX_LENGTH, OPERATORS, resolve

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "OPERATORS",
    "And",
    "Between",
    "Comparison",
    "Condition",
    "ConditionError",
    "Exists",
    "Membership",
    "Not",
    "Or",
    "parse_condition",
    "resolve",
]


def parse_condition(source: str | Mapping[str, Any] | Condition) -> Condition:
    """The condition in ``source``: text, text holding a JSON object (up to ten times
    ``MAX_LENGTH``), the structured form, or a Condition (returned as it is). Raises
    ConditionError pointing at the bad part."""
    if isinstance(source, Condition):
        return source
    if isinstance(source, str):
        if source.lstrip().startswith("{"):
            return _parse_json(source)
        return parse_text(source)
    if isinstance(source, Mapping):
        return parse_object(source)
    raise ConditionError(
        f"A condition is text or an object, not {type(source).__name__}: "
        "e.g. user_tier in [premium, enterprise]."
    )


def _parse_json(text: str) -> Condition:
    if len(text) > MAX_LENGTH * 10:
        raise ConditionError(
            f"Condition is {len(text)} characters long; the limit is {MAX_LENGTH * 10}."
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConditionError(
            f"Condition looks like JSON but is not valid: {err.msg} "
            f"(line {err.lineno}, column {err.colno}).",
            column=err.colno if err.lineno == 1 else None,
        ) from None
    except RecursionError:
        raise ConditionError("Condition looks like JSON but is nested too deeply.") from None
    return parse_object(data)
