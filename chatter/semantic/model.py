"""The semantic model: tables with dimensions, measures and joins, loaded from YAML.

A model names what an analyst may ask for; the compiler turns those names into SQL. This module
holds ``SemanticModel`` itself (loading, identity, and the lookups callers use) and the packaged
default model. The work is done by one module per job:

- ``model_schema``: the pydantic classes of the YAML (tables, dimensions, measures, joins);
- ``model_yaml``: reading the file and filling the names the YAML leaves implicit;
- ``model_checks``: the checks that span tables;
- ``model_lookup``: names to tables, measures and dimensions, with "did you mean" errors;
- ``join_paths``: the join graph and the best join path between two tables.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

from pydantic import model_validator

from chatter.errors import UnknownDimensionError, UnknownNameError
from chatter.semantic import join_paths, model_lookup
from chatter.semantic.join_paths import Edge
from chatter.semantic.model_checks import check_consistency, is_share
from chatter.semantic.model_lookup import FieldRef, MeasureRef
from chatter.semantic.model_schema import (
    TIME_GRAINS,
    Aggregation,
    Dimension,
    DimensionType,
    Join,
    Measure,
    MeasureFilter,
    NonAdditive,
    Relationship,
    StrictModel,
    Table,
    TimeGrain,
)
from chatter.semantic.model_yaml import parse_model_yaml, read_model_file

__all__ = [
    "TIME_GRAINS",
    "Aggregation",
    "Dimension",
    "DimensionType",
    "Edge",
    "FieldRef",
    "Join",
    "Measure",
    "MeasureFilter",
    "MeasureRef",
    "NonAdditive",
    "Relationship",
    "SemanticModel",
    "Table",
    "TimeGrain",
    "default_model",
    "load_model",
]


class SemanticModel(StrictModel):
    name: str
    description: str = ""
    tables: dict[str, Table]

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "<string>") -> SemanticModel:
        return parse_model_yaml(text, source, cls.model_validate)

    @classmethod
    def from_path(cls, path: Path) -> SemanticModel:
        path = Path(path).expanduser()
        return cls.from_yaml_text(read_model_file(path), source=str(path))

    @model_validator(mode="after")
    def _consistent(self) -> SemanticModel:
        check_consistency(self.tables)
        return self

    # ---- identity ------------------------------------------------------------------------

    @cached_property
    def content_hash(self) -> str:
        """Stable hash of the model's content (part of graph and result cache keys)."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    # ---- lookup (see model_lookup) -------------------------------------------------------

    def measure_names(self) -> list[str]:
        return model_lookup.measure_names(self.tables)

    def dimension_names(self) -> list[str]:
        """Short names; ``table.name`` also works and picks one table's dimension."""
        return model_lookup.dimension_names(self.tables)

    def table(self, name: str) -> Table:
        """The table called ``name``; an unknown name is an error that lists the tables."""
        return model_lookup.find_table(self.tables, name)

    def measure(self, name: str, home: str | None = None) -> MeasureRef:
        """Resolve a measure by short or ``table.measure`` name; a short name several tables
        define goes to table ``home`` when it is one of them (a ratio's own table)."""
        return model_lookup.find_measure(self.tables, name, home)

    def shares(self) -> list[str]:
        """The measures that are shares (model_checks.is_share), by the names they are asked
        by (``table.name`` where several tables define one)."""
        refs = {n: self.measure(n) for n in self.measure_names()}
        return [n for n, r in refs.items() if is_share(self.tables, r.table, r.measure.name)]

    def dimension_candidates(self, name: str) -> list[FieldRef]:
        """Every table's dimension that ``name`` could mean (qualified names give one)."""
        return model_lookup.dimension_candidates(self.tables, name)

    def dimension(
        self,
        name: str,
        base_tables: tuple[str, ...] = (),
        *,
        kind: type[UnknownNameError] = UnknownDimensionError,
    ) -> FieldRef:
        """Resolve a dimension. A short name that several tables define goes to the one among the
        query's base tables, else to the one every base table reaches without fan-out."""
        return model_lookup.find_dimension(self.tables, name, base_tables, kind=kind)

    # ---- joins (see join_paths) ----------------------------------------------------------

    def join_path(self, source: str, target: str) -> list[Edge] | None:
        """The join path with the fewest fan-out steps, then the fewest steps; None if none."""
        return join_paths.join_path(self.tables, source, target)


def load_model(path: Path | None = None) -> SemanticModel:
    """The model at ``path``, or the packaged ``saas`` model."""
    if path is not None:
        return SemanticModel.from_path(path)
    return default_model()


@cache
def default_model() -> SemanticModel:
    """The packaged ``saas`` model, read once (it is part of the code, not of a data
    directory)."""
    text = resources.files("chatter.semantic").joinpath("saas.yaml").read_text("utf-8")
    return SemanticModel.from_yaml_text(text, source="saas.yaml")
