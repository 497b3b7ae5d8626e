"""The leaves of the condition language's syntax tree: comparisons on a dotted path (eq, ne, lt,
le, gt, ge), membership in a list (in, not_in), an inclusive range (between), and exists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args

from chatter.errors import ConditionError
from chatter.rules.nodes import Condition
from chatter.rules.values import (
    ORDERED_OPS,
    Bound,
    CompareOp,
    MemberOp,
    Scalar,
    check_path,
    check_scalar,
    kind,
    ordered,
    render_value,
    resolve,
    same,
    show,
    tagged,
)


@dataclass(frozen=True, slots=True, eq=False)
class Comparison(Condition):
    """``path op value`` with op one of eq, ne, lt, le, gt, ge."""

    path: str
    op: CompareOp
    value: Scalar

    def __post_init__(self) -> None:
        check_path(self.path)
        if self.op not in get_args(CompareOp):
            raise ConditionError(
                f"Comparison operator must be eq, ne, lt, le, gt or ge: {self.op!r}."
            )
        if isinstance(self.value, list | tuple):
            raise ConditionError(f"'{self.op}' takes one value; use 'in' for a list.")
        value = check_scalar(self.value, f"The value of '{self.op}'")
        if self.op in ORDERED_OPS and (value is None or isinstance(value, bool)):
            raise ConditionError(
                f"'{self.op}' compares numbers or text, not {render_value(value)}."
            )
        object.__setattr__(self, "value", value)

    def evaluate(self, context: object) -> bool:
        actual = resolve(context, self.path)
        if self.op == "eq":
            return same(actual, self.value)
        if self.op == "ne":
            return not same(actual, self.value)
        return ordered(actual, self.op, self.value)

    def _key(self) -> tuple[object, ...]:
        return (self.path, self.op, tagged([self.value]))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": self.op, "value": self.value}

    def __str__(self) -> str:
        return f"{self.path} {self.op} {render_value(self.value)}"


@dataclass(frozen=True, slots=True, eq=False)
class Membership(Condition):
    """``path in [a, b]`` or ``path not_in [a, b]``; membership uses ``same`` equality."""

    path: str
    op: MemberOp
    values: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        check_path(self.path)
        if self.op not in get_args(MemberOp):
            raise ConditionError(f"Membership operator must be in or not_in: {self.op!r}.")
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Sequence):
            raise ConditionError(f"'{self.op}' takes a list of values, not {show(self.values)}.")
        if not self.values:
            raise ConditionError(f"'{self.op}' needs at least one value.")
        values = tuple(check_scalar(v, f"A value of '{self.op}'") for v in self.values)
        object.__setattr__(self, "values", values)

    def evaluate(self, context: object) -> bool:
        actual = resolve(context, self.path)
        found = any(same(actual, v) for v in self.values)
        return found if self.op == "in" else not found

    def _key(self) -> tuple[object, ...]:
        return (self.path, self.op, tagged(self.values))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": self.op, "value": list(self.values)}

    def __str__(self) -> str:
        return f"{self.path} {self.op} [{', '.join(render_value(v) for v in self.values)}]"


@dataclass(frozen=True, slots=True, eq=False)
class Between(Condition):
    """``low <= path <= high``, inclusive; a None bound is open (``*`` in text)."""

    path: str
    low: Bound
    high: Bound

    def __post_init__(self) -> None:
        check_path(self.path)
        bounds = []
        for side in ("low", "high"):
            bound = check_scalar(getattr(self, side), f"The {side} bound of 'between'")
            if isinstance(bound, bool):
                raise ConditionError(f"Bounds of 'between' are numbers or text, not {bound}.")
            object.__setattr__(self, side, bound)
            bounds.append(bound)
        low, high = bounds
        if low is None and high is None:
            raise ConditionError("'between' needs at least one bound; * stands for no bound.")
        if low is not None and high is not None:
            if kind(low) != kind(high):
                raise ConditionError(
                    f"Bounds of 'between' must both be numbers or both be text, not "
                    f"{render_value(low)} and {render_value(high)}."
                )
            if low > high:  # type: ignore[operator]  # same kind, checked above
                raise ConditionError(
                    f"The low bound {render_value(low)} of 'between' is above the high bound "
                    f"{render_value(high)}."
                )

    def evaluate(self, context: object) -> bool:
        actual = resolve(context, self.path)
        return (self.low is None or ordered(actual, "ge", self.low)) and (
            self.high is None or ordered(actual, "le", self.high)
        )

    def _key(self) -> tuple[object, ...]:
        return (self.path, tagged([self.low, self.high]))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": "between", "value": [self.low, self.high]}

    def __str__(self) -> str:
        low = "*" if self.low is None else render_value(self.low)
        high = "*" if self.high is None else render_value(self.high)
        return f"{self.path} between {low} and {high}"


@dataclass(frozen=True, slots=True, eq=False)
class Exists(Condition):
    """``path exists``: the path resolves to a value other than null."""

    path: str

    def __post_init__(self) -> None:
        check_path(self.path)

    def evaluate(self, context: object) -> bool:
        return resolve(context, self.path) is not None

    def _key(self) -> tuple[object, ...]:
        return (self.path,)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": "exists"}

    def __str__(self) -> str:
        return f"{self.path} exists"
