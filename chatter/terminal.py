"""Rich rendering for people at a terminal (never used with --json)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from chatter.number_text import cell_text
from chatter.report_findings import print_findings
from chatter.report_references import evidence_text
from chatter.report_tables import (
    Column,
    column_kind,
    column_label,
    key_columns,
    print_table,
    row_name,
    value_cell,
)
from chatter.result import StepResult, WorkflowResult
from chatter.tools.insight.wording import humanise


def print_query_step(
    step: StepResult,
    total_ms: float,
    formats: Mapping[str, str] | None = None,
    console: Console | None = None,
) -> None:
    """The rows as a table, then row count, timing and the SQL as run."""
    console = console or Console(highlight=False)
    _print_rows(console, step, formats or {}, len(step.rows))
    note = f"{len(step.rows):,} row(s)"
    if step.truncated:
        note += " [bold yellow](truncated at the row cap)[/]"
    note += f" · {total_ms:,.0f} ms" + (" · from cache" if step.cached else "")
    console.print(note, style="dim")
    if step.sql:
        import sqlglot

        try:
            pretty = sqlglot.transpile(step.sql, read="duckdb", write="duckdb", pretty=True)[0]
        except sqlglot.errors.SqlglotError:  # another engine's spelling (Spark's backticks)
            pretty = step.sql
        console.print(Text(pretty, style="dim"), soft_wrap=True)


def _print_rows(
    console: Console, step: StepResult, formats: Mapping[str, str], max_rows: int
) -> None:
    """A step's rows, headers in words, rates as percents, within the console's width."""
    names = step.columns or list(step.rows[0])
    _print_table_of(console, names, step.rows, formats, max_rows)


def _print_table_of(
    console: Console,
    names: list[str],
    rows: list[dict[str, Any]],
    formats: Mapping[str, str],
    max_rows: int,
) -> None:
    shown = rows[:max_rows]
    columns = [
        Column(
            column_label(name),
            [value_cell(_plain(r.get(name)), column_kind(name, formats)) for r in shown],
        )
        for name in names
    ]
    print_table(console, columns, key=max(1, key_columns(names, rows)))


def print_templates(described: list[dict[str, Any]], console: Console | None = None) -> None:
    """Each template with its steps in dependency order and what each waits for."""
    console = console or Console(highlight=False)
    for template in described:
        console.print(f"[bold]{template['name']}[/]")
        console.print(f"  {template['description']}", style="dim")
        for number, step in enumerate(template["steps"], start=1):
            after = [
                *step["depends_on"],
                *(f"{d} (optional)" for d in step.get("optional_dependencies", [])),
            ]
            console.print(
                f"  {number}. [bold]{step['id']}[/] ({step['type']}, tool {step['tool']})"
                + (f" after {', '.join(after)}" if after else "")
            )
        console.print()


@contextmanager
def progress_display(enabled: bool = True) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A progress bar on stderr (only on a terminal); yields the callback runs report to."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda event: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=100)

        def update(event: dict[str, Any]) -> None:
            kind = str(event.get("event"))
            if kind == "understood":  # before any step: what the question was read as
                read = (event.get("interpretation") or {}).get("text") or ""
                route = (event.get("route") or {}).get("workflow", "")
                bar.update(task, description=escape(f"understood: {read} ({route})"))
                return
            verb = {
                "step_started": "running",
                "step_finished": event.get("status", "done"),
                "step_skipped": "skipped",
                "query_started": "running",
                "query_finished": f"{event.get('status', 'done')}, {event.get('rows', 0)} "
                f"row(s){' from the cache' if event.get('cached') else ''}",
            }.get(kind, "")
            bar.update(
                task,
                completed=float(event.get("percent", 0)),
                description=f"{event.get('step', '')} {verb}",
            )

        yield update


def print_run_report(
    result: WorkflowResult,
    console: Console | None = None,
    max_rows: int = 12,
    *,
    database: str | None = None,
    formats: Mapping[str, str] | None = None,
) -> None:
    """Where it ran, insights first, then each step's table, then the findings, numbered as
    the insights cite them. ``formats``: the semantic model's measure formats."""
    console = console or Console(highlight=False)
    formats = formats or {}
    console.print(
        f"[bold]{result.workflow}[/] - {result.status} in "
        f"{result.metrics.duration_ms:,.0f} ms ({result.metrics.cache_hits} cached "
        f"step(s))"
    )
    if database:
        console.print(f"Database: {escape(database)}", style="dim")
    if result.insights:
        console.print("\n[bold]Insights[/]")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column()
        for n, insight in enumerate(result.insights, start=1):
            grid.add_row(f"{n}.", Text(insight.text))
            cited = evidence_text(insight.evidence, result, _row_name)
            if cited:
                grid.add_row("", Text(f"evidence: {cited}", style="dim"))
        console.print(grid)
    for step in result.steps:
        _print_step(console, step, formats, max_rows)
    print_findings(console, result.findings)


def _print_step(
    console: Console, step: StepResult, formats: Mapping[str, str], max_rows: int
) -> None:
    console.print(
        f"\n[bold]{step.id}[/] ({step.type}) - {step.status}"
        + (f": {escape(step.error)}" if step.error else "")
    )
    if step.type == "insight_generation":
        return
    if step.rows:
        _print_rows(console, step, formats, max_rows)
        if len(step.rows) > max_rows:
            console.print(
                f"... {len(step.rows) - max_rows:,} more row(s) (see --json)", style="dim"
            )
    _print_summary(console, step.summary, formats)
    for note in step.notes:
        console.print(Text(note, style="dim"))


def _print_summary(
    console: Console, summary: Mapping[str, Any], formats: Mapping[str, str]
) -> None:
    """A step's headline numbers (what insights cite as its summary) on one wrapped line, and
    each list of records in it as a table of its own."""
    parts, records = [], []
    for key, value in summary.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            records.append((key, value))
            continue
        if isinstance(value, dict):
            value = [f"{humanise(str(k))} {cell_text(v)}" for k, v in value.items()]
        if isinstance(value, list):
            if not value or any(isinstance(v, dict | list) for v in value):
                continue
            text = ", ".join(cell_text(v) for v in value)
        else:
            text = cell_text(value, column_kind(key, formats), missing="-")
        parts.append(f"{humanise(key)} {text}")
    if parts:
        console.print(Text("summary: " + " · ".join(parts), style="dim"))
    for key, rows in records:
        console.print(Text(f"summary {humanise(key)}:", style="dim"))
        names = list(dict.fromkeys(k for r in rows for k in r))
        _print_table_of(console, names, rows, formats, len(rows))


def _row_name(step: StepResult, index: int) -> str:
    """A row as the report names it: its key values, else its position."""
    names = step.columns or list(step.rows[0])
    key = key_columns(names, step.rows)
    return row_name(names, step.rows[index], key) if key else str(index + 1)


def _plain(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def print_answer(reply: Any, console: Console | None = None) -> None:
    """An answer: what the question was understood to ask, the route and why, then the table
    or the workflow report, then follow-ups."""
    console = console or Console(highlight=False)
    route = reply.route
    database = getattr(reply, "database", None)
    understood = getattr(reply, "interpretation", None)
    if understood is not None:
        console.print(f"[bold]Understood:[/] {escape(understood.text)}", soft_wrap=True)
    if reply.clarification:
        console.print(escape(reply.text), soft_wrap=True)
        return
    if route is not None:
        console.print(
            f"[bold]Route:[/] {route.workflow} (confidence {route.confidence:.2f}) - "
            f"{escape(route.reason)}",
            soft_wrap=True,
        )
    if reply.workflow == "query" and reply.steps:
        for note in reply.steps[0].notes:
            console.print(escape(note), soft_wrap=True)
        print_query_step(reply.steps[0], reply.metrics.duration_ms, console=console)
    else:
        print_run_report(reply, console=console, database=database)
        database = None  # named in the report's header
    if database:
        console.print(f"Database: {escape(database)}", style="dim")
    if reply.suggestions:
        console.print("Try: " + " · ".join(f'"{s}"' for s in reply.suggestions), style="dim")
