"""``chatter serve``: the chat HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chatter.cli.application import guarded, stderr_console


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
            err = stderr_console()
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

    guarded(False, run)
