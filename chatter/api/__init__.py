"""The chat HTTP API (CONTRACT.md section 6): ``create_app()`` builds it, ``chatter serve`` runs it.

FastAPI loads only with the app: the CLI reads API keys (``chatter.api.keys``) on every
command, and a question asked on the command line should not wait for a web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatter.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from chatter.api.app import create_app

        return create_app
    raise AttributeError(f"module 'chatter.api' has no attribute {name!r}")
