"""Where runs, chat sessions and checkpoints are kept (SQLite under the data directory)."""

from chatter.stores.checkpoints import sqlite_checkpointer
from chatter.stores.runs import RunStore
from chatter.stores.sessions import SessionStore, UnknownMessageError, UnknownSessionError

__all__ = [
    "RunStore",
    "SessionStore",
    "UnknownMessageError",
    "UnknownSessionError",
    "sqlite_checkpointer",
]
