"""Every ``chatter`` command on the one app, registered here in the order ``--help`` lists
them, and ``main``, the console script's entry point."""

from __future__ import annotations

from chatter.cli.application import app
from chatter.cli.conversation import ask, chat
from chatter.cli.demo import demo
from chatter.cli.keys import keys
from chatter.cli.query import query
from chatter.cli.serve import serve
from chatter.cli.workflows import run, templates

for command in (demo, query, run, ask, chat, serve, templates):
    app.command()(command)
app.add_typer(keys)  # chatter keys create | check


def main() -> None:
    app()
