"""Routing rules: the first rule whose condition holds for a context decides what runs, and an
explicit default covers every other context. Rule sets load from YAML or JSON and are checked up
front, with errors that name the rule and the bad part.

>>> rules = RuleSet.from_yaml_text('''
... rules:
...   - name: premium_deep_dive
...     when: user_tier in [premium, enterprise] and query_complexity between 0.7 and 1.0
...     then: {template: conversion_deep_dive}
... default: {template: quick_answer}
... ''')
>>> rules.choose({"user_tier": "enterprise", "query_complexity": 0.9})
('premium_deep_dive', {'template': 'conversion_deep_dive'})
>>> rules.choose({"user_tier": "free", "query_complexity": 0.9})
('default', {'template': 'quick_answer'})
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chatter.errors import ConditionError
from chatter.rules.conditions import Condition

DEFAULT = "default"


class Rule(BaseModel):
    """When ``when`` holds, route with ``then`` (opaque here; the router checks it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=100)
    when: Condition
    then: dict[str, Any] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _not_default(cls, name: str) -> str:
        if name == DEFAULT:
            raise ValueError(f"{DEFAULT!r} names the rule set's default; pick another name")
        return name


class RuleSet(BaseModel):
    """Rules tried in order, and the payload used when none matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[Rule, ...]
    default: dict[str, Any] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> RuleSet:
        names = [r.name for r in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(duplicates)}")
        return self

    def choose(self, context: object) -> tuple[str, dict[str, Any]]:
        """(name, then) of the first rule that matches ``context``, else ("default", default).
        The payload is a copy, so callers may change it."""
        for rule in self.rules:
            if rule.when.evaluate(context):
                return rule.name, copy.deepcopy(rule.then)
        return DEFAULT, copy.deepcopy(self.default)

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: object, source: str = "<rules>") -> RuleSet:
        """A rule set from parsed YAML or JSON; ConditionError names the rule and the bad part."""
        if not isinstance(data, Mapping):
            raise ConditionError(
                f"{source} must hold a mapping with 'rules' and 'default', "
                f"not {type(data).__name__}."
            )
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise _loading_error(err, data, source) from None

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "<string>") -> RuleSet:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConditionError(f"{source} is not valid YAML: {err}") from None
        return cls.from_data(data, source)

    @classmethod
    def from_json_text(cls, text: str, source: str = "<string>") -> RuleSet:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConditionError(f"{source} is not valid JSON: {err}") from None
        return cls.from_data(data, source)

    @classmethod
    def from_path(cls, path: str | Path) -> RuleSet:
        """A rule set from a ``.json`` file, or YAML for any other suffix."""
        path = Path(path).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ConditionError(f"Cannot read rules file {path}: {err}") from None
        if path.suffix.lower() == ".json":
            return cls.from_json_text(text, str(path))
        return cls.from_yaml_text(text, str(path))


def _loading_error(err: ValidationError, data: Mapping[Any, Any], source: str) -> ConditionError:
    """The first problem, named by rule (``rule 'premium' (rules[2])``) and part (``when``)."""
    first = err.errors()[0]
    loc = list(first["loc"])
    where = ".".join(str(p) for p in loc)
    column = None
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        where = _rule_label(data, loc[1]) + "".join(f" {p}" for p in loc[2:])
    if first["type"] == "invalid_condition":
        column = first.get("ctx", {}).get("column")
    more = f" ({err.error_count()} problems in all)" if err.error_count() > 1 else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    return ConditionError(
        f"{source}: {where + ': ' if where else ''}{message}{more}", column=column
    )


def _rule_label(data: Mapping[Any, Any], index: int) -> str:
    rules = data.get("rules")
    rule = rules[index] if isinstance(rules, list | tuple) and index < len(rules) else None
    name = rule.get("name") if isinstance(rule, Mapping) else None
    return f"rule {name!r} (rules[{index}])" if isinstance(name, str) else f"rules[{index}]"
