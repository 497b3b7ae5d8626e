"""Filters written as text: ``industry=fintech``, ``signup_date >= 2024-01-01``,
``plan_type in starter,growth``, ``churn_date is_null``, or a JSON object.

>>> parse_filter_text("plan_type in starter,growth")
{'field': 'plan_type', 'op': 'in', 'value': ['starter', 'growth']}
>>> parse_filter_text("signup_date>=2024-01-01")
{'field': 'signup_date', 'op': '>=', 'value': '2024-01-01'}
"""

from __future__ import annotations

import json
import re
from typing import Any

from chatter.errors import InvalidValueError

_WORD_OPS = (
    "is_not_null",
    "is not null",
    "is_null",
    "is null",
    "not_in",
    "not in",
    "in",
    "between",
    "contains",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
)
_SYMBOL_OPS = (">=", "<=", "!=", "<>", "==", "=", "<", ">")
_PATTERN = re.compile(
    r"^\s*(?P<field>[^\s=<>!]+?)\s*(?:"
    r"(?P<symbol>" + "|".join(re.escape(o) for o in _SYMBOL_OPS) + r")"
    r"|\s(?P<word>" + "|".join(re.escape(o) for o in _WORD_OPS) + r")(?=\s|$)"
    r")\s*(?P<value>.*?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_LIST_OPS = {"in", "not_in", "not in", "between"}
_NULL_OPS = {"is_null", "is null", "is_not_null", "is not null"}
USAGE = (
    "FIELD OP VALUE, e.g. industry=fintech, 'signup_date >= 2024-01-01', "
    "'plan_type in starter,growth', 'churn_date is_null', or a JSON object "
    '{"field": ..., "op": ..., "value": ...}'
)


def parse_filter_text(text: str) -> dict[str, Any]:
    """Split one filter into field, operator and value (types are checked later, by the model)."""
    raw = str(text)
    if raw.lstrip().startswith("{"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise InvalidValueError("--filter", raw, f"valid JSON ({err.msg})") from None
        if not isinstance(data, dict) or "field" not in data:
            raise InvalidValueError("--filter", raw, 'a JSON object with "field", "op", "value"')
        return data
    match = _PATTERN.match(raw)
    if match is None:
        raise InvalidValueError("--filter", raw, USAGE)
    op = (match["symbol"] or match["word"]).lower()
    value: Any = match["value"]
    if op in _NULL_OPS:
        if value:
            raise InvalidValueError("--filter", raw, f"no value after {op!r}")
        value = None
    elif op in _LIST_OPS:
        value = [v.strip() for v in value.split(",") if v.strip()]
    elif value == "":
        raise InvalidValueError("--filter", raw, f"a value after {op!r}; {USAGE}")
    return {"field": match["field"], "op": op, "value": value}
