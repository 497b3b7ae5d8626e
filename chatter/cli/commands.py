"""Every ``chatter`` command on the one app, registered here in the order ``--help`` lists
them, and ``main``, the console script's entry point."""

from __future__ import annotations

import atexit
import gc
import time

from chatter.cli import application
from chatter.cli.application import app
from chatter.cli.conversation import ask, chat
from chatter.cli.demo import demo
from chatter.cli.keys import keys
from chatter.cli.mcp import mcp
from chatter.cli.query import query
from chatter.cli.serve import serve
from chatter.cli.workflows import run, templates

for command in (demo, query, run, ask, chat, serve, mcp, templates):
    app.command()(command)
app.add_typer(keys)  # chatter keys create | check


def main() -> None:
    application.command_started = time.time()
    # A command's process ends right after it: its last garbage collection would walk every
    # object the imports made (about half a second of a cached answer's wall time) to free
    # memory the exit frees anyway. Frozen objects are left out of it; the exit handlers
    # (closing stores and connections) still run first.
    atexit.unregister(gc.freeze)  # once, however often tests call main
    atexit.register(gc.freeze)
    app()
