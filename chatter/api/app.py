"""The app factory: routers, error handlers, the body-size limit, and what lives as long as
the app (the data directory's services, API keys, conversations, the background-run pool)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI

from chatter.api.background import Sweeper, stop_gracefully, sweep
from chatter.api.conversation import Conversations
from chatter.api.deps import ApiState
from chatter.api.errors import BodyLimit, install_error_handlers
from chatter.api.keys import KeyRing, load_keys
from chatter.api.mcp.http import mcp_sessions, mount_mcp
from chatter.api.openapi import install_openapi
from chatter.api.routes import admin, chat, health, openai_chat, sessions, web, workflows
from chatter.services import Services
from chatter.settings import Settings, get_settings
from chatter.version import __version__

DESCRIPTION = (
    "Ask questions of your data in a session, run workflow templates in the background, and "
    "(admins) read metrics, the audit log and permissions. Every route but /health needs "
    '`Authorization: Bearer <api key>`. Errors are `{"error": {"code", "message"}}`.'
)


def create_app(
    settings: Settings | None = None,
    keys: KeyRing | None = None,
    services: Services | None = None,
) -> FastAPI:
    """The chat API over ``services`` (made for ``settings`` and closed with the app when
    not given)."""
    settings = settings or (services.settings if services else get_settings())
    keys = keys or load_keys(settings)
    owned = services is None
    services = services or Services(settings)
    api = ApiState(
        keys=keys,
        conversations=Conversations(),
        executor=ThreadPoolExecutor(settings.api_workers, thread_name_prefix="chatter-run"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running: Services = app.state.services
        api.conversations.expire_idle(running, force=True)
        # Runs a stopped or killed server left: ended, or resumed here.
        await asyncio.to_thread(sweep, running, api)
        sweeper = Sweeper(running, api)
        async with mcp_sessions(app):  # the MCP session manager at /mcp
            yield
        sweeper.stop()
        await asyncio.to_thread(stop_gracefully, running, api, settings.api_shutdown_grace_s)
        if owned:
            services.close()

    app = FastAPI(title="chatter", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.services = services
    app.state.api = api
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    for module in (health, chat, sessions, workflows, admin, web, openai_chat):
        app.include_router(module.router)
    mount_mcp(app, services, api)
    return app
