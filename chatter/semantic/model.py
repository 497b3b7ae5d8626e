"""The semantic model: tables with dimensions, measures and joins, loaded from YAML.

A model names what an analyst may ask for; the compiler turns those names into SQL. Names are
looked up here, so every "unknown X" error (with its "did you mean") starts in this module.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chatter.errors import (
    AmbiguousNameError,
    InvalidValueError,
    SemanticModelError,
    UnknownDimensionError,
    UnknownMeasureError,
    UnknownNameError,
    UnknownTableError,
)
from chatter.semantic.values import OPERATORS, coerce

DimensionType = Literal["string", "number", "boolean", "date", "timestamp"]
Aggregation = Literal[
    "count", "count_distinct", "sum", "avg", "min", "max", "variance", "stddev", "ratio"
]
TimeGrain = Literal["day", "week", "month", "quarter", "year"]
TIME_GRAINS: tuple[TimeGrain, ...] = ("day", "week", "month", "quarter", "year")
Relationship = Literal["many_to_one", "one_to_one"]

_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeasureFilter(_Strict):
    """A condition inside a measure, e.g. converted users are users where converted = true."""

    field: str = Field(pattern=_NAME)
    op: str = "="
    value: Any = None


class Dimension(_Strict):
    name: str = Field(pattern=_NAME)
    column: str = Field(pattern=_NAME)
    type: DimensionType = "string"
    description: str = ""
    synonyms: tuple[str, ...] = ()

    @property
    def is_time(self) -> bool:
        return self.type in ("date", "timestamp")


class Measure(_Strict):
    name: str = Field(pattern=_NAME)
    agg: Aggregation
    column: str | None = Field(default=None, pattern=_NAME)
    filters: tuple[MeasureFilter, ...] = ()
    numerator: str | None = None
    denominator: str | None = None
    format: Literal["number", "percent", "currency"] = "number"
    description: str = ""
    synonyms: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _shape(self) -> Measure:
        if self.agg == "ratio":
            if not (self.numerator and self.denominator):
                raise ValueError("a ratio measure needs numerator and denominator")
            if self.column or self.filters:
                raise ValueError("a ratio measure takes no column or filters")
        else:
            if self.numerator or self.denominator:
                raise ValueError(f"numerator/denominator only apply to ratio, not {self.agg}")
            if self.agg not in ("count", "ratio") and not self.column:
                raise ValueError(f"a {self.agg} measure needs a column")
        return self


class Join(_Strict):
    """An edge from this table to ``to``: each row here matches at most one row there."""

    to: str = Field(pattern=_NAME)
    on: dict[str, str]  # this table's column -> the other table's column
    relationship: Relationship = "many_to_one"

    @field_validator("on")
    @classmethod
    def _columns(cls, on: dict[str, str]) -> dict[str, str]:
        if not on:
            raise ValueError("a join needs at least one column pair")
        for left, right in on.items():
            if not (re.match(_NAME, left) and re.match(_NAME, right)):
                raise ValueError(f"invalid join column {left!r} -> {right!r}")
        return on


class Table(_Strict):
    name: str = Field(pattern=_NAME)
    table: str = Field(pattern=_NAME)  # the physical table in the database
    primary_key: tuple[str, ...]
    description: str = ""
    synonyms: tuple[str, ...] = ()
    dimensions: dict[str, Dimension] = {}
    measures: dict[str, Measure] = {}
    joins: tuple[Join, ...] = ()

    @field_validator("primary_key")
    @classmethod
    def _key(cls, key: tuple[str, ...]) -> tuple[str, ...]:
        if not key or not all(re.match(_NAME, c) for c in key):
            raise ValueError("primary_key must name one or more columns (letters, digits, _)")
        return key

    def columns(self) -> set[str]:
        """Every physical column the model reads from this table."""
        cols = set(self.primary_key) | {d.column for d in self.dimensions.values()}
        cols |= {m.column for m in self.measures.values() if m.column}
        cols |= {c for j in self.joins for c in j.on}
        return cols


class Edge(_Strict):
    """One step of a join path, with whether it multiplies rows of the side it starts from."""

    source: str
    target: str
    on: tuple[tuple[str, str], ...]  # (source column, target column)
    fans_out: bool


class FieldRef(_Strict):
    """A resolved dimension: which table defines it and how."""

    table: str
    dimension: Dimension

    @property
    def qualified(self) -> str:
        return f"{self.table}.{self.dimension.name}"


class MeasureRef(_Strict):
    table: str
    measure: Measure

    @property
    def qualified(self) -> str:
        return f"{self.table}.{self.measure.name}"


class SemanticModel(_Strict):
    name: str
    description: str = ""
    tables: dict[str, Table]

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "<string>") -> SemanticModel:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise SemanticModelError(f"{source} is not valid YAML: {err}") from None
        if not isinstance(raw, dict):
            raise SemanticModelError(f"{source} must hold a mapping with 'name' and 'tables'.")
        try:
            return cls.model_validate(_normalize(raw))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise SemanticModelError(
                f"{source}: {where}: {first['msg']} ({err.error_count()} problem(s))"
            ) from None
        except (TypeError, AttributeError) as err:
            raise SemanticModelError(f"{source}: malformed model: {err}") from None

    @classmethod
    def from_path(cls, path: Path) -> SemanticModel:
        path = Path(path).expanduser()
        if not path.is_file():
            raise SemanticModelError(f"Semantic model file {path} does not exist.")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise SemanticModelError(f"Cannot read semantic model {path}: {err}") from None
        return cls.from_yaml_text(text, source=str(path))

    @model_validator(mode="after")
    def _consistent(self) -> SemanticModel:
        problems: list[str] = []
        for t in self.tables.values():
            for join in t.joins:
                if join.to not in self.tables:
                    problems.append(f"tables.{t.name}.joins: unknown table {join.to!r}")
            for m in t.measures.values():
                for f in m.filters:
                    where = f"tables.{t.name}.measures.{m.name}.filters"
                    if f.field not in t.dimensions:
                        problems.append(f"{where}: unknown dimension {f.field!r} of {t.name}")
                    elif f.op not in OPERATORS:
                        problems.append(f"{where}: unknown operator {f.op!r}")
                    elif OPERATORS[f.op] not in ("is_null", "is_not_null"):
                        dim = t.dimensions[f.field]
                        for v in f.value if isinstance(f.value, list) else [f.value]:
                            try:
                                coerce(v, dim.type, where)
                            except InvalidValueError as err:
                                problems.append(err.message)
        all_measures = self._measure_index()
        for (table, mname), m in self._all_measures().items():
            for part in (m.numerator, m.denominator):
                if part is not None and not all_measures.get(part.split(".")[-1]):
                    problems.append(f"tables.{table}.measures.{mname}: unknown measure {part!r}")
        if problems:
            raise ValueError("; ".join(problems))
        for table, mname in self._all_measures():
            try:
                self._check_ratio_cycle(table, mname, ())
            except (AmbiguousNameError, UnknownMeasureError) as err:
                raise ValueError(f"tables.{table}.measures.{mname}: {err.message}") from None
        return self

    def _check_ratio_cycle(self, table: str, name: str, seen: tuple[str, ...]) -> None:
        key = f"{table}.{name}"
        if key in seen:
            raise ValueError(
                f"ratio measures refer to each other in a cycle: {' -> '.join([*seen, key])}"
            )
        m = self.tables[table].measures[name]
        for part in (m.numerator, m.denominator):
            if part:
                ref = self.measure(part, home=table)
                self._check_ratio_cycle(ref.table, ref.measure.name, (*seen, key))

    def _all_measures(self) -> dict[tuple[str, str], Measure]:
        return {(t.name, m.name): m for t in self.tables.values() for m in t.measures.values()}

    def _measure_index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for t in self.tables.values():
            for m in t.measures:
                index.setdefault(m, []).append(t.name)
        return index

    # ---- identity ------------------------------------------------------------------------

    @cached_property
    def content_hash(self) -> str:
        """Stable hash of the model's content (part of graph and result cache keys)."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    # ---- lookup --------------------------------------------------------------------------

    def measure_names(self) -> list[str]:
        index = self._measure_index()
        names = [n for n, tables in index.items() if len(tables) == 1]
        names += [f"{t}.{n}" for n, tables in index.items() if len(tables) > 1 for t in tables]
        return sorted(names)

    def dimension_names(self) -> list[str]:
        """Short names; ``table.name`` also works and picks one table's dimension."""
        return sorted({d for t in self.tables.values() for d in t.dimensions})

    def table(self, name: str) -> Table:
        """The table called ``name``; an unknown name is an error that lists the tables."""
        if name not in self.tables:
            raise UnknownTableError(name, self.tables)
        return self.tables[name]

    def measure(self, name: str, home: str | None = None) -> MeasureRef:
        """Resolve a measure by short or ``table.measure`` name; a short name several tables
        define goes to table ``home`` when it is one of them (a ratio's own table)."""
        table, _, short = str(name).rpartition(".")
        if table:
            t = self.tables.get(table)
            if t is None or short not in t.measures:
                raise UnknownMeasureError(name, self.measure_names())
            return MeasureRef(table=table, measure=t.measures[short])
        owners = self._measure_index().get(short, [])
        if not owners:
            raise UnknownMeasureError(name, self.measure_names())
        if len(owners) > 1 and home in owners:
            owners = [home]
        if len(owners) > 1:
            raise AmbiguousNameError(name, [f"{t}.{short}" for t in owners])
        return MeasureRef(table=owners[0], measure=self.tables[owners[0]].measures[short])

    def dimension_candidates(self, name: str) -> list[FieldRef]:
        """Every table's dimension that ``name`` could mean (qualified names give one)."""
        table, _, short = str(name).rpartition(".")
        if table:
            t = self.tables.get(table)
            if t is None or short not in t.dimensions:
                return []
            return [FieldRef(table=table, dimension=t.dimensions[short])]
        return [
            FieldRef(table=t.name, dimension=t.dimensions[short])
            for t in self.tables.values()
            if short in t.dimensions
        ]

    def dimension(
        self,
        name: str,
        base_tables: tuple[str, ...] = (),
        *,
        kind: type[UnknownNameError] = UnknownDimensionError,
    ) -> FieldRef:
        """Resolve a dimension. A short name that several tables define goes to the one among the
        query's base tables, else to the one every base table reaches without fan-out."""
        candidates = self.dimension_candidates(name)
        if not candidates:
            raise kind(name, self.dimension_names())
        if len(candidates) == 1:
            return candidates[0]
        in_base = [c for c in candidates if c.table in base_tables]
        if len(in_base) == 1:
            return in_base[0]
        if not in_base:
            # With no base table, the dimension table every other candidate looks up wins.
            sources = base_tables or tuple(c.table for c in candidates)
            flat = [c for c in candidates if all(self._flat_path(b, c.table) for b in sources)]
            if len(flat) == 1:
                return flat[0]
        raise AmbiguousNameError(name, [c.qualified for c in candidates])

    # ---- joins ---------------------------------------------------------------------------

    def _edges(self) -> dict[str, list[Edge]]:
        graph: dict[str, list[Edge]] = {t: [] for t in self.tables}
        for t in self.tables.values():
            for j in t.joins:
                pairs = tuple(j.on.items())
                graph[t.name].append(Edge(source=t.name, target=j.to, on=pairs, fans_out=False))
                graph[j.to].append(
                    Edge(
                        source=j.to,
                        target=t.name,
                        on=tuple((b, a) for a, b in pairs),
                        fans_out=j.relationship == "many_to_one",
                    )
                )
        return graph

    def _flat_path(self, source: str, target: str) -> bool:
        path = self.join_path(source, target)
        return path is not None and not any(e.fans_out for e in path)

    def join_path(self, source: str, target: str) -> list[Edge] | None:
        """The join path with the fewest fan-out steps, then the fewest steps; None if none."""
        if source == target:
            return []
        graph = self._edges()
        best: list[Edge] | None = None

        def cost(path: list[Edge]) -> tuple[int, int]:
            return (sum(e.fans_out for e in path), len(path))

        def walk(node: str, path: list[Edge], visited: set[str]) -> None:
            nonlocal best
            for edge in graph[node]:
                if edge.target in visited:
                    continue
                step = [*path, edge]
                if edge.target == target:
                    if best is None or cost(step) < cost(best):
                        best = step
                else:
                    walk(edge.target, step, visited | {edge.target})

        walk(source, [], {source})
        return best


def _normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """Fill the names and defaults the YAML leaves implicit (keys become names)."""
    tables = raw.get("tables")
    if not isinstance(tables, dict):
        raise SemanticModelError("A semantic model needs a 'tables' mapping.")
    out_tables: dict[str, Any] = {}
    for tname, t in tables.items():
        if not isinstance(t, dict):
            raise SemanticModelError(f"tables.{tname} must be a mapping.")
        t = dict(t)
        t.setdefault("name", tname)
        t.setdefault("table", tname)
        pk = t.get("primary_key")
        t["primary_key"] = [pk] if isinstance(pk, str) else pk
        dims = {}
        for dname, d in (t.get("dimensions") or {}).items():
            d = dict(d or {})
            d.setdefault("name", dname)
            d.setdefault("column", dname)
            dims[dname] = d
        t["dimensions"] = dims
        measures = {}
        for mname, m in (t.get("measures") or {}).items():
            m = dict(m or {})
            m.setdefault("name", mname)
            measures[mname] = m
        t["measures"] = measures
        joins = t.get("joins") or []
        if isinstance(joins, dict):
            joins = [{"to": to, **(j or {})} for to, j in joins.items()]
        # YAML 1.1 reads a bare `on:` key as the boolean True.
        t["joins"] = [
            {("on" if k is True else k): v for k, v in j.items()} if isinstance(j, dict) else j
            for j in joins
        ]
        out_tables[tname] = t
    return {**raw, "tables": out_tables}


def load_model(path: Path | None = None) -> SemanticModel:
    """The model at ``path``, or the packaged ``saas`` model."""
    if path is not None:
        return SemanticModel.from_path(path)
    return default_model()


_DEFAULT: SemanticModel | None = None


def default_model() -> SemanticModel:
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("chatter.semantic").joinpath("saas.yaml").read_text("utf-8")
        _DEFAULT = SemanticModel.from_yaml_text(text, source="saas.yaml")
    return _DEFAULT
