"""``chatter demo``: write the demo DuckDB dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatter.cli.application import guarded


def demo(
    users: Annotated[int, typer.Option(help="Number of users (trial signups).")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output DuckDB file (default: the embedded demo database in CHATTER_HOME).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file.")] = False,
) -> None:
    """Write a demo DuckDB dataset (users, events, revenue) with documented planted effects."""

    def action() -> None:
        from chatter.demo import generate_demo
        from chatter.settings import get_settings

        target = out or get_settings().demo_database
        summary = generate_demo(target, users=users, seed=seed, overwrite=force)
        typer.echo(
            f"Wrote {summary.path}: {summary.users:,} users, {summary.events:,} events, "
            f"{summary.revenue_rows:,} revenue rows (seed {summary.seed}) "
            f"in {summary.seconds:.1f} s."
        )

    guarded(False, action)
