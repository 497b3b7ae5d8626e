"""LangChain tools for an agent, generated from the tool registry: each tool that reads data
or takes counts becomes a StructuredTool whose arguments are that tool's one parameter model.

``langchain_tools(services, context)`` binds them to one caller and one warehouse (database,
model, cache, data scope): the agent never chooses a database or who it is, only what to ask.
Every call takes the template path's checks (parameter model, every name against the semantic
model), goes through the guard as that caller (secrets, permissions, rate limits, audit,
metrics), and reads through the result cache; the caller's mandatory data scope always applies.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from chatter.context import Context
from chatter.semantic.warehouse import Warehouse
from chatter.services import Services
from chatter.tools.protocol import ToolCall, ToolSpec
from chatter.tools.registry import TOOLS, prepare_call


def _agent_tool(services: Services, context: Context, spec: ToolSpec, wh: Warehouse) -> BaseTool:
    step_type = sorted(spec.step_types)[0]

    def call(**arguments: Any) -> dict[str, Any]:
        raw = {k: v for k, v in arguments.items() if v is not None or k in spec.params.model_fields}
        # The guard sees the arguments first: a secret in them must reach no error message.
        jsonable = {
            k: v.model_dump(mode="json") if hasattr(v, "model_dump") else v for k, v in raw.items()
        }

        def run() -> dict[str, Any]:
            params = prepare_call(spec, jsonable, wh.model, where=f"agent tool {spec.name}")
            output = spec.run(
                ToolCall(
                    params=params,
                    step_id=spec.name,
                    step_type=step_type,
                    title=spec.name,
                    warehouse=wh if spec.reads == "data" else None,
                )
            )
            return {
                **output.step.model_dump(mode="json"),
                "findings": [f.model_dump(mode="json") for f in output.findings],
            }

        return services.guard.call(
            context,
            tool=spec.name,
            step_type=step_type,
            params=jsonable,
            func=run,
            step_id=spec.name,
        )

    return StructuredTool.from_function(
        func=call, name=spec.name, description=spec.description, args_schema=spec.params
    )


def langchain_tools(
    services: Services, context: Context, warehouse: Warehouse | None = None
) -> list[BaseTool]:
    """Every registered tool an agent can call on its own (not those that read a run) as a
    LangChain tool run as ``context``: on ``warehouse`` (default the context's pooled one),
    always under the context's governed data scope."""
    governed = services.guard.governed(context)
    if warehouse is None:
        wh = services.warehouse(governed)
    else:  # the caller's engine, never without the caller's scope
        wh = Warehouse(
            warehouse.engine,
            warehouse.model,
            cache=warehouse.cache,
            row_cap=warehouse.row_cap,
            scope=tuple(dict.fromkeys((*warehouse.scope, *governed.scope))),
            flight=warehouse.flight,
        )
    return [
        _agent_tool(services, context, spec, wh) for spec in TOOLS.values() if spec.reads != "run"
    ]
