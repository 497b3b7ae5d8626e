"""Filter operators and typed values shared by queries and the model's measure filters."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from chatter.errors import InvalidValueError

#: Canonical operators, and the spellings accepted for them.
OPERATORS: dict[str, str] = {
    "=": "=",
    "==": "=",
    "eq": "=",
    "!=": "!=",
    "<>": "!=",
    "ne": "!=",
    "<": "<",
    "lt": "<",
    "<=": "<=",
    "le": "<=",
    "lte": "<=",
    ">": ">",
    "gt": ">",
    ">=": ">=",
    "ge": ">=",
    "gte": ">=",
    "in": "in",
    "not_in": "not_in",
    "not in": "not_in",
    "between": "between",
    "is_null": "is_null",
    "is null": "is_null",
    "is_not_null": "is_not_null",
    "is not null": "is_not_null",
    "contains": "contains",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def coerce(value: Any, kind: str, item: str) -> Any:
    """``value`` as the Python type of a ``kind`` dimension, or InvalidValueError."""
    if value is None:
        raise InvalidValueError(item, value, f"a {kind} value (use is_null to match empty values)")
    if kind == "string":
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value)
            if len(text) > 1000 or "\x00" in text:
                raise InvalidValueError(item, value, "a string under 1000 characters, no NUL bytes")
            return text
        raise InvalidValueError(item, value, "a string")
    if kind == "number":
        if isinstance(value, bool):
            raise InvalidValueError(item, value, "a number")
        if isinstance(value, int | float):
            number: float | int = value
        else:
            try:
                number = int(value) if str(value).strip().lstrip("-").isdigit() else float(value)
            except (TypeError, ValueError):
                raise InvalidValueError(item, value, "a number") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise InvalidValueError(item, value, "a finite number")
        if isinstance(number, int) and not -(2**63) <= number < 2**63:
            raise InvalidValueError(item, value, "a number within 64-bit range")
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InvalidValueError(item, value, "true or false")
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = value.strip() if isinstance(value, str) else ""
        try:
            if not _DATE.match(text):
                raise ValueError(text)
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidValueError(item, value, "a date as YYYY-MM-DD") from None
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            stamp = value
        elif isinstance(value, dt.date):
            stamp = dt.datetime(value.year, value.month, value.day)
        else:
            text = value.strip() if isinstance(value, str) else ""
            try:
                if not _DATE.match(text[:10]):
                    raise ValueError(text)
                stamp = dt.datetime.fromisoformat(text)
            except ValueError:
                raise InvalidValueError(
                    item, value, "a timestamp as YYYY-MM-DD[THH:MM:SS]"
                ) from None
        if stamp.tzinfo is not None:  # TIMESTAMP columns hold UTC wall time
            stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
        return stamp
    raise InvalidValueError(item, value, f"a value of type {kind}")
