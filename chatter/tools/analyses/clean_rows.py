"""Rows an analysis must not count: events of accounts missing from the entity table (orphans)
and rows repeating a primary key (a duplicated event id). Counted, they make a feature used only
by unknown ids look "significant"; so each analysis statement reads a cleaned copy of a dirty
table, and the step's notes say how many rows were left out (docs/analyses.md, data quality).

A table is checked once per analysis with one aggregate; a clean table is read as it is, so clean
data pays one cheap count and no rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

from chatter.semantic.compiler import DIALECT
from chatter.semantic.model import SemanticModel
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.sql_template import build_sql

_ROWS = "_clean_rows"


@lru_cache(maxsize=512)
def _tables_read(sql: str, dialect: str = DIALECT) -> tuple[str, ...]:
    """The tables ``sql`` (written in ``dialect``) names (parsing a query costs about a
    millisecond; a cached step's statement is the same text every time, so it is parsed once)."""
    return tuple(node.name for node in sqlglot.parse_one(sql, read=dialect).find_all(exp.Table))


@dataclass(frozen=True)
class TableCheck:
    """How one table's rows are checked: its key, and the entity it must belong to."""

    table: str  # physical
    key: str | None  # single-column primary key, or None
    parent: str | None  # physical entity table
    column: str | None  # this table's column that joins the entity
    parent_key: str | None

    def counts_sql(self) -> exp.Expr:
        dup = f"count(*) - count(DISTINCT {_ROWS}.C_KEY)" if self.key else "0"
        # An orphan finds no entity key: a join to the distinct keys, not a subquery inside
        # the aggregate's FILTER, which PostgreSQL would run once per row.
        orphan = "count(*) FILTER (WHERE _p.C_PKEY IS NULL)" if self.parent else "0"
        keys = (
            f"LEFT JOIN (SELECT DISTINCT T_P.C_PKEY FROM T_P) AS _p ON _p.C_PKEY = {_ROWS}.C_COL"
            if self.parent
            else ""
        )
        return build_sql(
            f"SELECT {dup} AS duplicates, {orphan} AS orphans FROM T_X AS {_ROWS} {keys}",
            self._names(),
        )

    def cleaned(self, alias: str, orphans: bool, duplicates: bool) -> exp.Expr:
        where = (
            f"WHERE EXISTS (SELECT 1 FROM T_P AS _p WHERE _p.C_PKEY = {_ROWS}.C_COL)"
            if orphans
            else ""
        )
        qualify = (
            f"QUALIFY row_number() OVER (PARTITION BY {_ROWS}.C_KEY) = 1" if duplicates else ""
        )
        rows = build_sql(
            f"SELECT * FROM T_X AS {_ROWS} {where} {qualify}", self._names(orphans, duplicates)
        )
        return exp.Subquery(
            this=rows, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))
        )

    def _names(self, orphans: bool = True, duplicates: bool = True) -> dict[str, str]:
        names = {"T_X": self.table}
        if self.key and duplicates:
            names["C_KEY"] = self.key
        if self.parent and self.column and self.parent_key and orphans:
            names |= {"T_P": self.parent, "C_PKEY": self.parent_key, "C_COL": self.column}
        return names


def _entity(model: SemanticModel) -> str | None:
    """The table the others belong to: the one most joined to (``users`` in the default)."""
    targets = [j.to for t in model.tables.values() for j in t.joins]
    return max(sorted(set(targets)), key=targets.count) if targets else None


def table_checks(model: SemanticModel) -> dict[str, TableCheck]:
    """The checks of every model table: its single-column key, and its join to the entity."""
    entity_table = _entity(model)
    entity = model.tables.get(entity_table) if entity_table else None
    out = {}
    for t in model.tables.values():
        key = t.primary_key[0] if len(t.primary_key) == 1 else None
        join = next(
            (j for j in t.joins if entity is not None and j.to == entity_table and len(j.on) == 1),
            None,
        )
        column, parent_key = next(iter(join.on.items())) if join else (None, None)
        out[t.table] = TableCheck(
            table=t.table,
            key=key,
            parent=entity.table if join and entity is not None else None,
            column=column,
            parent_key=parent_key,
        )
    return out


@dataclass
class RowCleaner:
    """Checks the tables a statement reads (once each) and rewrites it to read clean copies."""

    warehouse: Warehouse

    def __post_init__(self) -> None:
        self.checks = table_checks(self.warehouse.model)
        self.found: dict[str, tuple[int, int]] = {}  # table -> (orphans, duplicates)

    def _counts(self, table: str) -> tuple[int, int]:
        if table not in self.found:
            check = self.checks[table]
            if check.key is None and check.parent is None:
                self.found[table] = (0, 0)
            else:  # once per version of the data, not once per run
                self.found[table] = self.warehouse.fact(
                    "orphans_and_duplicates", table, lambda: self._count(check)
                )
        return self.found[table]

    def _count(self, check: TableCheck) -> tuple[int, int]:
        row = self.warehouse.run_ast(check.counts_sql(), {}, row_cap=1).rows[0]
        return int(row[1] or 0), int(row[0] or 0)

    def clean(self, ast: exp.Expr) -> exp.Expr:
        """``ast`` reading clean copies of the tables with orphans or duplicates; ``ast``
        itself (not a copy) when none of its tables has any."""
        ctes = {cte.alias_or_name for cte in ast.find_all(exp.CTE)}
        dirty = []
        for i, node in enumerate(ast.find_all(exp.Table)):
            if node.name not in self.checks or node.name in ctes or node.args.get("db"):
                continue
            orphans, duplicates = self._counts(node.name)
            if orphans or duplicates:
                dirty.append((i, bool(orphans), bool(duplicates)))
        if not dirty:
            return ast
        out = ast.copy()
        tables = list(out.find_all(exp.Table))  # the same walk, so the same positions
        for i, orphans, duplicates in dirty:
            node = tables[i]
            node.replace(self.checks[node.name].cleaned(node.alias_or_name, orphans, duplicates))
        return out

    def check(self, sql: str) -> None:
        """Count the rows to leave out of every table ``sql`` reads, without rewriting it (a
        query step shows rows as stored and says what the analyses leave out)."""
        for table in _tables_read(sql, self.warehouse.engine.dialect):
            if table in self.checks:
                self._counts(table)

    def note(self, *, as_stored: bool = False) -> str | None:
        """The rows left out, in words; ``as_stored``: said of a step that shows them."""
        parts = []
        for table, (orphans, duplicates) in sorted(self.found.items()):
            parent = self.checks[table].parent
            if orphans:
                parts.append(f"{orphans:,} rows of {table} whose account is not in {parent}")
            if duplicates:
                parts.append(f"{duplicates:,} rows of {table} repeating a {self.checks[table].key}")
        if not parts:
            return None
        if as_stored:
            return (
                "Data quality: counted here as stored, and left out of the run's analyses: "
                + "; ".join(parts)
                + "."
            )
        return "Data quality: left out " + "; ".join(parts) + " (each key counted once)."
