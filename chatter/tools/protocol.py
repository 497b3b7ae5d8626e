"""The tool protocol: what every tool is (a ToolSpec with one parameter model), what it is
given when it runs (a ToolCall) and what it returns (a ToolOutput).

What a tool reads decides how it is run: ``data`` tools query the warehouse (a step takes a
query slot and a time limit for them), ``run`` tools read the run's steps and its corrected
findings (insights, roll-up: they run after every testing step), ``inputs`` tools use only
their parameters (a test on counts the caller gives).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from chatter.result import Finding, StepResult, StepType

if TYPE_CHECKING:  # only annotations: importing the protocol loads no database code
    from chatter.semantic.warehouse import Warehouse

Reads = Literal["data", "run", "inputs"]


@dataclass(frozen=True)
class ToolCall:
    """One call of a tool: its checked parameters and what it may read."""

    params: BaseModel
    step_id: str
    step_type: StepType
    title: str = ""  # what the step is for (chart titles)
    warehouse: Warehouse | None = None  # set for tools that read data
    #: For tools that read the run: its steps so far and its findings under the run's one
    #: multiple-comparison correction, in template order.
    steps: tuple[StepResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    upstream: tuple[str, ...] = ()  # the step ids this step runs after
    alpha: float = 0.05
    llm: Any = None  # the optional LLM (insights may be reworded by it)


@dataclass
class ToolOutput:
    """A step's result, the tests it made (uncorrected), and insights when it wrote some."""

    step: StepResult
    findings: list[Finding] = field(default_factory=list)
    insights: dict[str, Any] | None = None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    step_types: frozenset[StepType]
    params: type[BaseModel]
    run: Callable[[ToolCall], ToolOutput]
    description: str
    reads: Reads = "data"
