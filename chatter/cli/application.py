"""The one typer app of the ``chatter`` command line, its global and shared options, and the
turning of errors into exit codes.

Heavy modules (duckdb, sqlglot, langgraph, scipy) are imported inside the commands, so that
``chatter --help`` starts fast. Errors become exit codes here and nowhere else: 2 for bad input,
1 for a failed run; with --json the error is also the JSON document on stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from chatter.errors import ChatterError

#: When the running command started (set by ``main``, the console script): a run's
#: ``metrics.setup_ms`` counts the command's start-up the user waited for.
command_started: float | None = None

app = typer.Typer(
    name="chatter",
    help="An AI data analyst: ask questions of your product data and get tested answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DatabaseOpt = Annotated[
    str | None,  # text, not a Path: a path would fold the // of a postgresql:// URL
    typer.Option(
        "--database",
        help="DuckDB file or postgresql://user@host:port/dbname URL "
        "(default: CHATTER_DATABASE, else the demo).",
        show_default=False,
    ),
]
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--semantic-model",
        help="YAML semantic model (default: the packaged saas model).",
        show_default=False,
    ),
]
UserOpt = Annotated[str, typer.Option("--user", help="Who is asking (for permissions and audit).")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Bypass the result cache.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only the JSON result on stdout.")]


@app.callback()
def _main(
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level", help="debug, info, warning or error.", envvar="CHATTER_LOG_LEVEL"
        ),
    ] = "warning",
) -> None:
    from chatter.logs import configure_logging

    configure_logging(log_level)


def fail(err: ChatterError, as_json: bool) -> NoReturn:
    """Report ``err`` (on stderr, and as the JSON document with --json) and exit with its code.
    A message may quote the input: secrets in it (the data directory's API keys too) are
    redacted first."""
    from chatter.sensitive import redact

    screen_keys()
    document = redact(err.to_dict())
    if as_json:
        sys.stdout.write(json.dumps(document) + "\n")
    message = document["error"]["message"]
    stderr_console().print(f"[bold red]Error:[/] {escape_markup(message)}", soft_wrap=True)
    raise typer.Exit(err.exit_code)


def screen_keys() -> None:
    """Make the data directory's API keys known secrets of this process (a question holding
    one is refused, an error quoting one is redacted), whatever the command."""
    from chatter.api.keys import screen_configured_keys
    from chatter.settings import get_settings

    # Settings that cannot be read are the command's to report, not this screening's.
    with suppress(Exception):
        screen_configured_keys(get_settings())


def guarded(as_json: bool, action: Callable[[], Any]) -> Any:
    """Run ``action``, turning chatter errors into exit codes and anything else into exit 1."""
    try:
        return action()
    except ChatterError as err:
        fail(err, as_json)
    except typer.Exit:  # the command chose its exit code
        raise
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as err:  # a bug or an environment failure: say so without a raw trace
        from chatter.logs import get_logger

        get_logger("chatter.cli").error("unexpected_error", exc_info=True)
        failure = ChatterError(f"Unexpected failure: {type(err).__name__}: {err}")
        fail(failure, as_json)


@contextmanager
def open_services() -> Iterator[Any]:
    """The data directory's services for one command, closed when it ends."""
    from chatter.services import Services
    from chatter.settings import get_settings

    screen_keys()  # before anything reads the input
    services = Services(get_settings())
    try:
        yield services
    finally:
        services.close()


def caller_context(
    user: str, database: str | Path | None, semantic_model: Path | None, no_cache: bool
) -> Any:
    """The runtime Context of the common options (who asks, on which data)."""
    from chatter.context import Context

    return Context(
        user=user, database=database, semantic_model=semantic_model, use_cache=not no_cache
    )


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)
