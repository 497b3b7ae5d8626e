"""Runs, chat sessions and checkpoints in PostgreSQL (``CHATTER_STATE_URL=postgresql://...``),
shared by several workers, behind the same methods as the SQLite stores."""

from chatter.stores.postgres.checkpoints import postgres_checkpointer
from chatter.stores.postgres.pool import OwnedPool
from chatter.stores.postgres.runs import PostgresRunStore
from chatter.stores.postgres.sessions import PostgresSessionStore

__all__ = ["OwnedPool", "PostgresRunStore", "PostgresSessionStore", "postgres_checkpointer"]
