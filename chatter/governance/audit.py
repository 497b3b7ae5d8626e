"""An append-only, tamper-evident audit log in SQLite.

Each row stores ``prev_hash`` (the previous row's ``row_hash``) and ``row_hash`` (sha256 of its own
canonical JSON, ``seq`` excluded): a hash chain. The one-row ``audit_head`` table keeps the count
and last hash, updated in the same transaction as each append. Triggers refuse UPDATE and DELETE;
``verify()`` does not trust them and reports edited rows, rows removed or inserted in the middle,
``seq`` gaps and newest rows removed (via the head). Appends run under ``BEGIN IMMEDIATE``, so
writers in many threads and processes serialize and the chain never forks. Parameters are never
stored, only their hash.

Limits: this detects partial tampering only. Whoever can rewrite the whole file, head included,
can forge a consistent chain; to anchor it, copy ``verify().head_hash`` somewhere the attacker
cannot write (another system, a signed log) and compare later.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NotRequired, TypedDict, TypeVar, Unpack

from chatter.governance._sqlite_pool import SqlitePool

GENESIS = "0" * 64
DECISIONS = frozenset({"allowed", "denied", "error", "info"})
MAX_LIMIT = 10_000
MAX_REASON = 2000
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_NAMES = ("seq", "id", "ts", "actor", "role", "action", "tool", "decision", "reason",
          "params_hash", "run_id", "prev_hash", "row_hash")  # fmt: skip
_HASHED = _NAMES[1:-1]  # everything but seq (assigned by SQLite) and the hash itself
_COLUMNS = ", ".join(_NAMES)
_INSERT = f"INSERT INTO audit ({', '.join(_NAMES[1:])}) VALUES ({', '.join('?' * 12)})"
_BUMP_HEAD = "UPDATE audit_head SET count = count + 1, last_hash = ? WHERE id = 1"
_T = TypeVar("_T")

_ulid_lock = threading.Lock()
_ulid_last = (0, 0)  # (ms, random) of the previous id, to stay monotonic within a millisecond


def new_ulid() -> str:
    """A 26-char Crockford base32 ULID; ids made by this process sort in creation order."""
    global _ulid_last
    with _ulid_lock:
        ms = time.time_ns() // 1_000_000
        last_ms, last_rand = _ulid_last
        if ms <= last_ms:  # same millisecond, or the clock stepped back: keep counting up
            ms, rand = last_ms, last_rand + 1
            if rand >> 80:  # 2**80 ids in one millisecond: borrow the next one
                ms, rand = ms + 1, secrets.randbits(80)
        else:
            rand = secrets.randbits(80)
        _ulid_last = (ms, rand)
    value = (ms << 80) | rand
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _checked(
    decision: str, params: object, params_hash: str | None, reason: str | None
) -> tuple[str | None, str | None]:
    """An entry's params digest and its reason as stored (every backend's ``append``)."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {sorted(DECISIONS)}, not {decision!r}")
    digest = _digest(params) if params is not None else params_hash
    return digest, reason[:MAX_REASON] if reason is not None else None


def _digest(obj: object) -> str:
    """sha256 hex of canonical JSON, so equal values hash alike on every machine and run."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def params_hash(params: object) -> str:
    """The hash the log stores in place of the parameters themselves."""
    return _digest(params)


def _format_ts(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    id: str
    ts: str
    actor: str
    role: str
    action: str
    tool: str | None
    decision: str
    reason: str | None
    params_hash: str | None
    run_id: str | None
    prev_hash: str
    row_hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row_hash(row: dict[str, Any]) -> str:
    return _digest({name: row[name] for name in _HASHED})


class AuditEntry(TypedDict):
    """One entry as ``append`` takes it: who did what and the decision; ``params`` are stored
    only as a digest (or give ``params_hash``), ``reason`` cut to MAX_REASON characters."""

    actor: str
    role: str
    action: str
    decision: str
    tool: NotRequired[str | None]
    reason: NotRequired[str | None]
    params: NotRequired[object]
    params_hash: NotRequired[str | None]
    run_id: NotRequired[str | None]


class Filters(TypedDict, total=False):
    """What ``query`` and ``count`` select on; ``action="x.*"`` is a prefix match."""

    actor: str | None
    action: str | None
    decision: str | None
    tool: str | None
    since: datetime | str | None  # inclusive; aware datetime or ISO string, naive means UTC
    until: datetime | str | None  # exclusive


@dataclass
class VerifyReport:
    ok: bool
    rows: int
    problems: list[str] = field(default_factory=list)
    head_hash: str = GENESIS


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, ts TEXT, actor TEXT, role TEXT,
    action TEXT, tool TEXT, decision TEXT, reason TEXT, params_hash TEXT, run_id TEXT,
    prev_hash TEXT, row_hash TEXT);
CREATE INDEX IF NOT EXISTS audit_actor_ts ON audit (actor, ts);
CREATE INDEX IF NOT EXISTS audit_action_ts ON audit (action, ts);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER, last_hash TEXT);
INSERT OR IGNORE INTO audit_head (id, count, last_hash) VALUES (1, 0, '{GENESIS}');
"""


def _chained_row(
    entry: AuditEntry, digest: str | None, reason: str | None, prev: str
) -> dict[str, Any]:
    """The stored row of ``entry`` (checked into ``digest`` and ``reason``), chained to the
    row before it by ``prev``, that row's hash; stamped now, so call it under the log's lock."""
    values = (
        new_ulid(),
        _format_ts(datetime.now(UTC)),
        entry["actor"],
        entry["role"],
        entry["action"],
        entry.get("tool"),
        entry["decision"],
        reason,
        digest,
        entry.get("run_id"),
    )
    row = dict(zip(_HASHED, (*values, prev), strict=True))
    row["row_hash"] = _row_hash(row)
    return row


def _full_sync(con: sqlite3.Connection) -> None:
    """synchronous=FULL: a committed audit row must survive a power cut."""
    con.execute("PRAGMA synchronous = FULL")


class AuditLog:
    """The audit table of one SQLite file; safe to share between threads and processes. Its
    few pooled connections serve every thread (autocommit: each transaction is explicit)."""

    def __init__(self, path: Path, *, connections: int = 4) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pool = SqlitePool(self.path, size=connections, setup=_full_sync, autocommit=True)
        self._retry(lambda con: con.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;"))

    def _retry(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """busy_timeout waits for most locks; this covers the few SQLite reports without waiting."""
        for attempt in range(6):
            try:
                with self._pool.connection() as con:
                    try:
                        return work(con)
                    except sqlite3.OperationalError:
                        if con.in_transaction:
                            con.rollback()
                        raise
            except sqlite3.OperationalError as exc:
                if attempt == 5 or not ("locked" in str(exc) or "busy" in str(exc)):
                    raise
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def append(self, **entry: Unpack[AuditEntry]) -> AuditRecord:
        """Append one entry; see ``AuditEntry`` for its fields."""
        return self.append_many([entry])[0]

    def append_many(self, entries: list[AuditEntry]) -> list[AuditRecord]:
        """Append ``entries`` (``append``'s keyword arguments each) in one transaction: one
        synced commit for a run's steps instead of one each."""
        checked = [
            (e, *_checked(e["decision"], e.get("params"), e.get("params_hash"), e.get("reason")))
            for e in entries
        ]

        def write(con: sqlite3.Connection) -> list[AuditRecord]:
            con.execute("BEGIN IMMEDIATE")
            (prev,) = con.execute("SELECT last_hash FROM audit_head WHERE id = 1").fetchone()
            records = []
            for e, digest, reason in checked:
                # id and ts are taken under the write lock, so they follow seq across processes.
                row = _chained_row(e, digest, reason, prev)
                prev = row["row_hash"]
                cur = con.execute(_INSERT, tuple(row.values()))
                con.execute(_BUMP_HEAD, (row["row_hash"],))
                records.append(AuditRecord(seq=int(cur.lastrowid or 0), **row))
            con.execute("COMMIT")
            return records

        # No lock of this process's own around it: its threads would hand the write on to one
        # another and starve other processes' writers, who wait in SQLite's busy handler.
        return self._retry(write)

    @staticmethod
    def _where(filters: Filters) -> tuple[str, list[Any]]:
        """A WHERE clause whose values are always bound parameters, never spliced in."""
        clauses: list[str] = []
        args: list[Any] = []
        for column in ("actor", "decision", "tool"):
            if (value := filters.get(column)) is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        action = filters.get("action")
        since, until = filters.get("since"), filters.get("until")
        if action is not None and action.endswith("*"):
            # substr, not LIKE: LIKE ignores case and treats '%' and '_' in names as wildcards.
            clauses.append("substr(action, 1, length(?)) = ?")
            args += [action[:-1]] * 2
        elif action is not None:
            clauses.append("action = ?")
            args.append(action)
        for op, bound in ((">=", since), ("<", until)):
            if bound is not None:
                clauses.append(f"ts {op} ?")
                # The stored format, so that comparing strings compares times.
                moment = datetime.fromisoformat(bound) if isinstance(bound, str) else bound
                args.append(_format_ts(moment))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def query(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
        **filters: Unpack[Filters],
    ) -> list[AuditRecord]:
        """Matching records, newest first by default; at most MAX_LIMIT at a time."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        where, args = self._where(filters)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {_COLUMNS} FROM audit{where} ORDER BY seq {order} LIMIT ? OFFSET ?"
        args += [min(limit, MAX_LIMIT), offset]
        return [AuditRecord(*row) for row in self._retry(lambda c: c.execute(sql, args).fetchall())]

    def count(self, **filters: Unpack[Filters]) -> int:
        where, args = self._where(filters)
        sql = f"SELECT count(*) FROM audit{where}"
        return int(self._retry(lambda c: c.execute(sql, args).fetchone()[0]))

    def verify(self) -> VerifyReport:
        """Recompute the chain from the rows; trusts neither the triggers nor the stored hashes."""
        return self._retry(self._verify)

    def _verify(self, con: sqlite3.Connection) -> VerifyReport:
        problems: list[str] = []
        rows, last, prev_hash = 0, 0, GENESIS
        con.execute("BEGIN")  # one snapshot of the rows and the head
        try:
            head = con.execute("SELECT count, last_hash FROM audit_head WHERE id = 1").fetchone()
            for values in con.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq"):
                row = dict(zip(_NAMES, values, strict=True))
                rows, name = rows + 1, f"row seq={row['seq']} id={row['id']}"
                if row["seq"] != last + 1:
                    problems.append(f"{name}: seq gap, seq {last + 1}..{row['seq'] - 1} missing")
                if row["prev_hash"] != prev_hash:
                    problems.append(
                        f"{name}: prev_hash does not chain to seq={last} (row removed?)"
                    )
                if _row_hash(row) != row["row_hash"]:
                    problems.append(f"{name}: row_hash does not match its contents (row edited)")
                last, prev_hash = row["seq"], row["row_hash"]
        finally:
            con.execute("COMMIT")
        if head is None or tuple(head) != (rows, prev_hash):
            problems.append(f"audit_head {head} != ({rows}, {prev_hash!r}): newest rows deleted?")
        return VerifyReport(ok=not problems, rows=rows, problems=problems, head_hash=prev_hash)

    def close(self) -> None:
        """Close the pool's connections; the log reopens on next use."""
        self._pool.close()
