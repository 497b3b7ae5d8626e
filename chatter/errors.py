"""The ChatterError tree: every error a user can see, with a stable code.

This module is the bottom layer: it imports nothing from chatter. The core raises these; only the
edges (cli/, api/) turn them into exit codes or HTTP statuses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def suggest(name: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """Return the valid choices closest to ``name`` (case-insensitive), best first.

    >>> suggest("conversion_rte", ["conversion_rate", "churn_rate", "users"])
    ['conversion_rate']
    """
    pool = sorted(set(choices))
    by_lower: dict[str, str] = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=limit, cutoff=0.6)
    return [by_lower[c] for c in close]


def _shorten(value: object, width: int = 80) -> str:
    """Repr of a user-supplied value, cut so hostile input cannot flood a message."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


class ChatterError(Exception):
    """Root of every error chatter raises on purpose."""

    code = "chatter_error"
    #: True when the caller's input is at fault (exit code 2, HTTP 4xx).
    bad_input = False
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def exit_code(self) -> int:
        return 2 if self.bad_input else 1

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class BadInputError(ChatterError):
    """The caller asked for something invalid; nothing ran."""

    code = "bad_input"
    bad_input = True
    http_status = 400


class UnknownNameError(BadInputError):
    """A name (measure, dimension, field, operator, template, ...) that does not exist."""

    code = "unknown_name"
    kind = "name"

    def __init__(self, name: str, choices: Iterable[str], *, context: str = "") -> None:
        self.name = name
        self.choices = sorted(set(choices))
        self.suggestions = suggest(name, self.choices)
        where = f" {context}" if context else ""
        hint = (
            f" Did you mean {' or '.join(repr(s) for s in self.suggestions)}?"
            if self.suggestions
            else ""
        )
        listed = ", ".join(self.choices[:40]) + (" ..." if len(self.choices) > 40 else "")
        super().__init__(
            f"Unknown {self.kind} {_shorten(name)}{where}.{hint} Valid {self.kind}s: {listed}."
        )


class UnknownMeasureError(UnknownNameError):
    code = "unknown_measure"
    kind = "measure"


class UnknownDimensionError(UnknownNameError):
    code = "unknown_dimension"
    kind = "dimension"


class UnknownTableError(UnknownNameError):
    code = "unknown_table"
    kind = "table"


class UnknownFieldError(UnknownNameError):
    code = "unknown_field"
    kind = "field"


class UnknownOperatorError(UnknownNameError):
    code = "unknown_operator"
    kind = "operator"


class UnknownTimeGrainError(UnknownNameError):
    code = "unknown_time_grain"
    kind = "time grain"


class UnknownTemplateError(UnknownNameError):
    code = "unknown_template"
    kind = "template"


class UnknownStepError(UnknownNameError):
    code = "unknown_step"
    kind = "step"


class UnknownToolError(UnknownNameError):
    code = "unknown_tool"
    kind = "tool"


class UnknownParameterError(UnknownNameError):
    code = "unknown_parameter"
    kind = "parameter"


class AmbiguousNameError(BadInputError):
    """A short name that several tables define; the caller must qualify it."""

    code = "ambiguous_name"

    def __init__(self, name: str, candidates: Iterable[str]) -> None:
        self.name = name
        self.candidates = sorted(candidates)
        super().__init__(
            f"{_shorten(name)} is ambiguous: qualify it as one of {', '.join(self.candidates)}."
        )


class InvalidValueError(BadInputError):
    """A value of the wrong type or shape for the item it was given to."""

    code = "invalid_value"

    def __init__(
        self, item: str, value: object, expected: str, *, reason: str | None = None
    ) -> None:
        self.item = item
        self.value = value
        why = reason or f"expected {expected}"
        super().__init__(f"Invalid value {_shorten(value)} for {item}: {why}.")


def invalid_value_from(err: Any, where: str) -> InvalidValueError:
    """The first problem of a pydantic ValidationError as an InvalidValueError naming the item
    (duck-typed, so this module still imports nothing)."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    message = str(first["msg"])
    return InvalidValueError(
        " ".join(part for part in (where, loc) if part) or "query",
        first.get("input"),
        message,
        reason=message[:1].lower() + message[1:],
    )


class InvalidQueryError(BadInputError):
    """A query whose parts are valid alone but not together (e.g. no measure and no dimension)."""

    code = "invalid_query"


class SemanticModelError(BadInputError):
    """A semantic model file that cannot be loaded or is inconsistent."""

    code = "invalid_semantic_model"


class TemplateError(BadInputError):
    """A workflow template that is malformed (dangling dependency, cycle, duplicate step)."""

    code = "invalid_template"


class ConditionError(BadInputError):
    """A routing condition, or a rule set of them, that does not parse or makes no sense. The
    message points at the bad part: a column and caret line in text, a location like
    ``all[1].op`` in an object, the rule's name in a rule set."""

    code = "invalid_condition"

    def __init__(
        self, message: str, *, column: int | None = None, suggestions: Iterable[str] = ()
    ) -> None:
        super().__init__(message)
        #: 1-based column of the offending token in the condition text, when there is one.
        self.column = column
        self.suggestions = list(suggestions)


class DatabaseError(BadInputError):
    """The database the caller pointed at cannot be used as it is."""

    code = "database_error"


class DatabaseNotFoundError(DatabaseError):
    code = "database_not_found"


class NotADuckDBFileError(DatabaseError):
    code = "not_a_duckdb_file"


class DatabaseLockedError(DatabaseError):
    code = "database_locked"
    http_status = 409


class MissingSchemaError(DatabaseError):
    """Tables or columns the semantic model needs are absent from the database."""

    code = "missing_schema"

    def __init__(self, database: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"Database {database} does not match the semantic model: " + "; ".join(missing) + "."
        )


class OutputExistsError(BadInputError):
    """Refusing to overwrite a file that already holds something."""

    code = "output_exists"
    http_status = 409


class QueryTimeoutError(ChatterError):
    """A query ran past its time limit and was interrupted. The caller's to act on (its message
    says how: a longer limit, or a narrower question), so exit code 2 and a 4xx on every
    engine, not a server failure."""

    code = "query_timeout"
    bad_input = True
    http_status = 422


class PermissionDeniedError(BadInputError):
    """The caller's role and grants do not allow this action; nothing ran."""

    code = "permission_denied"
    http_status = 403


class NotAuthenticatedError(BadInputError):
    """No credentials, or credentials nobody issued."""

    code = "not_authenticated"
    http_status = 401


class RateLimitedError(BadInputError):
    """Too many calls in the window a grant allows; ``retry_after_s`` says when one frees up."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def to_dict(self) -> dict[str, dict[str, Any]]:
        body: dict[str, dict[str, Any]] = super().to_dict()
        body["error"]["retry_after_s"] = round(self.retry_after_s, 3)
        return body


class SensitiveContentError(BadInputError):
    """A parameter looks like a secret (an API key, a token, a private key); refused so it is
    never sent to the database, a log or an LLM."""

    code = "sensitive_content"
    http_status = 422


class RunStateError(BadInputError):
    """The run exists but cannot do that now (execute a finished run, say)."""

    code = "run_state"
    http_status = 409


class UnknownRunError(BadInputError):
    code = "unknown_run"
    http_status = 404


class QueryExecutionError(ChatterError):
    """DuckDB failed while running a query chatter built."""

    code = "query_failed"
