"""The semantic layer: a YAML model of tables, dimensions and measures, compiled to DuckDB SQL."""

from chatter.semantic.model import SemanticModel, default_model, load_model
from chatter.semantic.query import Filter, OrderBy, SemanticQuery

__all__ = ["Filter", "OrderBy", "SemanticModel", "SemanticQuery", "default_model", "load_model"]
