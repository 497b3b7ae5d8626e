"""The registry of tools a template step, an agent or an API call may name: the built-in
ones (chatter.tools.builtin) and any registered later, each with its one parameter model,
checked (keys, values, and every name against the semantic model) before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from chatter.errors import (
    InvalidValueError,
    UnknownParameterError,
    UnknownToolError,
    invalid_value_from,
)
from chatter.semantic.model import SemanticModel
from chatter.semantic.model_checks import is_share
from chatter.semantic.query import SemanticQuery, resolve, resolve_filters
from chatter.tools.builtin import BUILTIN_TOOLS
from chatter.tools.params import ModelName
from chatter.tools.protocol import ToolSpec

TOOLS: dict[str, ToolSpec] = {spec.name: spec for spec in BUILTIN_TOOLS}


def register_tool(spec: ToolSpec) -> ToolSpec:
    """Add a tool (extensions, tests). Names are unique."""
    if spec.name in TOOLS:
        raise ValueError(f"a tool named {spec.name!r} is already registered")
    TOOLS[spec.name] = spec
    return spec


def get_tool(name: str) -> ToolSpec:
    if name not in TOOLS:
        raise UnknownToolError(name, TOOLS)
    return TOOLS[name]


def parse_params(tool: ToolSpec, params: Mapping[str, Any], *, where: str) -> BaseModel:
    """The parameters as the tool's typed model; unknown keys name the valid ones."""
    known = set(tool.params.model_fields)
    for key in params:
        if key not in known:
            raise UnknownParameterError(key, known, context=f"for {where} (tool {tool.name})")
    try:
        return tool.params.model_validate(dict(params))
    except ValidationError as err:
        raise invalid_value_from(err, f"{where} parameter") from None


def check_names(params: BaseModel, model: SemanticModel) -> None:
    """Every dimension, measure, table and filter the parameters name exists in ``model``."""
    if isinstance(params, SemanticQuery):
        resolve(params, model)
        return
    for name, info in type(params).model_fields.items():
        value = getattr(params, name)
        names = marker(info.annotation, info.metadata)
        if isinstance(value, SemanticQuery):
            resolve(value, model)
        elif names is not None and names.kind == "filters":
            resolve_filters(list(value), model)
        elif names is not None and value is not None:
            for item in value if isinstance(value, tuple | list) else (value,):
                if names.kind == "dimension":
                    model.dimension(item.split("__")[0] if "__" in item else item)
                elif names.kind == "measure":
                    model.measure(item)
                elif names.kind == "share":
                    ref = model.measure(item)
                    if not is_share(model.tables, ref.table, ref.measure.name):
                        raise InvalidValueError(
                            name, item, f"a share of two counts: one of {', '.join(model.shares())}"
                        )
                else:
                    model.table(item)


def marker(annotation: Any, metadata: list[Any]) -> ModelName | None:
    for meta in metadata:
        if isinstance(meta, ModelName):
            return meta
    for arg in get_args(annotation):  # tuple[Dimension, ...], or that | None
        if get_origin(arg) is Annotated:
            for meta in arg.__metadata__:
                if isinstance(meta, ModelName):
                    return meta
        elif get_args(arg):
            found = marker(arg, [])
            if found is not None:
                return found
    return None


def prepare_call(
    tool: ToolSpec, raw: Mapping[str, Any] | BaseModel, model: SemanticModel, *, where: str
) -> BaseModel:
    """Parameters parsed and every name they use checked against ``model``: what a call from
    outside a template (an agent, the API) goes through before it runs."""
    params = raw if isinstance(raw, tool.params) else parse_params(tool, dict(raw), where=where)
    check_names(params, model)
    return params
