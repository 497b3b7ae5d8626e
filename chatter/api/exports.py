"""A message's table as CSV, JSON or Parquet. Parquet is written by an in-memory DuckDB (no
extra dependency), with column types taken from the values."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from pathlib import Path
from typing import Any, Literal

from sqlglot import exp

from chatter.errors import UnknownStepError

ExportFormat = Literal["csv", "json", "parquet"]
MEDIA = {"csv": "text/csv", "json": "application/json", "parquet": "application/vnd.apache.parquet"}


def table_of(answer: dict[str, Any], step_id: str | None) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of one step of a stored answer (default: its first step with rows)."""
    # Answers stored before the answer document became flat kept it under "result".
    steps = answer.get("steps") or (answer.get("result") or {}).get("steps") or []
    if step_id is not None:
        found = next((s for s in steps if s.get("id") == step_id), None)
        if found is None:
            raise UnknownStepError(
                step_id, [s.get("id", "") for s in steps], context="in the message"
            )
        return list(found.get("columns") or []), list(found.get("rows") or [])
    for step in steps:
        if step.get("rows"):
            return list(step.get("columns") or []), list(step["rows"])
    return [], []


def export(columns: list[str], rows: list[dict[str, Any]], fmt: ExportFormat) -> bytes:
    if fmt == "json":
        return json.dumps({"columns": columns, "rows": rows}, default=str).encode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()
    return _parquet(columns, rows)


def _duck_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "BOOLEAN"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "BIGINT"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "DOUBLE"
    if present and all(isinstance(v, str) and _is_date(v) for v in present):
        return "DATE"
    return "VARCHAR"


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _parquet(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    import duckdb

    types = {c: _duck_type([r.get(c) for r in rows]) for c in columns}
    names = {c: f"c{i}" for i, c in enumerate(columns)}  # safe placeholders, renamed on output
    ddl = exp.Create(
        this=exp.Schema(
            this=exp.to_table("t"),
            expressions=[
                exp.ColumnDef(this=exp.to_identifier(names[c]), kind=exp.DataType.build(types[c]))
                for c in columns
            ],
        ),
        kind="TABLE",
    )
    select = exp.select(
        *(exp.alias_(exp.column(names[c]), exp.to_identifier(c, quoted=True)) for c in columns)
    ).from_("t")
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(":memory:") as con:
        target = Path(tmp) / "export.parquet"
        con.execute(ddl.sql("duckdb"))
        if rows and columns:
            placeholders = ", ".join("?" for _ in columns)
            con.executemany(
                f"INSERT INTO t VALUES ({placeholders})",  # placeholders only: values are bound
                [
                    [
                        r.get(c) if types[c] != "VARCHAR" or r.get(c) is None else str(r.get(c))
                        for c in columns
                    ]
                    for r in rows
                ],
            )
        con.execute(f"COPY ({select.sql('duckdb')}) TO '{target}' (FORMAT parquet)")
        return target.read_bytes()
