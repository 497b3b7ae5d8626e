"""A real `chatter serve` on loopback for tests and benches: its own data directory, the given
database and API keys, stopped when done."""

from __future__ import annotations

import functools
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# Strong keys (`chatter serve` refuses weak ones): `chatter keys create`'s shape, and for vera a
# hex key (`openssl rand -hex 32`), which no secret pattern knows: only its being configured does.
KEYS = {
    "chk_2GXJSNX3FxE7YtZwC6hViJqJ_wCQzqc1EdfP5nKolAg": {"user": "alice", "role": "analyst"},
    "chk_3RCbY_TEAs-QsQKQkhgk8zbe-16nl8_sh1Kf4pp8oCY": {"user": "bob", "role": "analyst"},
    "84d85a3b2a7a2520c373967351136fbd393c5611f9ff70b278f7a4e9c270cb95": {
        "user": "vera",
        "role": "viewer",
    },
    "chk_TcoronyGHwPNq5o1cA6T1MEoUSihWY7r1mkWKsuwECs": {"user": "root", "role": "admin"},
}


@dataclass
class Server:
    url: str
    home: Path
    process: subprocess.Popen[str]
    #: Everything the server wrote to stderr (its JSON logs), as it arrives.
    stderr: list[str]

    def client(self, key: str | None = None, **options: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120, **options)  # type: ignore[arg-type]


def key_of(user: str) -> str:
    return next(k for k, v in KEYS.items() if v["user"] == user)


@contextmanager
def running_server(
    home: Path,
    database: Path,
    *,
    extra_env: dict[str, str] | None = None,
    open_files: int | None = None,
) -> Iterator[Server]:
    """``open_files``: the server's limit on open files (``ulimit -n``), from its start."""
    home.mkdir(parents=True, exist_ok=True)
    keys = home.parent / f"{home.name}-keys.json"
    keys.write_text(json.dumps(KEYS))
    env = {
        **os.environ,
        "CHATTER_HOME": str(home),
        "CHATTER_DATABASE": str(database),
        "CHATTER_API_KEYS": str(keys),
        **(extra_env or {}),
    }
    env.pop("OPENAI_API_KEY", None)
    # Set in the child before it runs the server (and so inherited by nothing else).
    limit = (
        functools.partial(resource.setrlimit, resource.RLIMIT_NOFILE, (open_files, open_files))
        if open_files is not None
        else None
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "chatter.cli", "serve", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        preexec_fn=limit,
    )
    try:
        lines: list[str] = []
        url = _wait_for_url(process, lines)
        yield Server(url, home, process, lines)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_url(process: subprocess.Popen[str], seen: list[str]) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            if process.poll() is not None:
                raise RuntimeError("chatter serve exited:\n" + "".join(seen))
            continue
        seen.append(line)
        found = re.search(r"chatter API on (http://\S+?) ", line)
        if found:
            # Keep draining stderr so the server never blocks on a full pipe.
            threading.Thread(target=_drain, args=(process, seen), daemon=True).start()
            return found.group(1)
    raise RuntimeError("chatter serve did not start:\n" + "".join(seen))


def _drain(process: subprocess.Popen[str], into: list[str]) -> None:
    for line in process.stderr or []:
        into.append(line)
