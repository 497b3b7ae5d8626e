"""The app factory: routers, error handlers, the body-size limit and the services (API keys,
sessions, the background-run pool) that live as long as the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI

from chatter import __version__
from chatter.api.conversation import Conversations
from chatter.api.deps import Services
from chatter.api.errors import BodyLimit, install_error_handlers
from chatter.api.keys import KeyRing, load_keys
from chatter.api.routes import admin, chat, health, sessions, workflows
from chatter.settings import Settings, get_settings

DESCRIPTION = (
    "Ask questions of your data in a session, run workflow templates in the background, and "
    "(admins) read metrics, the audit log and permissions. Every route but /health needs "
    '`Authorization: Bearer <api key>`. Errors are `{"error": {"code", "message"}}`.'
)


def create_app(settings: Settings | None = None, keys: KeyRing | None = None) -> FastAPI:
    settings = settings or get_settings()
    keys = keys or load_keys(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services.conversations.expire_idle(force=True)
        yield
        app.state.services.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="chatter",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.services = Services(
        settings=settings,
        keys=keys,
        conversations=Conversations(settings),
        executor=ThreadPoolExecutor(settings.api_workers, thread_name_prefix="chatter-run"),
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    for module in (health, chat, sessions, workflows, admin):
        app.include_router(module.router)
    return app
