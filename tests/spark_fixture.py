"""Spark for the engine tests: pyspark in local mode (``local[2]``), the same code path as a
cluster, over Parquet files ``chatter demo --format parquet`` writes.

Without pyspark or a Java runtime a developer's run skips these tests, saying why; under CI
(CI=true) they fail instead, so CI never skips them silently (``.ci/run`` installs both).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MASTER = "local[2]"


def require_spark() -> None:
    """Skip (fail under CI) unless pyspark and java are installed."""
    missing = [
        what
        for what, present in (
            ("pyspark (pip install 'chatter[spark]')", importlib.util.find_spec("pyspark")),
            ("a Java runtime (java on PATH)", shutil.which("java") or os.environ.get("JAVA_HOME")),
        )
        if not present
    ]
    if not missing:
        return
    why = "Spark tests need " + " and ".join(missing)
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the Spark tests: {why}", pytrace=False)
    pytest.skip(why)


def spark_url(directory: object, **options: str) -> str:
    """The ``spark://`` URL of a directory of Parquet tables, in local mode."""
    query = "&".join(f"{k}={v}" for k, v in {"master": MASTER, **options}.items())
    return f"spark://{directory}?{query}"


def require_spark_connect() -> None:
    """Skip (fail under CI) unless pyspark's Spark Connect client can load too."""
    require_spark()
    missing = [
        name
        for name in ("pyarrow", "pandas", "grpc", "grpc_status", "zstandard")
        if importlib.util.find_spec(name) is None
    ]
    if not missing:
        return
    why = f"Spark Connect tests need {', '.join(missing)} (pip install 'pyspark[connect]')"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the Spark Connect tests: {why}", pytrace=False)
    pytest.skip(why)


@contextmanager
def connect_server(log: Path, master: str = "local[1]") -> Iterator[str]:
    """A Spark Connect server of its own on a free loopback port (pyspark's spark-submit, in
    the foreground), its ``sc://`` URL yielded; stopped after, whatever happened."""
    import pyspark

    home = Path(pyspark.__file__).parent
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master",
        master,
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf",
        "spark.ui.enabled=false",
    ]
    with log.open("w") as out:
        server = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SPARK_HOME": str(home)},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "Spark Connect server started" not in log.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Spark Connect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield f"sc://127.0.0.1:{port}"
    finally:
        from chatter.semantic.engines.spark import stop_connect_sessions

        stop_connect_sessions()  # while the server answers: else the client retries for minutes
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
