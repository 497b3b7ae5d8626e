"""The Warehouse: a semantic model over one database, with the result cache in front.

Everything that reads user data goes through here: semantic queries (validated, compiled) and the
SQL ASTs that analyses build themselves. Both are cached by the same rules.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
from sqlglot import exp

from chatter.lru import LruCache
from chatter.semantic.cache import ResultCache, result_key
from chatter.semantic.compiler import (
    CompiledQuery,
    compile_query,
    literal_sql,
    required_columns,
)
from chatter.semantic.engines import Engine, check_schema
from chatter.semantic.grouping_sets import (
    GROUPING_COLUMN,
    by_grouping_sets,
    grouping_keys,
    grouping_mask,
)
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import Filter, SemanticQuery, resolve
from chatter.semantic.scope import scope_statement
from chatter.semantic.singleflight import SingleFlight
from chatter.settings import get_settings
from chatter.version import code_fingerprint

T = TypeVar("T")
#: Facts about the data (``Warehouse.fact``), process-wide: they hold no user's rows
#: beyond counts and dates, and their key carries the data version and the scope.
_FACTS: LruCache[Any] = LruCache(size=256)


@dataclass(frozen=True)
class QueryResult:
    """Rows of one statement, the SQL as run (literals written in), and how it was obtained."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    sql: str
    truncated: bool = False
    duration_ms: float = 0.0
    cached: bool = False
    query: SemanticQuery | None = field(default=None, compare=False)

    def records(self) -> list[dict[str, Any]]:
        """Rows as JSON-safe dicts (dates as ISO text, NaN as null)."""
        return [
            {c: json_safe(v) for c, v in zip(self.columns, row, strict=True)} for row in self.rows
        ]


def json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


@dataclass(frozen=True)
class _Regrouping:
    """One statement for several groupings, and where each grouping's rows and columns are."""

    sql: str
    params: dict[str, Any]
    literal: str
    required: dict[str, frozenset[str]]
    layout: dict[tuple[str, ...], tuple[int, list[int]]]  # grouping -> (mask, columns kept)


class Warehouse:
    """Run semantic queries or built ASTs against one database, through the result cache."""

    def __init__(
        self,
        engine: Engine,
        model: SemanticModel,
        *,
        cache: ResultCache | None = None,
        row_cap: int = 10_000,
        scope: tuple[Filter, ...] = (),
        flight: SingleFlight | None = None,
    ) -> None:
        self.engine = engine
        self.model = model
        self.cache = cache
        self.row_cap = row_cap
        self.scope = scope
        # Shared by every warehouse of a pool, so concurrent identical queries run once.
        self.flight = flight or SingleFlight()
        self._schema: tuple[str, dict[str, dict[str, str]]] | None = None
        self._compiled: dict[str, CompiledQuery] = {}
        self._regrouped: dict[
            tuple[str, tuple[tuple[str, ...], ...], bool], _Regrouping | None
        ] = {}

    def close(self) -> None:
        self.engine.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- schema --------------------------------------------------------------------------

    def schema(self) -> dict[str, dict[str, str]]:
        """The database's tables and columns, cached per data version."""
        version = self.engine.version
        if self._schema and self._schema[0] == version:
            return self._schema[1]
        schema = self.cache.get_schema(self.engine.identity, version) if self.cache else None
        if schema is None:
            schema = self.engine.schema()
            if self.cache:
                self.cache.set_schema(self.engine.identity, version, schema)
        self._schema = (version, schema)
        return schema

    # ---- queries -------------------------------------------------------------------------

    def query(self, query: SemanticQuery | dict[str, Any]) -> QueryResult:
        """Validate, compile and run a semantic query (with this warehouse's data scope)."""
        parsed = SemanticQuery.parse(query)
        compiled = self.compile(parsed)
        sql, literal = compiled.sql, compiled.literal_sql  # compiled for DuckDB
        if self.engine.dialect != "duckdb":
            sql = self.engine.render(compiled.ast)
            literal = literal_sql(compiled.ast, compiled.params, self.engine.dialect, rendered=sql)
        result = self._run(
            sql,
            compiled.params,
            literal,
            compiled.required,
            limit=parsed.limit,
        )
        return replace(result, query=parsed)

    def query_sets(
        self,
        query: SemanticQuery | dict[str, Any],
        groupings: list[tuple[str, ...]],
        *,
        pre_aggregate: bool = False,
    ) -> tuple[list[QueryResult], str] | None:
        """``query``'s measures by each of ``groupings`` (tuples of its dimensions, named as in
        the query), from one statement that groups by all of them at once (grouping_sets); with
        that statement's SQL as run. Each grouping's rows are exactly its own query's (the query
        with that grouping as its dimensions). None when that cannot be promised or the rows
        were cut at the row cap: then ask one query per grouping. ``pre_aggregate``: the caller
        expects far fewer combinations of the dimensions than rows (grouping_sets says when
        that helps)."""
        parsed = SemanticQuery.parse(query)
        asked = tuple(tuple(g) for g in groupings)
        key = (parsed.model_dump_json(), asked, pre_aggregate)
        if key not in self._regrouped:  # checked, built and rendered once
            if len(self._regrouped) >= 512:
                self._regrouped.pop(next(iter(self._regrouped)))
            self._regrouped[key] = self._regrouping(parsed, asked, pre_aggregate)
        plan = self._regrouped[key]
        if plan is None:
            return None
        result = self._run(plan.sql, plan.params, plan.literal, plan.required, limit=None)
        if result.truncated:
            return None
        mask_at = result.columns.index(GROUPING_COLUMN)
        out = []
        for grouping in asked:
            mask, keep = plan.layout[grouping]
            rows = [tuple(row[i] for i in keep) for row in result.rows if row[mask_at] == mask]
            columns = tuple(result.columns[i] for i in keep)
            out.append(replace(result, columns=columns, rows=rows, query=parsed))
        return out, result.sql

    def _regrouping(
        self, parsed: SemanticQuery, asked: tuple[tuple[str, ...], ...], pre_aggregate: bool
    ) -> _Regrouping | None:
        """The one statement for ``asked``, or None unless every grouping's own query is the
        same plain statement grouped by fewer keys: the same measures and output names, the
        same tables read (a join left out can change counts where a key repeats), the same
        values, and rows in the same order (the groupings follow the query's dimensions)."""
        if parsed.limit is not None or parsed.order_by or not asked:
            return None
        names = list(parsed.dimensions)
        if len(set(names)) != len(names) or any(len(set(g)) != len(g) or not g for g in asked):
            return None
        if any(list(g) != [d for d in names if d in g] for g in asked):
            return None  # rows of a grouping out of the query's order would come out of order
        used = [d for d in names if any(d in g for g in asked)]
        whole = parsed.model_copy(update={"dimensions": tuple(used)})
        compiled = self.compile(whole)
        dimensions = list(compiled.dimensions)
        keys = grouping_keys(compiled.ast, dimensions) if len(dimensions) == len(used) else None
        if keys is None:
            return None
        alias = dict(zip(used, dimensions, strict=True))
        key_sql = {a: k.sql() for a, k in zip(dimensions, keys, strict=True)}
        measures = tuple(c for c in compiled.columns if c not in dimensions)
        wanted = {g: tuple(alias[d] for d in g) for g in dict.fromkeys(asked)}
        for grouping, expected in wanted.items():
            own = self.compile(parsed.model_copy(update={"dimensions": grouping}))
            own_keys = grouping_keys(own.ast, list(own.dimensions))
            if (
                own.dimensions != expected
                or own.columns != (*expected, *measures)
                or own_keys is None
                or [k.sql() for k in own_keys] != [key_sql[a] for a in expected]
                or own.params != compiled.params
                or set(own.required) != set(compiled.required)
            ):
                return None
        ast = by_grouping_sets(
            compiled.ast, dimensions, list(wanted.values()), pre_aggregate=pre_aggregate
        )
        if ast is None:
            return None
        sql = self.engine.render(ast)
        columns = [e.alias_or_name for e in ast.expressions]
        layout = {
            grouping: (
                grouping_mask(dimensions, expected),
                [columns.index(c) for c in (*expected, *measures)],
            )
            for grouping, expected in wanted.items()
        }
        literal = literal_sql(ast, compiled.params, self.engine.dialect, rendered=sql)
        return _Regrouping(sql, compiled.params, literal, compiled.required, layout)

    def compile(self, query: SemanticQuery) -> CompiledQuery:
        """Resolve and compile, remembering recent queries: a repeated question (a warm cache
        hit above all) should not pay for building its SQL again."""
        key = query.model_dump_json()
        compiled = self._compiled.pop(key, None)
        if compiled is None:
            resolved = resolve(query, self.model, self.scope)
            compiled = compile_query(resolved, self.model, row_cap=self.row_cap)
            if len(self._compiled) >= 512:
                self._compiled.pop(next(iter(self._compiled)))  # the least recently used
        self._compiled[key] = compiled
        return compiled

    def run_ast(
        self,
        ast: exp.Expr,
        params: dict[str, Any] | None = None,
        *,
        row_cap: int | None = None,
    ) -> QueryResult:
        """Run a statement an analysis built as an AST (placeholders ``$name`` for values),
        rendered for the engine's dialect."""
        ast, params = scope_statement(ast, self.model, self.scope, params or {})
        cap = self.row_cap if row_cap is None else row_cap
        sql = self.engine.render(ast)
        return self._run(
            sql,
            params,
            literal_sql(ast, params, self.engine.dialect, rendered=sql),
            required_columns(ast, self.model),
            limit=None,
            row_cap=cap,
        )

    def fact(self, name: str, params: Any, compute: Callable[[], T]) -> T:
        """A fact about the data itself that every run asks again (where the data ends, how
        many rows a snapshot leaves out, orphans and duplicates), kept in this process per
        database, data version, semantic model and scope: a run with the result cache off
        still works it out once per version of the data, and a hit builds no SQL."""
        key = (
            self.engine.identity,
            self.engine.version,
            self.model.content_hash,
            tuple(f.model_dump_json() for f in self.scope),
            name,
            json.dumps(params, sort_keys=True, default=str),
        )
        value: T = _FACTS.get(key, compute)
        return value

    def fetch_arrays(
        self, ast: exp.Expr, params: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], str]:
        """Run an analysis's statement for its columns as arrays, with the SQL as run. Not
        cached: per-row pulls are large, and the aggregates built on them are what repeats."""
        ast, params = scope_statement(ast, self.model, self.scope, params or {})
        check_schema(self.engine.identity, self.schema(), required_columns(ast, self.model))
        sql = self.engine.render(ast)
        arrays = self.engine.fetch_arrays(sql, params)
        return arrays, literal_sql(ast, params, self.engine.dialect, rendered=sql)

    def memo_key(self, name: str, params: Any) -> str:
        """The result-cache key of a computed value named ``name`` with ``params`` over this
        warehouse's data: the database and its data version, the scope, the semantic model,
        the snapshot day, the row cap, and the code that computes it (kept on disk, a value
        must not outlive the code that made it)."""
        return result_key(
            database=self.engine.identity,
            version=self.engine.version,
            scope=[f.model_dump(mode="json") for f in self.scope],
            sql=f"{name}:{self.model.content_hash}:{code_fingerprint()}",
            # Time-dependent analyses work to a snapshot capped at today: a new day (or a new
            # CHATTER_SNAPSHOT_DATE) is another result.
            params={
                "params": json.dumps(params, sort_keys=True, default=str),
                "today": str(get_settings().today or dt.date.today()),
                "snapshot": str(get_settings().snapshot_date),
            },
            limit=self.row_cap,
        )

    def memoize(self, name: str, params: Any, compute: Callable[[], T]) -> tuple[T, bool]:
        """An analysis's whole result, cached like a query's: by the analysis and its
        parameters, the semantic model, the database and its data version, and the scope.
        Returns the value and whether it came from the cache."""
        if self.cache is None:
            return compute(), False
        key = self.memo_key(f"analysis:{name}", params)
        hit = self.cache.get(key)
        if hit is not None:
            return hit, True
        cache = self.cache

        def compute_and_keep() -> T:
            value = compute()
            cache.set(key, value)
            return value

        return self.flight.do(("analysis", key), compute_and_keep)

    def _run(
        self,
        sql: str,
        params: dict[str, Any],
        literal: str,
        required: dict[str, frozenset[str]],
        *,
        limit: int | None,
        row_cap: int | None = None,
    ) -> QueryResult:
        cap = self.row_cap if row_cap is None else row_cap
        check_schema(self.engine.identity, self.schema(), required)
        key = None
        if self.cache is not None:
            key = result_key(
                database=self.engine.identity,
                version=self.engine.version,
                scope=[f.model_dump(mode="json") for f in self.scope],
                sql=literal,
                params=params,
                limit=[limit, cap],
            )
            hit = self.cache.get(key)
            if hit is not None:
                return replace(hit, cached=True, duration_ms=0.0)

        def compute() -> QueryResult:
            raw = self.engine.execute(sql, params, row_cap=cap)
            result = QueryResult(
                columns=raw.columns,
                rows=raw.rows,
                sql=literal,
                truncated=raw.truncated,
                duration_ms=raw.duration_ms,
            )
            if self.cache is not None and key is not None:
                self.cache.set(key, replace(result, duration_ms=0.0))
            return result

        if key is None:
            return compute()
        result, shared = self.flight.do(key, compute)
        return replace(result, cached=True, duration_ms=0.0) if shared else result
