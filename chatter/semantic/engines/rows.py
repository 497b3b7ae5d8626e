"""Rows and columns from a client library's Python values as DuckDB gives them, so every
engine's results compare equal: a whole DECIMAL (the SUM of integers) as int, any other (an
average of integers) as float; a column as one numpy array of its kind."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np


def plain_row(row: Any) -> tuple[Any, ...]:
    """A row with its decimals as DuckDB gives them."""
    return tuple(plain(v) for v in row)


def plain(value: Any) -> Any:
    if not isinstance(value, decimal.Decimal):
        return value
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


def column_array(values: tuple[Any, ...]) -> np.ndarray:
    """One column's values as a numpy array: booleans, whole numbers (int64 when none is
    missing), floats with NaN for missing, dates as datetime64[us] with NaT, else objects."""
    present = [v for v in values if v is not None]
    if not present:
        return np.full(len(values), np.nan)
    sample = present[0]
    missing = len(present) != len(values)
    if isinstance(sample, bool):
        return np.array(values, dtype=object if missing else bool)
    if isinstance(sample, int) and not missing:
        return np.array(values, dtype=np.int64)
    if isinstance(sample, int | float | decimal.Decimal):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    if isinstance(sample, dt.date):
        return np.array(
            [np.datetime64("NaT") if v is None else np.datetime64(v, "us") for v in values],
            dtype="datetime64[us]",
        )
    return np.array(values, dtype=object)
