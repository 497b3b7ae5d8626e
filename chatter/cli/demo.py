"""``chatter demo``: write the demo dataset (a DuckDB file, Parquet files, or into PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatter.cli.application import guarded
from chatter.errors import InvalidValueError

FORMATS = ("duckdb", "parquet")


def demo(
    users: Annotated[int, typer.Option(help="Number of users (trial signups).")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    out: Annotated[
        str | None,  # text, not a Path: a path would fold the // of a postgresql:// URL
        typer.Option(
            help="Output DuckDB file, a directory (with --format parquet), or a "
            "postgresql://user@host:port/dbname URL to load the tables into (default: the "
            "embedded demo database in CHATTER_HOME).",
            show_default=False,
        ),
    ] = None,
    file_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="duckdb (one database file) or parquet (users.parquet, events.parquet and "
            "revenue.parquet in the --out directory, for spark:///that/directory).",
        ),
    ] = "duckdb",
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output file (or the demo tables).")
    ] = False,
) -> None:
    """Write a demo dataset (users, events, revenue) with documented planted effects."""

    def action() -> None:
        from chatter.demo import generate_demo
        from chatter.semantic.engines.locator import DatabaseUrl, parse_database
        from chatter.settings import get_settings

        if file_format not in FORMATS:
            raise InvalidValueError("--format", file_format, " or ".join(FORMATS))
        target = parse_database(out) if out else get_settings().demo_database
        if file_format == "parquet":
            if not out or isinstance(target, DatabaseUrl):
                raise InvalidValueError(
                    "--out", out or "(none)", "a directory to write the Parquet files into"
                )
            from chatter.demo.parquet import write_demo_parquet

            summary = write_demo_parquet(Path(target), users=users, seed=seed, overwrite=force)
        elif isinstance(target, DatabaseUrl) and target.kind == "spark":
            raise InvalidValueError(
                "--out",
                str(target),
                "a directory with --format parquet (then read it with --database spark:///DIR)",
            )
        elif isinstance(target, DatabaseUrl):
            from chatter.demo.postgres import load_demo_postgres
            from chatter.semantic.engines.postgres import writable_connection

            url = target
            summary = load_demo_postgres(
                lambda: writable_connection(url), url.identity, users, seed, overwrite=force
            )
        else:
            summary = generate_demo(Path(target), users=users, seed=seed, overwrite=force)
        typer.echo(
            f"Wrote {summary.path}: {summary.users:,} users, {summary.events:,} events, "
            f"{summary.revenue_rows:,} revenue rows (seed {summary.seed}) "
            f"in {summary.seconds:.1f} s."
        )

    guarded(False, action)
