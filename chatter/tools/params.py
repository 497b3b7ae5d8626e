"""The base of every tool's parameter model, and the markers that say which parameters name
something in the semantic model (so names are checked before anything runs).

Each tool declares its parameters once, as one of these models, next to the code that uses
them; templates, the registry, agents and the API all read the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class ModelName:
    """Marks a parameter as naming a ``dimension``, ``measure`` (a ``share`` of two counts, for
    some) or ``table`` of the model."""

    kind: Literal["dimension", "measure", "share", "table", "filters"]


Dimension = Annotated[str, ModelName("dimension")]
Measure = Annotated[str, ModelName("measure")]
#: A measure that is a share of two counts (conversion_rate): hits out of trials per level.
Share = Annotated[str, ModelName("share")]
Table = Annotated[str, ModelName("table")]
#: Semantic filters ``{"field", "op", "value"}``: fields, operators and values are checked.
Filters = Annotated[tuple[dict[str, Any], ...], ModelName("filters")]


class Params(BaseModel):
    """Parameters of a tool: unknown keys are refused, values never change once made."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FilteredParams(Params):
    """Parameters of a tool that reads only the rows its filters (semantic filters) keep."""

    filters: Filters = ()
