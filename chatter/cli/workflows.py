"""``chatter run`` and ``chatter templates``: run a workflow template, list the templates."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from chatter.cli import application
from chatter.cli.application import (
    DatabaseOpt,
    JsonOpt,
    ModelOpt,
    NoCacheOpt,
    UserOpt,
    caller_context,
    guarded,
    open_services,
    stderr_console,
)
from chatter.errors import InvalidValueError


def parse_customizations(text: str | None) -> dict[str, Any] | None:
    """JSON text, or @PATH to a JSON file."""
    if text is None:
        return None
    source = text
    if text.startswith("@"):
        try:
            source = Path(text[1:]).expanduser().read_text(encoding="utf-8")
        except OSError as err:
            raise InvalidValueError(
                "--customizations", text, f"a readable file ({err.strerror})"
            ) from None
    try:
        data = json.loads(source)
    except json.JSONDecodeError as err:
        raise InvalidValueError(
            "--customizations",
            text,
            f"valid JSON ({err.msg} at line {err.lineno} column {err.colno})",
        ) from None
    if not isinstance(data, dict):
        raise InvalidValueError("--customizations", text, "a JSON object")
    return data


def run(
    template: Annotated[str, typer.Argument(help="Template name (see `chatter templates`).")],
    customizations: Annotated[
        str | None,
        typer.Option(
            "--customizations",
            help='JSON (or @file): {"steps": {"<id>": {"enabled": false, "parameters": {...}}}}',
        ),
    ] = None,
    charts: Annotated[
        Path | None,
        typer.Option("--charts", help="Write each step's chart (SVG and PNG) into this directory."),
    ] = None,
    database: DatabaseOpt = None,
    semantic_model: ModelOpt = None,
    user: UserOpt = "local",
    no_cache: NoCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a workflow template and print its report (or its JSON result)."""

    def action() -> None:
        from chatter.report_tables import measure_formats
        from chatter.terminal import print_run_report, progress_display
        from chatter.workflow.runs import run_workflow

        custom = parse_customizations(customizations)
        ctx = caller_context(user, database, semantic_model, no_cache)
        with open_services() as services, progress_display(enabled=not as_json) as on_progress:
            result = run_workflow(
                services,
                template,
                custom,
                context=ctx,
                progress=on_progress,
                waited_since=application.command_started,
            )
            # Named in the report (the JSON document keeps its contract shape).
            where = str(services.database(ctx))
            formats = measure_formats(services.model(ctx.semantic_model))
        if charts is not None:
            from chatter.chart_files import write_charts

            written = write_charts(result.steps, charts)
            stderr_console().print(f"Wrote {len(written)} chart file(s) to {charts}")
        if as_json:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            print_run_report(result, database=where, formats=formats)
        if result.status == "failed":
            raise typer.Exit(1)

    guarded(as_json, action)


def templates(as_json: JsonOpt = False) -> None:
    """List the workflow templates and their steps."""

    def action() -> None:
        from chatter.workflow.template import describe_templates

        described = describe_templates()
        if as_json:
            sys.stdout.write(json.dumps(described) + "\n")
            return
        from chatter.terminal import print_templates

        print_templates(described)

    guarded(as_json, action)
