"""The tamper-evident audit log in PostgreSQL, one chain for every worker: the same records,
queries and ``verify()`` as :class:`chatter.governance.audit.AuditLog` (see there for the chain).

An append locks the one-row ``audit_head`` (``SELECT ... FOR UPDATE``) in its transaction, so
writers in any number of threads and processes take turns and the chain never forks; ``seq``
is the head's count plus one, so it has no gaps (a sequence would skip numbers on rollback).
Triggers refuse UPDATE, DELETE and TRUNCATE; ``verify()`` trusts neither them nor the hashes.
"""

from __future__ import annotations

from typing import Unpack

from chatter.governance.audit import (
    _COLUMNS,
    _NAMES,
    GENESIS,
    MAX_LIMIT,
    AuditEntry,
    AuditLog,
    AuditRecord,
    Filters,
    VerifyReport,
    _chained_row,
    _checked,
    _row_hash,
)
from chatter.stores.postgres.pool import OwnedPool

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT PRIMARY KEY, id TEXT UNIQUE NOT NULL, ts TEXT, actor TEXT, role TEXT,
    action TEXT, tool TEXT, decision TEXT, reason TEXT, params_hash TEXT, run_id TEXT,
    prev_hash TEXT, row_hash TEXT)
""",
    "CREATE INDEX IF NOT EXISTS audit_actor_ts ON audit (actor, ts)",
    "CREATE INDEX IF NOT EXISTS audit_action_ts ON audit (action, ts)",
    "CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts)",
    """
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1), count BIGINT NOT NULL, last_hash TEXT NOT NULL)
""",
    f"INSERT INTO audit_head (id, count, last_hash) VALUES (1, 0, '{GENESIS}') "
    "ON CONFLICT (id) DO NOTHING",
    """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$
""",
    # Made again when missing, so opening the log restores triggers someone dropped.
    """
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_no_update'
                   AND tgrelid = 'audit'::regclass) THEN
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_no_delete'
                   AND tgrelid = 'audit'::regclass) THEN
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_no_truncate'
                   AND tgrelid = 'audit'::regclass) THEN
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    END IF;
END $$
""",
)
_INSERT = f"INSERT INTO audit ({_COLUMNS}) VALUES ({', '.join(['%s'] * len(_NAMES))})"
_BUMP_HEAD = "UPDATE audit_head SET count = count + 1, last_hash = %s WHERE id = 1"


def _where(filters: Filters) -> tuple[str, list[object]]:
    """The SQLite log's WHERE clause (one meaning of every filter), in psycopg's placeholders:
    its values are always bound parameters, and its text holds no other question mark."""
    where, args = AuditLog._where(filters)
    return where.replace("?", "%s"), args


class PostgresAuditLog:
    """The audit tables of the database at ``url``; safe to share between threads and
    processes (each forked child opens its own connections)."""

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        self._pool = OwnedPool(url, name="chatter-audit", max_size=max_connections)
        self._pool.setup(_SCHEMA)

    def append(self, **entry: Unpack[AuditEntry]) -> AuditRecord:
        """Append one entry; see ``AuditEntry`` for its fields."""
        return self.append_many([entry])[0]

    def append_many(self, entries: list[AuditEntry]) -> list[AuditRecord]:
        """Append ``entries`` (``append``'s keyword arguments each) in one transaction."""
        checked = [
            (e, *_checked(e["decision"], e.get("params"), e.get("params_hash"), e.get("reason")))
            for e in entries
        ]
        records = []
        with self._pool.connection() as con:
            head = con.execute(
                "SELECT count, last_hash FROM audit_head WHERE id = 1 FOR UPDATE"
            ).fetchone()
            if head is None:
                raise RuntimeError("audit_head is missing: the audit log was tampered with")
            count, prev = head
            for e, digest, reason in checked:
                # id and ts are taken under the head's lock, so they follow seq across processes.
                row = _chained_row(e, digest, reason, prev)
                prev = row["row_hash"]
                count = int(count) + 1
                con.execute(_INSERT, (count, *row.values()))
                con.execute(_BUMP_HEAD, (row["row_hash"],))
                records.append(AuditRecord(seq=count, **row))
        return records

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
        where, args = _where(filters)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {_COLUMNS} FROM audit{where} ORDER BY seq {order} LIMIT %s OFFSET %s"
        with self._pool.statement() as con:
            rows = con.execute(sql, [*args, min(limit, MAX_LIMIT), offset]).fetchall()
        return [AuditRecord(*row) for row in rows]

    def count(self, **filters: Unpack[Filters]) -> int:
        where, args = _where(filters)
        with self._pool.statement() as con:
            row = con.execute(f"SELECT count(*) FROM audit{where}", args).fetchone()
        return int(row[0]) if row else 0

    def verify(self) -> VerifyReport:
        """Recompute the chain from the rows; trusts neither the triggers nor the stored hashes.
        Reads one snapshot of the rows and the head, streamed from the server."""
        problems: list[str] = []
        rows, last, prev_hash = 0, 0, GENESIS
        with self._pool.connection() as con:
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            head = con.execute("SELECT count, last_hash FROM audit_head WHERE id = 1").fetchone()
            with con.cursor(name="audit_verify") as cursor:
                cursor.itersize = 5000
                cursor.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq")
                for values in cursor:
                    row = dict(zip(_NAMES, values, strict=True))
                    rows, name = rows + 1, f"row seq={row['seq']} id={row['id']}"
                    if row["seq"] != last + 1:
                        problems.append(
                            f"{name}: seq gap, seq {last + 1}..{row['seq'] - 1} missing"
                        )
                    if row["prev_hash"] != prev_hash:
                        problems.append(
                            f"{name}: prev_hash does not chain to seq={last} (row removed?)"
                        )
                    if _row_hash(row) != row["row_hash"]:
                        problems.append(
                            f"{name}: row_hash does not match its contents (row edited)"
                        )
                    last, prev_hash = row["seq"], row["row_hash"]
        if head is None or tuple(head) != (rows, prev_hash):
            problems.append(f"audit_head {head} != ({rows}, {prev_hash!r}): newest rows deleted?")
        return VerifyReport(ok=not problems, rows=rows, problems=problems, head_hash=prev_hash)

    def close(self) -> None:
        """Close the connections; the log reopens on next use."""
        self._pool.close()
