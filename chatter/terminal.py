"""Rich rendering for people at a terminal (never used with --json)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from chatter.workflow.result import StepResult


def _cell(value: Any, fmt: str = "number") -> Text:
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, float):
        if fmt == "percent":
            return Text(f"{value:.2%}", justify="right")
        if fmt == "currency":
            return Text(f"{value:,.2f}", justify="right")
        return Text(f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}", justify="right")
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(f"{value:,}", justify="right")
    return Text(str(value))


def print_query_step(
    step: StepResult,
    total_ms: float,
    formats: Mapping[str, str] | None = None,
    console: Console | None = None,
) -> None:
    """The rows as a table, then row count, timing and the SQL as run."""
    console = console or Console(highlight=False)
    formats = formats or {}
    table = Table(show_edge=False, header_style="bold")
    for column in step.columns:
        table.add_column(column)
    for row in step.rows:
        table.add_row(*(_cell(row.get(c), formats.get(c, "number")) for c in step.columns))
    console.print(table)
    note = f"{len(step.rows):,} row(s)"
    if step.truncated:
        note += " [bold yellow](truncated at the row cap)[/]"
    note += f" · {total_ms:,.0f} ms" + (" · from cache" if step.cached else "")
    console.print(note, style="dim")
    if step.sql:
        import sqlglot

        pretty = sqlglot.transpile(step.sql, read="duckdb", write="duckdb", pretty=True)[0]
        console.print(Text(pretty, style="dim"), soft_wrap=True)


def print_templates(described: list[dict[str, Any]], console: Console | None = None) -> None:
    """Each template with its steps in dependency order and what each waits for."""
    console = console or Console(highlight=False)
    for template in described:
        console.print(f"[bold]{template['name']}[/]")
        console.print(f"  {template['description']}", style="dim")
        for number, step in enumerate(template["steps"], start=1):
            after = ", ".join(step["depends_on"])
            console.print(
                f"  {number}. [bold]{step['id']}[/] ({step['type']}, tool {step['tool']})"
                + (f" after {after}" if after else "")
            )
        console.print()
