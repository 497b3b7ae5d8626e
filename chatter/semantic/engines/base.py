"""What every engine offers the warehouse: one interface, whatever holds the data.

An engine runs statements read-only with a time limit and a row cap, says which SQL dialect it
speaks (a sqlglot name) and how values are bound, and tells its identity (never a password) and
the version of its data (for the result cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from chatter.errors import MissingSchemaError

if TYPE_CHECKING:  # the interface only names them: importing the package stays light
    import numpy as np
    from sqlglot import exp


@dataclass(frozen=True)
class RawResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    truncated: bool
    duration_ms: float


@runtime_checkable
class Engine(Protocol):
    """A read-only database connection chatter runs its statements on."""

    #: The sqlglot dialect its statements are rendered for.
    dialect: str
    #: Who this database is, for logs, errors, answers and cache keys: a file path, or a URL
    #: without its password.
    identity: str
    timeout_s: float

    @property
    def version(self) -> str:
        """Changes whenever the data may have changed ("" when the engine cannot tell)."""
        ...

    def render(self, ast: exp.Expr) -> str:
        """The statement in this engine's dialect, its ``$name`` placeholders in the engine's
        parameter style (values stay parameters)."""
        ...

    def execute(
        self, sql: str, params: dict[str, Any] | None = None, *, row_cap: int | None = None
    ) -> RawResult: ...

    def fetch_arrays(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> dict[str, np.ndarray]: ...

    def schema(self) -> dict[str, dict[str, str]]:
        """Table -> column -> type, for the tables chatter may read."""
        ...

    def interrupt(self, threads: set[int] | None = None) -> int: ...

    def busy(self) -> bool: ...

    def close(self) -> None: ...


def check_schema(
    database: str, schema: dict[str, dict[str, str]], required: dict[str, frozenset[str]]
) -> None:
    """Raise MissingSchemaError naming every table or column ``required`` that is absent."""
    missing: list[str] = []
    for table, columns in sorted(required.items()):
        have = schema.get(table)
        if have is None:
            tables = ", ".join(sorted(schema)) or "none"
            missing.append(f"table {table!r} is missing (tables present: {tables})")
            continue
        absent = sorted(columns - set(have))
        if absent:
            missing.append(
                f"table {table!r} lacks column(s) {', '.join(absent)} (has: {', '.join(have)})"
            )
    if missing:
        raise MissingSchemaError(database, missing)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
