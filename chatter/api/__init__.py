"""The chat HTTP API (CONTRACT.md section 6): ``create_app()`` builds it, ``chatter serve`` runs it."""
