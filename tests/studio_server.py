"""A real `langgraph dev` on loopback serving langgraph.json, for tests: its own data
directory and database, stopped when done."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_studio(home: Path, database: Path) -> Iterator[str]:
    """The URL of a `langgraph dev` whose graphs read ``database`` and keep their data (the
    audit log, caches) under ``home``."""
    langgraph = shutil.which("langgraph") or str(Path(sys.executable).parent / "langgraph")
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "CHATTER_HOME": str(home),
        "CHATTER_DATABASE": str(database),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
    }
    env.pop("OPENAI_API_KEY", None)
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [
            langgraph,
            "dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
            "--no-reload",
            "--allow-blocking",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError((home / "server.log").read_text()[-4000:])
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError(
                "langgraph dev did not start: " + (home / "server.log").read_text()[-4000:]
            )
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
