"""Secrets are found by their value, wherever they sit in the parameters, and never by key name;
benign analyst vocabulary never trips the detector; redaction removes what scanning finds."""

from __future__ import annotations

import doctest
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

import chatter.sensitive
from chatter.sensitive import (
    MAX_SCAN,
    SecretMatch,
    describe,
    redact,
    redact_text,
    scan,
    structlog_redactor,
)

CORPUS = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "secret_corpus.yaml").read_text())
SECRETS: list[dict[str, str]] = CORPUS["secrets"]
BENIGN: list[str] = CORPUS["benign"]
GITHUB = "ghp_d2GhGluiEYDiS3rcIwXcQGJQyyZi4KsV9HZp"
AWS = "AKIAIOSFODNN7EXAMPLE"

secret_cases = pytest.mark.parametrize(
    "case", SECRETS, ids=[f"{i}-{c['kind']}" for i, c in enumerate(SECRETS)]
)
benign_cases = pytest.mark.parametrize("value", BENIGN, ids=[f"b{i}" for i in range(len(BENIGN))])


class Filter(BaseModel):
    field: str
    op: str
    value: Any


class Params(BaseModel):
    metric: str
    filters: list[Filter]


@dataclass
class Step:
    name: str
    params: dict[str, Any]


def secret_of(case: dict[str, str]) -> str:
    return case.get("secret", case["value"])


def test_the_corpus_is_big_enough_and_covers_every_kind() -> None:
    assert len(SECRETS) >= 40
    assert len(BENIGN) >= 80
    kinds = {c["kind"] for c in SECRETS}
    assert kinds == set(chatter.sensitive._LABELS)


@secret_cases
def test_a_secret_on_its_own_is_found_with_its_kind(case: dict[str, str]) -> None:
    assert scan(case["value"]) == [SecretMatch("", case["kind"], scan(case["value"])[0].preview)]


@secret_cases
def test_a_secret_under_an_innocent_key_is_found(case: dict[str, str]) -> None:
    found = scan({"segment": case["value"], "plan_type": "enterprise"})
    assert [(m.path, m.kind) for m in found] == [("segment", case["kind"])]


@secret_cases
def test_a_secret_deep_in_lists_of_dicts_is_found(case: dict[str, str]) -> None:
    params = {"customizations": {"steps": {"x": {"params": {"value": ["DE", case["value"], 3]}}}}}
    found = scan(params)
    assert [(m.path, m.kind) for m in found] == [
        ("customizations.steps.x.params.value[1]", case["kind"])
    ]


@secret_cases
def test_a_secret_inside_a_model_or_dataclass_is_found(case: dict[str, str]) -> None:
    model = Params(
        metric="conversion_rate",
        filters=[Filter(field="users.plan_type", op="in", value=["enterprise", case["value"]])],
    )
    assert [(m.path, m.kind) for m in scan(model)] == [("filters[0].value[1]", case["kind"])]
    step = Step(name="breakdown", params={"value": (case["value"],)})
    assert [(m.path, m.kind) for m in scan(step, path="steps[2]")] == [
        ("steps[2].params.value[0]", case["kind"])
    ]


@secret_cases
def test_a_secret_used_as_a_key_is_found_and_kept_out_of_the_path(case: dict[str, str]) -> None:
    found = scan({"filters": {case["value"]: "enterprise"}})
    assert [m.kind for m in found] == [case["kind"]]
    assert found[0].path.startswith("filters")
    assert secret_of(case) not in found[0].path


@secret_cases
def test_redaction_removes_the_secret_and_leaves_nothing_to_find(case: dict[str, str]) -> None:
    text = redact_text(case["value"])
    assert secret_of(case) not in text
    assert f"[REDACTED:{case['kind']}]" in text
    assert scan(text) == []
    nested = redact({"segment": [case["value"]], "plan_type": "enterprise"})
    assert secret_of(case) not in json.dumps(nested)
    assert nested["plan_type"] == "enterprise"


@secret_cases
def test_a_preview_shows_at_most_four_characters(case: dict[str, str]) -> None:
    for match in scan(case["value"]):
        assert match.preview.endswith("…")
        assert len(match.preview) <= 5
        assert secret_of(case) not in match.preview


@benign_cases
def test_benign_values_are_not_secrets(value: str) -> None:
    assert scan(value) == []
    assert redact(value) == value


@benign_cases
def test_key_names_do_not_matter(value: str) -> None:
    params = {"password": value, "api_key": [value], "secret": {"token": value}}
    assert scan(params) == []
    assert redact(params) == params


def test_a_key_called_password_with_a_plain_value_is_fine() -> None:
    assert scan({"password": "plan_type", "token": "enterprise", "secret": 42}) == []


def test_non_strings_are_ignored() -> None:
    assert scan([1, 2.5, True, None, b"AKIAIOSFODNN7EXAMPLE", {3: None}]) == []


def test_redact_keeps_container_types_and_non_strings() -> None:
    value = {
        "list": [GITHUB, "DE"],
        "tuple": (GITHUB, 7),
        "set": {AWS},
        "frozenset": frozenset({"enterprise"}),
        "number": 3.5,
        "none": None,
        "flag": True,
    }
    out = redact(value)
    assert out == {
        "list": ["[REDACTED:github_token]", "DE"],
        "tuple": ("[REDACTED:github_token]", 7),
        "set": {"[REDACTED:aws_access_key]"},
        "frozenset": frozenset({"enterprise"}),
        "number": 3.5,
        "none": None,
        "flag": True,
    }
    assert [type(out[k]) for k in value] == [type(v) for v in value.values()]
    assert value["list"] == [GITHUB, "DE"]  # a copy: the original is untouched


def test_redact_turns_models_into_their_json_dump() -> None:
    model = Params(metric="mrr", filters=[Filter(field="country", op="=", value=AWS)])
    assert redact(model) == {
        "metric": "mrr",
        "filters": [{"field": "country", "op": "=", "value": "[REDACTED:aws_access_key]"}],
    }


def test_redaction_keeps_the_text_around_a_secret() -> None:
    assert redact_text(f"filter on {GITHUB} please") == "filter on [REDACTED:github_token] please"
    assert redact_text("password=Tr0ub4dor&3") == "password=[REDACTED:password_assignment]"
    assert redact({GITHUB: 1}) == {"[REDACTED:github_token]": 1}


def test_describe_names_the_path_and_the_kind() -> None:
    reason = describe(scan({"filters": [{"value": GITHUB}]}))
    assert reason.startswith("parameter filters[0].value looks like a GitHub token (ghp_…); ")
    assert "never sent to the database, logs or an LLM" in reason
    assert GITHUB not in reason
    assert describe(scan(AWS)).startswith("the value looks like an AWS access key id (AKIA…)")
    assert describe([]) == ""


def test_describe_lists_three_matches_and_counts_the_rest() -> None:
    reason = describe(scan({f"p{i}": GITHUB for i in range(5)}))
    assert "parameter p0 " in reason and "parameter p2 " in reason
    assert "parameter p3" not in reason
    assert "+2 more;" in reason


def test_the_structlog_processor_redacts_nested_values() -> None:
    event = {
        "event": "tool call",
        "timestamp": "2025-01-01T12:30:00.123456Z",
        "params": {"filters": [{"field": "segment", "value": GITHUB}], "limit": 10},
        "note": f"connect to postgres://ana:hunter22@db/x as {AWS}",
    }
    out = structlog_redactor(None, "info", event)
    rendered = structlog.processors.JSONRenderer()(None, "info", out)
    assert isinstance(rendered, str)
    for secret in (GITHUB, AWS, "hunter22"):
        assert secret not in rendered
    assert out["params"]["filters"][0] == {"field": "segment", "value": "[REDACTED:github_token]"}
    assert out["params"]["limit"] == 10
    assert out["timestamp"] == event["timestamp"]
    assert event["params"]["filters"][0]["value"] == GITHUB  # the caller's dict is not changed


def test_a_secret_in_a_megabyte_string_is_found() -> None:
    text = "conversion rate by plan " * 3_000
    text = text[:50_000] + f" {GITHUB} " + "x" * 1_000_000
    found = scan({"question": text})
    assert [(m.path, m.kind) for m in found] == [("question", "github_token")]


def test_only_the_first_100000_characters_are_scanned_and_kept() -> None:
    text = "a" * (MAX_SCAN + 50) + f" {GITHUB}"
    assert scan(text) == []
    redacted = redact_text(text)
    assert GITHUB not in redacted
    assert redacted.startswith("a" * MAX_SCAN) and "[TRUNCATED:" in redacted


def test_cycles_end() -> None:
    loop: list[Any] = [GITHUB]
    loop.append(loop)
    assert [m.kind for m in scan(loop)] == ["github_token"]
    assert redact(loop) == ["[REDACTED:github_token]", "[CYCLE]"]


def test_scanning_is_deterministic() -> None:
    value = {"tags": {GITHUB, AWS, "enterprise"}, "q": [GITHUB]}
    assert scan(value) == scan(value)
    assert [m.path for m in scan(value)] == ["tags[0]", "tags[2]", "q[0]"]  # sorted by repr


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", max_size=20))
def test_short_identifier_like_strings_are_never_secrets(value: str) -> None:
    assert scan(value) == []
    assert scan({value: [value]}) == []


def test_docstring_examples() -> None:
    assert doctest.testmod(chatter.sensitive).failed == 0
