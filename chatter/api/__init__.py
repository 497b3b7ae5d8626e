"""The chat HTTP API (CONTRACT.md section 6): ``create_app()`` builds it, ``chatter serve`` runs it."""

from chatter.api.app import create_app

__all__ = ["create_app"]
