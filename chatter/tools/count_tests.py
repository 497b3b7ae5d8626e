"""Statistical tests on counts the caller gives (an agent, or a template step with fixed
numbers): no data is read, the test's result is the step's one finding."""

from __future__ import annotations

from pydantic import Field

from chatter.result import StepResult
from chatter.tools.analyses.result import to_finding
from chatter.tools.params import Params
from chatter.tools.protocol import ToolCall, ToolOutput
from chatter.tools.stats import TestResult, chi_square_test, level_vs_rest_test


class ProportionParams(Params):
    """Successes out of n in one level, and in the rest."""

    metric: str = Field(default="rate", max_length=100, description="What the proportion is of.")
    successes: int = Field(ge=0)
    n: int = Field(ge=0)
    successes_rest: int = Field(ge=0)
    n_rest: int = Field(ge=0)
    label: str = Field(default="level", max_length=200)


class ContingencyParams(Params):
    """A table of counts: rows are levels, columns outcomes."""

    metric: str = Field(default="rate", max_length=100, description="What the table counts.")
    counts: tuple[tuple[float, ...], ...] = Field(min_length=1, max_length=1000)
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...] = ("yes", "no")


def _as_output(call: ToolCall, result: TestResult, metric: str) -> ToolOutput:
    finding = to_finding(result, metric=metric)
    row = result.model_dump(mode="json")
    step = StepResult(
        id=call.step_id,
        type=call.step_type,
        status="completed",
        columns=list(row),
        rows=[row],
        summary={"test": result.test, "p_value": result.p_value},
    )
    return ToolOutput(step, [finding.model_copy(update={"source_step": call.step_id})])


def level_vs_rest_tool(call: ToolCall) -> ToolOutput:
    """One level's proportion against the rest's: Fisher's exact test when counts are small,
    else the two-proportion z-test."""
    p = call.params
    assert isinstance(p, ProportionParams)
    result = level_vs_rest_test(p.successes, p.n, p.successes_rest, p.n_rest, label=p.label)
    return _as_output(call, result, p.metric)


def chi_square_tool(call: ToolCall) -> ToolOutput:
    """Pearson's chi-square test of independence on a table of counts."""
    p = call.params
    assert isinstance(p, ContingencyParams)
    result = chi_square_test([list(r) for r in p.counts], list(p.row_labels), list(p.col_labels))
    return _as_output(call, result, p.metric)
