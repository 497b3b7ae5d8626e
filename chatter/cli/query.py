"""``chatter query``: one semantic query from the command line, and its option parsers."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from chatter.cli.application import (
    DatabaseOpt,
    JsonOpt,
    ModelOpt,
    NoCacheOpt,
    UserOpt,
    caller_context,
    guarded,
    open_services,
)
from chatter.errors import InvalidValueError


def parse_filter(text: str) -> dict[str, Any]:
    """``industry=fintech``, ``signup_date >= 2024-01-01``, ``plan_type in starter,growth``,
    ``churn_date is_null`` or a JSON object ``{"field", "op", "value"}``."""
    from chatter.semantic.filter_syntax import parse_filter_text

    return parse_filter_text(text)


def parse_order(text: str) -> dict[str, Any]:
    """``conversion_rate`` (ascending), ``-conversion_rate`` or ``conversion_rate:desc``."""
    text = text.strip()
    descending = text.startswith("-")
    name = text.lstrip("-")
    if ":" in name:
        name, _, direction = name.partition(":")
        if direction.lower() not in ("asc", "desc"):
            raise InvalidValueError("--order", text, "FIELD, -FIELD, FIELD:asc or FIELD:desc")
        descending = direction.lower() == "desc"
    return {"field": name, "descending": descending}


def query(
    measure: Annotated[
        list[str] | None, typer.Option("--measure", "-m", help="Measure (repeat for more).")
    ] = None,
    dimension: Annotated[
        list[str] | None,
        typer.Option(
            "--dimension", "-d", help="Dimension to group by (repeat; DIM__month sets a grain)."
        ),
    ] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help='Row filter, e.g. "industry=fintech" or "signup_date>=2024-01-01" '
            "(repeat for more).",
        ),
    ] = None,
    time_grain: Annotated[
        str | None,
        typer.Option("--time-grain", help="day, week, month, quarter or year for date dimensions."),
    ] = None,
    order: Annotated[
        list[str] | None,
        typer.Option("--order", help="Sort by a returned column; -FIELD for descending (repeat)."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Return at most N rows.")] = None,
    database: DatabaseOpt = None,
    semantic_model: ModelOpt = None,
    user: UserOpt = "local",
    no_cache: NoCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run one semantic query (measures by dimensions) and print the table."""

    def run() -> None:
        with open_services() as services:
            run_query(services)

    def run_query(services: Any) -> None:
        from chatter.analyst.answer import query_result
        from chatter.result import Route

        request = {
            "measures": measure or [],
            "dimensions": dimension or [],
            "filters": [parse_filter(f) for f in filter_ or []],
            "time_grain": time_grain,
            "order_by": [parse_order(o) for o in order or []],
            "limit": limit,
        }
        ctx = caller_context(user, database, semantic_model, no_cache)
        route = Route(
            workflow="query",
            confidence=1.0,
            reason="An explicit semantic query from the command line.",
        )
        result = query_result(services, ctx, request, route)
        step = result.steps[0]
        if as_json:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            from chatter.terminal import print_query_step

            model = services.model(ctx.semantic_model)
            formats = {m.measure.name: m.measure.format for m in map(model.measure, measure or [])}
            print_query_step(step, result.metrics.duration_ms, formats)

    guarded(as_json, run)
