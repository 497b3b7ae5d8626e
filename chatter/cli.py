"""The ``chatter`` command line (typer + rich).

Heavy modules (duckdb, sqlglot, langgraph, scipy) are imported inside the commands, so that
``chatter --help`` starts fast. Errors become exit codes here and nowhere else: 2 for bad input,
1 for a failed run; with --json the error is also the JSON document on stdout.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from chatter.errors import ChatterError, InvalidValueError

app = typer.Typer(
    name="chatter",
    help="An AI data analyst: ask questions of your product data and get tested answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DatabaseOpt = Annotated[
    Path | None,
    typer.Option(
        "--database",
        help="DuckDB file (default: CHATTER_DATABASE, else the demo).",
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


def _fail(err: ChatterError, as_json: bool) -> NoReturn:
    if as_json:
        sys.stdout.write(json.dumps(err.to_dict()) + "\n")
    _stderr_console().print(f"[bold red]Error:[/] {_escape(err.message)}", soft_wrap=True)
    raise typer.Exit(err.exit_code)


def _guarded(as_json: bool, action: Callable[[], Any]) -> Any:
    """Run ``action``, turning chatter errors into exit codes and anything else into exit 1."""
    try:
        return action()
    except ChatterError as err:
        _fail(err, as_json)
    except typer.Exit:  # the command chose its exit code
        raise
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as err:  # a bug or an environment failure: say so without a raw trace
        from chatter.logs import get_logger

        get_logger("chatter.cli").error("unexpected_error", exc_info=True)
        failure = ChatterError(f"Unexpected failure: {type(err).__name__}: {err}")
        _fail(failure, as_json)


@contextmanager
def _services() -> Iterator[Any]:
    """The data directory's services for one command, closed when it ends."""
    from chatter.services import Services
    from chatter.settings import get_settings

    services = Services(get_settings())
    try:
        yield services
    finally:
        services.close()


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# ---- demo ------------------------------------------------------------------------------------


@app.command()
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

    _guarded(False, action)


# ---- query -----------------------------------------------------------------------------------


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


@app.command()
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
        with _services() as services:
            run_query(services)

    def run_query(services: Any) -> None:
        from chatter.context import Context
        from chatter.result import Route, RunMetrics, WorkflowResult
        from chatter.tools.query import run_query_step

        started = time.perf_counter()
        request = {
            "measures": measure or [],
            "dimensions": dimension or [],
            "filters": [parse_filter(f) for f in filter_ or []],
            "time_grain": time_grain,
            "order_by": [parse_order(o) for o in order or []],
            "limit": limit,
        }
        ctx = Context(
            user=user, database=database, semantic_model=semantic_model, use_cache=not no_cache
        )
        warehouse = services.warehouse(ctx)
        step = services.guard.call(
            ctx,
            tool="query",
            step_type="query",
            params=request,
            func=lambda: run_query_step(warehouse, request),
            step_id="query",
            cached=lambda s: s.cached,
        )
        result = WorkflowResult(
            workflow="query",
            run_id=uuid.uuid4().hex,
            status="completed",
            steps=[step],
            route=Route(
                workflow="query",
                confidence=1.0,
                reason="An explicit semantic query from the command line.",
            ),
            metrics=RunMetrics(
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                cache_hits=int(step.cached),
            ),
        )
        if as_json:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            from chatter.terminal import print_query_step

            formats = {
                m.measure.name: m.measure.format
                for m in map(warehouse.model.measure, measure or [])
            }
            print_query_step(step, result.metrics.duration_ms, formats)

    _guarded(as_json, run)


# ---- run -------------------------------------------------------------------------------------


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


@app.command()
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
        from chatter.context import Context
        from chatter.terminal import print_run_report, progress_display
        from chatter.workflow.runs import run_workflow

        custom = parse_customizations(customizations)
        ctx = Context(
            user=user, database=database, semantic_model=semantic_model, use_cache=not no_cache
        )
        with _services() as services, progress_display(enabled=not as_json) as on_progress:
            result = run_workflow(services, template, custom, context=ctx, progress=on_progress)
        if charts is not None:
            from chatter.chart_files import write_charts

            written = write_charts(result.steps, charts)
            _stderr_console().print(f"Wrote {len(written)} chart file(s) to {charts}")
        if as_json:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            print_run_report(result)
        if result.status == "failed":
            raise typer.Exit(1)

    _guarded(as_json, action)


# ---- ask and chat ----------------------------------------------------------------------------


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about your data, in words.")],
    database: DatabaseOpt = None,
    semantic_model: ModelOpt = None,
    user: UserOpt = "local",
    no_cache: NoCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Route a question to a workflow or a single query, and answer it."""

    def action() -> None:
        from chatter.analyst.session import ask_once
        from chatter.context import Context
        from chatter.terminal import print_answer, progress_display

        ctx = Context(
            user=user, database=database, semantic_model=semantic_model, use_cache=not no_cache
        )
        with _services() as services, progress_display(enabled=not as_json) as on_progress:
            reply = ask_once(services, question, ctx, on_progress)
        if as_json:
            sys.stdout.write(reply.model_dump_json() + "\n")
        if reply.error:  # the guard refused: the reason on stderr, exit 2 (bad input)
            _stderr_console().print(f"[bold red]Error:[/] {_escape(reply.text)}", soft_wrap=True)
            raise typer.Exit(2)
        if not as_json:
            print_answer(reply)
        if reply.status == "failed":
            raise typer.Exit(1)

    _guarded(as_json, action)


@app.command()
def chat(
    session: Annotated[
        str | None,
        typer.Option("--session", help="Continue a conversation by its id (default: a new one)."),
    ] = None,
    database: DatabaseOpt = None,
    semantic_model: ModelOpt = None,
    user: UserOpt = "local",
    no_cache: NoCacheOpt = False,
) -> None:
    """Talk to the analyst: follow-ups such as "now by industry" or "top 5" build on the last
    answer. Type "exit" (or press Ctrl-D) to leave."""

    def action() -> None:
        with _services() as services:
            converse(services)

    def converse(services: Any) -> None:
        from chatter.analyst.session import ChatSession
        from chatter.context import Context
        from chatter.terminal import print_answer

        ctx = Context(
            user=user, database=database, semantic_model=semantic_model, use_cache=not no_cache
        )
        conversation = ChatSession.open(services, ctx, session)
        console = _stderr_console()
        console.print(f"Session {conversation.session_id} (exit to leave)")
        while True:
            try:
                line = input("you> ")
            except EOFError:
                break
            if line.strip().lower() in ("exit", "quit", ":q"):
                break
            if not line.strip():
                continue
            reply = conversation.say(line)
            if reply.clarification:
                typer.echo(reply.text)
                typer.echo("(answer with one of: " + ", ".join(reply.options) + ", or rephrase)")
            else:
                print_answer(reply)

    _guarded(False, action)


# ---- templates -------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8000,
) -> None:
    """Start the chat HTTP API (CONTRACT.md section 6); OpenAPI docs at /docs."""

    def run() -> None:
        import uvicorn

        from chatter.api.app import create_app
        from chatter.api.keys import load_keys
        from chatter.settings import get_settings

        settings = get_settings()
        keys = load_keys(settings)
        application = create_app(settings, keys)  # it owns its services: closed at shutdown
        config = uvicorn.Config(application, host=host, port=port, log_level="warning")
        server = uvicorn.Server(config)

        async def announce() -> None:
            # Printed once the socket is bound, so the port shown is the real one.
            bound = [s.getsockname() for srv in server.servers for s in srv.sockets]
            where = f"http://{host}:{bound[0][1] if bound else port}"
            err = _stderr_console()
            err.print(f"chatter API on {where} (docs: {where}/docs)", soft_wrap=True)
            if keys.generated:
                err.print(
                    f"Admin API key (kept in {settings.home}): {keys.generated}", soft_wrap=True
                )

        original = server.startup

        async def startup(sockets: Any = None) -> None:
            await original(sockets)
            await announce()

        server.startup = startup  # type: ignore[method-assign]
        server.run()

    _guarded(False, run)


@app.command()
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

    _guarded(as_json, action)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
