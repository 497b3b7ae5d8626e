"""What a caller may ask about: the semantic model's measures and dimensions, and each string
dimension's levels as the data holds them (within the caller's data scope). Read through the
guard like any other call, so each read is audited."""

from __future__ import annotations

from typing import Any

from chatter.analyst.vocabulary import data_levels
from chatter.context import Context
from chatter.governance.permissions import tool_resources
from chatter.semantic.model_lookup import measure_index
from chatter.services import Services


def describe_model(services: Services, ctx: Context) -> dict[str, Any]:
    """Measures and dimensions by the names a query takes, with the levels of the string
    dimensions read from the data."""
    authorize_model_read(services, ctx, action="model.describe")
    warehouse = services.warehouse(ctx)
    model = warehouse.model
    levels = data_levels(warehouse)
    shared = {name for name, owners in measure_index(model.tables).items() if len(owners) > 1}
    measures = [
        {
            "name": f"{table.name}.{m.name}" if m.name in shared else m.name,
            "table": table.name,
            "aggregation": m.agg,
            "format": m.format,
            "description": m.description,
        }
        for table in model.tables.values()
        for m in table.measures.values()
    ]
    dimensions = []
    for table in model.tables.values():
        for d in table.dimensions.values():
            name = (
                d.name if len(model.dimension_candidates(d.name)) == 1 else f"{table.name}.{d.name}"
            )
            dimensions.append(
                {
                    "name": name,
                    "table": table.name,
                    "type": d.type,
                    "description": d.description,
                    #: None: not a string dimension, or too many distinct values to list.
                    "levels": levels.get(name),
                }
            )
    return {
        "model": model.name,
        "description": model.description,
        "database": str(services.database(ctx)),
        "measures": measures,
        "dimensions": dimensions,
    }


def authorize_model_read(services: Services, ctx: Context, *, action: str) -> None:
    # Reading the model is what a query needs: whoever may query may read it.
    services.guard.authorize(ctx, "read", tool_resources("query", "query"), action=action)
