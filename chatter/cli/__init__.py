"""The ``chatter`` command line (typer + rich): the app with every command, and ``main``."""

from chatter.cli.commands import app, main
from chatter.cli.query import parse_filter, parse_order
from chatter.cli.workflows import parse_customizations

__all__ = ["app", "main", "parse_customizations", "parse_filter", "parse_order"]
