"""Reading a semantic model's YAML: the file, the mapping, and the names the YAML leaves implicit.

Every problem becomes one ``SemanticModelError`` that says where it is (file and key path).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from chatter.errors import SemanticModelError

M = TypeVar("M")


def read_model_file(path: Path) -> str:
    """The text of the model file at ``path`` (already expanded)."""
    if not path.is_file():
        raise SemanticModelError(f"Semantic model file {path} does not exist.")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SemanticModelError(f"Cannot read semantic model {path}: {err}") from None


def parse_model_yaml(text: str, source: str, validate: Callable[[dict[str, Any]], M]) -> M:
    """The YAML ``text`` (from ``source``), normalized and passed through ``validate``."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SemanticModelError(f"{source} is not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise SemanticModelError(f"{source} must hold a mapping with 'name' and 'tables'.")
    try:
        return validate(normalize(raw))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SemanticModelError(
            f"{source}: {where}: {first['msg']} ({err.error_count()} problem(s))"
        ) from None
    except (TypeError, AttributeError) as err:
        raise SemanticModelError(f"{source}: malformed model: {err}") from None


def normalize(raw: dict[str, Any]) -> dict[str, Any]:
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
