"""The DuckDB engine under its old name (the engines live in ``chatter.semantic.engines``)."""

from chatter.semantic.engines.base import RawResult, check_schema
from chatter.semantic.engines.duckdb import (
    DuckDBEngine,
    Engine,
    connection_config,
    data_version,
    spill_directory,
)

__all__ = [
    "DuckDBEngine",
    "Engine",
    "RawResult",
    "check_schema",
    "connection_config",
    "data_version",
    "spill_directory",
]
