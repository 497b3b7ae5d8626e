"""The `chatter` command run in this process (typer's CliRunner), for the many cases that check
an exit code and a message: starting a Python process each time cost seconds a case. A few
tests still run the real command in a subprocess (stdout purity, imports, stdin, secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from chatter.cli import app
from chatter.logs import configure_logging
from chatter.services import close_shared_services
from chatter.settings import get_settings


@dataclass(frozen=True)
class Ran:
    """What a subprocess.CompletedProcess would say: exit code, stdout, stderr."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, home: Path, env: dict[str, str] | None = None, input: str | None = None
) -> Ran:
    environment = {"CHATTER_HOME": str(home), "COLUMNS": "120", **(env or {})}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, list(args), env=environment, catch_exceptions=False, input=input
        )
    finally:
        close_shared_services()
        get_settings.cache_clear()
        configure_logging("warning")  # the command set the level for this process
    return Ran(result.exit_code, result.stdout, result.stderr)
