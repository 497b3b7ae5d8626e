"""Spark SQL for user data: Parquet files in a directory (or a catalog's tables), read-only,
each statement in a job group cancelled at the time limit, capped.

``spark:///data/dir`` registers each ``<table>.parquet`` (a file, or a directory of part files)
in the directory as a temporary view of a session of its own; without a directory, the tables
of a catalog database (``?database=``) are read. The master comes from the URL (``local[*]``
unless ``?master=`` or a ``spark://host:port`` says otherwise); ``sc://host:port`` talks to a
Spark Connect server instead. A SparkSession takes seconds to start, so the process starts one
per master and every engine takes a new session (its own views and settings) of it.

Only one ``SELECT`` (or ``WITH ... SELECT``) statement runs, checked by parsing; Spark reading
files named in SQL (``parquet.`/path```) is switched off; values are bound as named
parameters (``:name``, ``spark.sql(..., args=...)``), never written into the SQL.
"""

from __future__ import annotations

import decimal
import hashlib
import os
import socket
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from chatter.errors import (
    ChatterError,
    DatabaseError,
    DatabaseNotFoundError,
    QueryExecutionError,
    QueryTimeoutError,
)
from chatter.logs import get_logger
from chatter.semantic import deadlines
from chatter.semantic.engines.base import RawResult, first_line
from chatter.semantic.engines.locator import DatabaseUrl, scrub, url_options
from chatter.semantic.engines.rows import column_array, plain_row
from chatter.semantic.engines.spark_dialect import NAME as SPARK_DIALECT

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = get_logger(__name__)

DEFAULT_MASTER = "local[*]"
CONNECT_PORT = 15002  # Spark Connect's default
#: Chatter's own URL parameters; the rest of an ``sc://`` URL's go to Spark Connect.
OWN_OPTIONS = frozenset({"master", "database", "data"})
#: Settings of every chatter session: UTC timestamps, DuckDB's arithmetic (x / 0 is NULL,
#: not an error), no SQL over files outside the registered views, no UI port opened.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.runSQLOnFiles": "false",
}
_START_CONF = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}
#: In local mode, Spark's 200 shuffle partitions are 200 tiny tasks per aggregation on a
#: machine's few cores; a cluster keeps its own setting.
_LOCAL_CONF = {"spark.sql.shuffle.partitions": "8"}
#: How often a stopped statement's jobs are cancelled again until it ends.
RECANCEL_S = 0.1
_READ_ONLY = (exp.Select, exp.Union, exp.Intersect, exp.Except)


class SparkUnavailableError(DatabaseError):
    """pyspark (or the Java runtime it needs) is not installed."""

    code = "spark_unavailable"


@dataclass(frozen=True)
class SparkTarget:
    """What a Spark URL asks for: where Spark runs, and where the tables are."""

    master: str | None  # None: Spark Connect at ``remote``
    remote: str | None
    directory: Path | None
    database: str | None

    @classmethod
    def of(cls, url: DatabaseUrl) -> SparkTarget:
        parts = urlsplit(url.conninfo)
        options = dict(url_options(parts))
        data = options.get("data") or url.dbname
        directory = Path(data).expanduser() if data else None
        database = options.get("database") or None
        if url.scheme == "sc":
            rest = [f"{k}={v}" for k, v in url_options(parts) if k not in OWN_OPTIONS]
            where = parts.netloc.rpartition("@")[2]
            remote = f"sc://{where}/" + (";" + ";".join(rest) if rest else "")
            return cls(None, remote, directory, database)
        if url.host:
            master = f"spark://{url.host}:{url.port or 7077}"
        else:
            master = options.get("master") or DEFAULT_MASTER
        return cls(master, None, directory, database)


# ---- one SparkSession per process ----------------------------------------------------------

_base: dict[str, SparkSession] = {}  # master or remote -> the session first started for it
_base_lock = threading.Lock()


def _spark_session(target: SparkTarget, url: DatabaseUrl) -> SparkSession:
    """A new session (its own temporary views and settings) of the process's SparkSession for
    ``target``'s master, starting it on first use (seconds: the JVM, then the context)."""
    try:
        import pyspark.sql  # noqa: F401  (whether it is there: it starts below)
    except ImportError:
        raise SparkUnavailableError(
            "Spark URLs need pyspark: pip install 'chatter[spark]' (and a Java 17+ runtime)."
        ) from None
    key = target.remote or target.master or DEFAULT_MASTER
    with _base_lock:
        base = _base.get(key)
        if base is None:
            if target.master and any(k != key and not k.startswith("sc://") for k in _base):
                running = next(k for k in _base if not k.startswith("sc://"))
                raise DatabaseError(
                    f"This process already runs Spark with master {running!r}; one process "
                    f"runs one master, so {target.master!r} needs a process of its own."
                )
            base = _start(target, url)
            _base[key] = base
    session = base.newSession()
    for name, value in SESSION_CONF.items():
        session.conf.set(name, value)
    return session


def stop_connect_sessions() -> None:
    """Stop the process's Spark Connect sessions (while their servers still answer: a
    session left open asks a stopped server again, with retries, for minutes at exit)."""
    with _base_lock:
        remotes = [k for k in _base if k.startswith("sc://")]
        sessions = [_base.pop(k) for k in remotes]
    for session in sessions:
        session.stop()


def _quiet_logging() -> str:
    """A log4j2 configuration that lets only Spark's errors through to stderr (chatter's own
    logs are the JSON lines there; Spark's default prints warnings about the host name)."""
    path = Path(tempfile.gettempdir()) / f"chatter-spark-log4j2-{os.getuid()}.properties"
    if not path.exists():
        path.write_text(
            "rootLogger.level = error\n"
            "rootLogger.appenderRef.stderr.ref = console\n"
            "appender.console.type = Console\n"
            "appender.console.name = console\n"
            "appender.console.target = SYSTEM_ERR\n"
            "appender.console.layout.type = PatternLayout\n"
            "appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n\n"
        )
    return str(path)


def _quiet_query_errors() -> None:
    """pyspark 4 logs every failed query's Java stack as JSON to stderr; chatter reports the
    failure itself (one line, in its own error and log)."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark 3.5 logs nothing of the kind
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


def _connect_session(remote: str) -> SparkSession:
    """A Spark Connect session, from the Connect client's own builder: pyspark's front door
    (``SparkSession.builder.remote``) refuses one in a process that also runs Spark itself,
    and switches the whole process to Connect mode; the client's builder does neither, so
    both kinds of URL work side by side."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    session = ConnectSession.builder.remote(remote).appName("chatter").getOrCreate()
    return session  # type: ignore[return-value]


def _reachable(url: DatabaseUrl) -> None:
    """Fail at once, naming the server, when nothing listens where a Spark Connect URL
    points: the client would retry each call for minutes before it gives up."""
    port = url.port or CONNECT_PORT
    try:
        socket.create_connection((url.host or "localhost", port), timeout=5).close()
    except OSError as err:
        raise DatabaseError(
            f"No Spark Connect server answers at {url.host or 'localhost'}:{port} "
            f"({url.identity}): {err.strerror or err}."
        ) from None


def _start(target: SparkTarget, url: DatabaseUrl) -> SparkSession:
    """Start Spark for ``target`` (errors name ``url``'s identity: a token stays out)."""
    from pyspark.sql import SparkSession

    _quiet_query_errors()
    started = time.perf_counter()
    builder = SparkSession.builder.appName("chatter")
    try:
        with warnings.catch_warnings():  # pyspark warns about pandas versions it never uses here
            warnings.simplefilter("ignore", FutureWarning)
            if target.remote:
                _reachable(url)
                session = _connect_session(target.remote)
            else:
                java = f"-Duser.timezone=UTC -Dlog4j2.configurationFile={_quiet_logging()}"
                master = target.master or DEFAULT_MASTER
                local = _LOCAL_CONF if master.startswith("local") else {}
                for name, value in {**_START_CONF, **local}.items():
                    builder = builder.config(name, value)
                builder = builder.config("spark.driver.extraJavaOptions", java)
                session = builder.master(master).getOrCreate()
                session.sparkContext.setLogLevel("ERROR")
    except ImportError as err:  # Spark Connect's client needs grpcio, pyarrow, pandas
        raise SparkUnavailableError(
            f"Spark Connect URLs need pyspark's connect client: pip install 'pyspark[connect]' "
            f"({_reason(scrub(str(err), url))})."
        ) from None
    except Exception as err:  # Java missing, a master that does not answer: pyspark's own
        text = _reason(scrub(str(err), url))
        where = url.identity if target.remote else target.master
        if "JAVA_HOME" in text or "Java gateway" in text:
            raise SparkUnavailableError(
                f"Spark could not start ({text}): it needs a Java 17+ runtime on PATH or in "
                "JAVA_HOME."
            ) from None
        raise DatabaseError(f"Spark at {where} could not be reached: {text}") from None
    log.info("spark_started", master=target.master, seconds=round(time.perf_counter() - started, 2))
    return session


# ---- the engine ------------------------------------------------------------------------------


class SparkEngine:
    """One Spark data source (a directory of Parquet tables, or a catalog database)."""

    #: sqlglot's spark, with the spellings Spark reads otherwise fixed (``spark_dialect``).
    dialect = SPARK_DIALECT

    def __init__(self, url: DatabaseUrl, *, timeout_s: float = 30.0) -> None:
        self.url = url
        self.identity = url.identity
        self.timeout_s = timeout_s
        self.target = SparkTarget.of(url)
        if self.target.directory is not None:
            self._check_directory(self.target.directory)
        self._lock = threading.Lock()
        self._register_lock = threading.Lock()
        self._active: dict[int, set[str]] = {}  # thread -> job groups running
        self._stopped: set[str] = set()  # job groups cancelled (timed out or interrupted)
        self._registered = ""  # the data version the views were registered at
        self._closed = False
        self._spark = _spark_session(self.target, url)
        self._connect = self.target.remote is not None
        if self.target.database:
            self._use_database(self.target.database)
        self._refresh()

    def _check_directory(self, directory: Path) -> None:
        if not directory.is_absolute():
            raise DatabaseError(
                f"The Spark data directory {str(directory)!r} is not an absolute path: write "
                "spark:///absolute/path/to/dir (three slashes before the path)."
            )
        if not directory.exists():
            raise DatabaseNotFoundError(f"Spark data directory {directory} does not exist.")
        if not directory.is_dir():
            raise DatabaseNotFoundError(f"Spark data path {directory} is not a directory.")
        if not _parquet_tables(directory):
            raise DatabaseNotFoundError(
                f"Spark data directory {directory} holds no <table>.parquet files "
                "(write the demo there with: chatter demo --out DIR --format parquet)."
            )

    def _use_database(self, name: str) -> None:
        names = [row[0] for row in self._collect_plain("SHOW DATABASES")]
        if name not in names:
            raise DatabaseNotFoundError(
                f"Spark database {name!r} does not exist (databases: {', '.join(names) or 'none'})."
            )
        self._spark.catalog.setCurrentDatabase(name)

    def _refresh(self) -> None:
        """(Re-)register the directory's tables when its files changed: a view lists its files
        when made, so a rewritten table needs a new one."""
        directory = self.target.directory
        if directory is None:
            return
        version = self.version
        with self._register_lock:  # not self._lock: a cancel must not wait for a listing
            if version == self._registered:
                return
            for table, path in _parquet_tables(directory).items():
                try:
                    frame = self._spark.read.parquet(str(path))
                    frame.createOrReplaceTempView(table)
                except Exception as err:
                    raise DatabaseError(
                        f"Spark cannot read {path} as Parquet: {_reason(str(err))}"
                    ) from None
            self._registered = version

    # ---- running statements ----------------------------------------------------------------

    @contextmanager
    def _job(self) -> Iterator[str]:
        """A job group (a tag on Spark Connect) of its own, cancelled at ``timeout_s``; Spark
        errors become ours."""
        if self._closed:
            raise QueryExecutionError(f"The Spark session for {self.identity} is closed.")
        group = f"chatter-{uuid.uuid4().hex}"
        fired = threading.Event()

        def cancel() -> None:
            fired.set()
            self._cancel(group)

        if self._connect:
            self._spark.addTag(group)
        else:
            self._spark.sparkContext.setJobGroup(group, "chatter query", interruptOnCancel=True)
        with self._lock:
            self._active.setdefault(threading.get_ident(), set()).add(group)
        timer = deadlines.after(self.timeout_s, cancel)
        try:
            yield group
        except ChatterError:  # ours already (refused, a table that cannot be read)
            raise
        except Exception as err:
            with self._lock:
                stopped = group in self._stopped
            if fired.is_set() or stopped:  # a timeout, or an interrupt (a cancelled run)
                raise QueryTimeoutError(
                    f"Query ran longer than {self.timeout_s:g} s and was stopped "
                    "(raise CHATTER_QUERY_TIMEOUT_S, or narrow the question with filters)."
                    if fired.is_set()
                    else "The query was stopped (the run was cancelled)."
                ) from None
            raise QueryExecutionError(
                f"Spark could not run the query: {_reason(scrub(str(err), self.url))}"
            ) from None
        finally:
            timer.cancel()
            with self._lock:
                ident = threading.get_ident()
                groups = self._active.get(ident, set())
                groups.discard(group)
                if not groups:
                    self._active.pop(ident, None)
                self._stopped.discard(group)
            if self._connect:
                self._spark.removeTag(group)
            else:
                self._spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]

    def _cancel(self, group: str) -> None:
        """Cancel the group's jobs, and again every RECANCEL_S while its statement runs: a
        cancel reaches only the jobs running now, and a statement may start more after."""
        with self._lock:
            if not any(group in groups for groups in self._active.values()):
                return  # it ended
            self._stopped.add(group)
        if self._connect:
            self._spark.interruptTag(group)
        else:
            self._spark.sparkContext.cancelJobGroup(group)
        deadlines.after(RECANCEL_S, lambda: self._cancel(group))

    def _frame(self, sql: str, params: dict[str, Any] | None) -> Any:
        _check_read_only(sql)
        self._refresh()
        args = {k: _spark_value(v) for k, v in (params or {}).items()}
        return self._spark.sql(sql, args=args or None)

    def _collect_plain(self, sql: str) -> list[tuple[Any, ...]]:
        with self._job():
            return [tuple(r) for r in self._spark.sql(sql).collect()]

    def execute(
        self, sql: str, params: dict[str, Any] | None = None, *, row_cap: int | None = None
    ) -> RawResult:
        """Run one SELECT; cancel its jobs after ``timeout_s``; keep at most ``row_cap`` rows
        (a limit on the plan, so Spark stops reading past it)."""
        started = time.perf_counter()
        with self._job():
            frame = self._frame(sql, params)
            columns = tuple(frame.columns)
            if row_cap is not None:
                frame = frame.limit(row_cap + 1)
            rows = [plain_row(r) for r in frame.collect()]
        truncated = row_cap is not None and len(rows) > row_cap
        if truncated:
            rows = rows[:row_cap]
        duration_ms = (time.perf_counter() - started) * 1000
        log.debug("query_executed", rows=len(rows), truncated=truncated, ms=round(duration_ms, 2))
        return RawResult(columns, rows, truncated, duration_ms)

    def fetch_arrays(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Run one SELECT and return its columns as numpy arrays of the dtypes DuckDB's
        ``fetchnumpy`` gives (float64, int64, bool, datetime64[us], object)."""
        with self._job():
            frame = self._frame(sql, params)
            names = list(frame.columns)
            rows = [plain_row(r) for r in frame.collect()]
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return {name: column_array(values) for name, values in zip(names, columns, strict=True)}

    def interrupt(self, threads: set[int] | None = None) -> int:
        """Cancel the jobs of the queries running on ``threads`` (all when None)."""
        with self._lock:
            groups = [
                g for t, gs in self._active.items() if threads is None or t in threads for g in gs
            ]
        for group in groups:
            self._cancel(group)
        return len(groups)

    def busy(self) -> bool:
        with self._lock:
            return any(self._active.values())

    def close(self) -> None:
        """Drop this engine's views (release its session, on Spark Connect); the process's
        SparkSession stays up for the next engine (starting it again would cost seconds)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._connect:  # its own server session: released, views and all
            self._spark.stop()
        elif self.target.directory is not None:
            for table in _parquet_tables(self.target.directory):
                self._spark.catalog.dropTempView(table)

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- what the warehouse asks -----------------------------------------------------------

    @property
    def version(self) -> str:
        """The Parquet files' names, sizes and modification times ("" for catalog tables:
        the result cache's TTL bounds those)."""
        directory = self.target.directory
        if directory is None:
            return ""
        parts = []
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.name.startswith((".", "_")):
                st = path.stat()
                parts.append(f"{path.relative_to(directory)}:{st.st_size}:{st.st_mtime_ns}")
        return "parquet:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    def render(self, ast: exp.Expr) -> str:
        """Spark SQL with ``:name`` parameter markers (values stay parameters); the dialect
        spells what sqlglot's spark would get wrong, so ``literal_sql`` shows the same SQL."""
        return ast.sql(self.dialect)

    def schema(self) -> dict[str, dict[str, str]]:
        """Table -> column -> type (Spark's simple type names), for the registered views or
        the current catalog database's tables."""
        self._refresh()
        out: dict[str, dict[str, str]] = {}
        with self._job():
            catalog = self._spark.catalog
            if self.target.directory is not None:
                names = sorted(_parquet_tables(self.target.directory))
            else:
                names = sorted(t.name for t in catalog.listTables() if not t.isTemporary)
            for name in names:
                fields = self._spark.table(name).schema.fields
                out[name] = {f.name: f.dataType.simpleString() for f in fields}
        return out


def _parquet_tables(directory: Path) -> dict[str, Path]:
    """Table name -> its Parquet file (or directory of part files), for ``<table>.parquet``."""
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return {}
    return {p.name[: -len(".parquet")]: p for p in entries if p.name.endswith(".parquet")}


def _check_read_only(sql: str) -> None:
    """Refuse anything but one query: Spark SQL could otherwise create, insert, cache,
    change settings or add jars."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=SPARK_DIALECT) if s is not None]
    except ParseError as err:
        raise QueryExecutionError(
            f"Spark SQL could not be parsed: {first_line(str(err))}"
        ) from None
    if len(statements) != 1:
        raise QueryExecutionError(
            f"Refused: one statement at a time on Spark ({len(statements)} given)."
        )
    statement = statements[0]
    if not isinstance(statement, _READ_ONLY) or any(
        isinstance(node, exp.DDL | exp.DML) for node in statement.walk()
    ):
        kind = statement.key.upper()
        raise QueryExecutionError(
            f"Refused: Spark data is read-only to chatter (a {kind} statement is not a query)."
        )


def _reason(text: str) -> str:
    """Spark's own words from a pyspark error: py4j's first line only names the call
    ("An error occurred while calling o87.collectToPython."), the next the Java exception."""
    for line in text.strip().splitlines():
        line = line.strip().lstrip(": ").strip()
        if line and not line.startswith("An error occurred while calling"):
            return line
    return first_line(text)


def _spark_value(value: Any) -> Any:
    """A bound value as pyspark takes it (a Decimal as a float: Spark's literal would be a
    DECIMAL whose arithmetic DuckDB's double does not share)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value
