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

from chatter.number_text import cell_text, p_value
from chatter.result import StepResult, WorkflowResult
from chatter.tools.insight.wording import CORRECTIONS


def _cell(value: Any, fmt: str = "number") -> Text:
    if value is None:
        return Text("-", style="dim")
    text = cell_text(value, fmt)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return Text(text, justify="right") if numeric else Text(text)


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
            verb = {
                "step_started": "running",
                "step_finished": event.get("status", "done"),
                "step_skipped": "skipped",
            }.get(str(event.get("event")), "")
            bar.update(
                task,
                completed=float(event.get("percent", 0)),
                description=f"{event.get('step', '')} {verb}",
            )

        yield update


def print_run_report(
    result: WorkflowResult, console: Console | None = None, max_rows: int = 12
) -> None:
    """Insights first, then each step's table, then the findings."""
    console = console or Console(highlight=False)
    console.print(
        f"[bold]{result.workflow}[/] - {result.status} in "
        f"{result.metrics.duration_ms:,.0f} ms ({result.metrics.cache_hits} cached "
        f"step(s))"
    )
    if result.insights:
        console.print("\n[bold]Insights[/]")
        for n, insight in enumerate(result.insights, start=1):
            console.print(f" {n}. {escape(insight.text)}", soft_wrap=True)
            console.print(f"    evidence: {', '.join(insight.evidence)}", style="dim")
    for step in result.steps:
        console.print(
            f"\n[bold]{step.id}[/] ({step.type}) - {step.status}"
            + (f": {escape(step.error)}" if step.error else "")
        )
        if step.type == "insight_generation" or not step.rows:
            continue
        table = Table(show_edge=False, header_style="bold")
        columns = step.columns or list(step.rows[0])
        for column in columns:
            table.add_column(column)
        for row in step.rows[:max_rows]:
            table.add_row(*(_cell(_plain(row.get(c))) for c in columns))
        console.print(table)
        if len(step.rows) > max_rows:
            console.print(
                f"... {len(step.rows) - max_rows:,} more row(s) (see --json)", style="dim"
            )
    tested = [f for f in result.findings if f.testable and not f.descriptive]
    if tested:
        methods = sorted(
            {CORRECTIONS.get(f.correction, f.correction) for f in tested if f.correction}
        )
        after = f" after {' and '.join(methods)}" if methods else ""
        console.print(
            f"\n[bold]Findings[/] ({sum(f.significant for f in tested)} of "
            f"{len(tested)} tests significant{after})"
        )
        table = Table(show_edge=False, header_style="bold")
        for column in (
            "step",
            "metric",
            "dimension",
            "segment / subject",
            "test",
            "effect",
            "p adj",
            "",
        ):
            table.add_column(column)
        for f in sorted(tested, key=lambda f: (not f.significant, f.p_adjusted or 1.0)):
            table.add_row(
                f.source_step or "",
                f.metric,
                f.dimension or "",
                f.segment or f.subject or "all levels",
                f.test,
                _cell(f.effect_size),
                _p(f.p_adjusted),
                "*" if f.significant else "",
            )
        console.print(table)


def _plain(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def _p(value: float | None) -> Text:
    if value is None:
        return Text("-", style="dim")
    return Text(p_value(value), justify="right")


def print_answer(reply: Any, console: Console | None = None) -> None:
    """An answer: what the question was understood to ask, the route and why, then the table
    or the workflow report, then follow-ups."""
    console = console or Console(highlight=False)
    route = reply.route
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
        print_run_report(reply, console=console)
    if getattr(reply, "database", None):
        console.print(f"Database: {escape(reply.database)}", style="dim")
    if reply.suggestions:
        console.print("Try: " + " · ".join(f'"{s}"' for s in reply.suggestions), style="dim")
