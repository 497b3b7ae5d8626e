"""``chatter serve``: the chat HTTP API under uvicorn, in one process or several.

One worker runs the app in this process. ``--workers N`` binds the socket here and starts N
worker processes on it (uvicorn's supervisor; each builds its app with ``worker_app``), which
only makes sense when they share their state: with SQLite each would keep its own rate
limits, metrics and runs, so N > 1 is refused unless CHATTER_STATE_URL names a PostgreSQL.
Either way the admin key, when one is generated, is printed once, by this process.

Every worker applies the same limits on slow clients (settings ``http_*``): a header read
timeout, the keep-alive timeout, a connection limit and a cap on the request head.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from chatter.cli.application import guarded, stderr_console
from chatter.errors import BadInputError, ChatterError

if TYPE_CHECKING:
    from chatter.api.keys import KeyRing
    from chatter.settings import Settings

#: What each worker process calls to build its app (uvicorn's ``factory=True``).
WORKER_APP = "chatter.cli.serve:worker_app"
#: How long a busy worker may take to answer the supervisor's liveness ping before it is
#: taken for hung and replaced (uvicorn's 5 s is short for a worker doing CPU-bound work).
WORKER_HEALTHCHECK_S = 30


class WorkersNeedSharedStateError(BadInputError):
    """Several worker processes on SQLite state would each count and remember on their own."""

    code = "workers_need_shared_state"

    def __init__(self, workers: int) -> None:
        super().__init__(
            f"--workers {workers} needs shared state: with SQLite (CHATTER_STATE_URL unset) "
            "every worker process would keep its own rate limits, metrics and run controls, "
            "so a limit of N calls would admit N per worker and a cancel could miss the worker "
            "running the run. Set CHATTER_STATE_URL=postgresql://user@host/db to share them "
            "between workers, or serve with --workers 1."
        )


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (default: CHATTER_SERVE_WORKERS, else 1); more than one "
            "needs CHATTER_STATE_URL=postgresql://...",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the chat HTTP API (CONTRACT.md section 6); OpenAPI docs at /docs."""
    log_level = ctx.find_root().params.get("log_level")

    def run() -> None:
        from chatter.api.keys import load_keys
        from chatter.settings import get_settings
        from chatter.stores.state import probe, state_backend

        settings = get_settings()
        backend = state_backend(settings)  # a malformed CHATTER_STATE_URL fails here (exit 2)
        count = workers or settings.serve_workers
        if count > 1 and backend.kind != "postgres":
            raise WorkersNeedSharedStateError(count)
        probe(backend, timeout_s=settings.state_connect_timeout_s)  # down or refused: exit 2
        keys = load_keys(settings)  # made here, once, when none is configured
        if count == 1:
            _serve_here(settings, keys, host, port)
        else:
            if log_level:  # the workers read their settings from the environment
                os.environ["CHATTER_LOG_LEVEL"] = str(log_level)
            _serve_workers(settings, keys, host, port, count)

    guarded(False, run)


def server_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the ``http_*`` settings (the header timeout is the protocol's)."""
    from chatter.cli.http_limits import HTTP_PROTOCOL

    return {
        "http": HTTP_PROTOCOL,
        "timeout_keep_alive": settings.http_keep_alive_s,
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
        "limit_concurrency": settings.http_max_connections or default_max_connections(),
        "log_level": "warning",
    }


def default_max_connections() -> int:
    """Half this process's open-file limit, at most 1000: each connection is a file, and the
    rest is left for databases, caches and pools."""
    try:
        import resource
    except ImportError:  # no such limit (Windows)
        return 1000
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return 1000
    return max(16, min(1000, soft // 2))


def _announce(settings: Settings, keys: KeyRing, host: str, port: int, workers: int) -> None:
    where = f"http://{host}:{port}"
    processes = f"; {workers} worker processes" if workers > 1 else ""
    err = stderr_console()
    err.print(f"chatter API on {where} (docs: {where}/docs{processes})", soft_wrap=True)
    if keys.generated:
        err.print(f"Admin API key (kept in {settings.home}): {keys.generated}", soft_wrap=True)


def _serve_here(settings: Settings, keys: KeyRing, host: str, port: int) -> None:
    """One worker: the app in this process."""
    import uvicorn

    from chatter.api.app import create_app

    application = create_app(settings, keys)  # it owns its services: closed at shutdown
    config = uvicorn.Config(application, host=host, port=port, **server_limits(settings))
    server = uvicorn.Server(config)
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        # Printed once the socket is bound, so the port shown is the real one.
        bound = [s.getsockname() for srv in server.servers for s in srv.sockets]
        _announce(settings, keys, host, bound[0][1] if bound else port, 1)

    server.startup = startup  # type: ignore[method-assign]
    server.run()


def _serve_workers(settings: Settings, keys: KeyRing, host: str, port: int, count: int) -> None:
    """``count`` worker processes on one socket bound here (so ``--port 0`` shows the port
    they all serve); returns when they have stopped (SIGINT or SIGTERM stops them all)."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        WORKER_APP,
        factory=True,
        host=host,
        port=port,
        workers=count,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        **server_limits(settings),
    )
    sock = config.bind_socket()
    # Listening from now on, so connections made before a worker is up wait in the backlog
    # (uvicorn's workers would only start listening as each comes up).
    sock.listen(config.backlog)
    supervisor = Multiprocess(config, sockets=[sock])
    _announce(settings, keys, host, sock.getsockname()[1], count)
    try:
        supervisor.run()
    finally:
        sock.close()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        raise ChatterError("A worker process failed to start; its log above says why.")


def worker_app() -> Any:
    """The app of one worker process: its own services over the shared state, its settings
    and API keys read from the environment the parent gave it."""
    from chatter.api.app import create_app
    from chatter.logs import configure_logging
    from chatter.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level)
    _stop_with_parent()
    return create_app(settings)


def _stop_with_parent() -> None:
    """A worker whose supervisor died (``kill -9``) stops too, instead of serving on alone.
    It waits on multiprocessing's sentinel of the parent, which is ready once the parent is
    gone, even if it went before this worker got here."""
    import multiprocessing
    import multiprocessing.connection
    import signal

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:  # not a worker of the supervisor
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful stop

    threading.Thread(target=watch, name="chatter-parent-watch", daemon=True).start()
