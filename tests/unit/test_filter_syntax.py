"""The text form of filters used on the command line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatter.errors import InvalidValueError
from chatter.semantic.filter_syntax import parse_filter_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("industry=fintech", {"field": "industry", "op": "=", "value": "fintech"}),
        ("industry = fintech", {"field": "industry", "op": "=", "value": "fintech"}),
        ("signup_date>=2024-01-01", {"field": "signup_date", "op": ">=", "value": "2024-01-01"}),
        ("industry != fintech", {"field": "industry", "op": "!=", "value": "fintech"}),
        (
            "plan_type in starter, growth",
            {"field": "plan_type", "op": "in", "value": ["starter", "growth"]},
        ),
        ("plan_type not_in starter", {"field": "plan_type", "op": "not_in", "value": ["starter"]}),
        (
            "signup_date between 2024-01-01,2024-06-30",
            {"field": "signup_date", "op": "between", "value": ["2024-01-01", "2024-06-30"]},
        ),
        ("churn_date is_null", {"field": "churn_date", "op": "is_null", "value": None}),
        ("churn_date is not null", {"field": "churn_date", "op": "is not null", "value": None}),
        ("industry contains tech", {"field": "industry", "op": "contains", "value": "tech"}),
        ("users.country=DE", {"field": "users.country", "op": "=", "value": "DE"}),
        (
            '{"field": "country", "op": "in", "value": ["DE"]}',
            {"field": "country", "op": "in", "value": ["DE"]},
        ),
        ("industry=a=b", {"field": "industry", "op": "=", "value": "a=b"}),
    ],
)
def test_filters_parse(text: str, expected: dict[str, object]) -> None:
    assert parse_filter_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "industry",
        "industry ~ x",
        "=x",
        "industry=",
        "{bad json",
        '["a"]',
        "churn_date is_null yes",
        "",
    ],
)
def test_malformed_filters_are_rejected(text: str) -> None:
    with pytest.raises(InvalidValueError, match="--filter"):
        parse_filter_text(text)


@given(st.text(max_size=200))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        parsed = parse_filter_text(text)
    except InvalidValueError:
        return
    assert isinstance(parsed, dict) and "field" in parsed
