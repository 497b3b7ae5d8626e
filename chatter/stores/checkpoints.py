"""LangGraph checkpoints in SQLite: durable workflow runs and chat threads resume from them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver


def sqlite_checkpointer(path: Path) -> SqliteSaver:
    """A checkpointer over ``path``, shared by the threads of one process."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), check_same_thread=False)
    # WAL with NORMAL sync: durable across a killed process, without an fsync per checkpoint.
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(con)
