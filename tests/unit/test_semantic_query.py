"""Validating SemanticQuery against the model: names, operators, value types, shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from chatter.errors import (
    AmbiguousNameError,
    BadInputError,
    InvalidQueryError,
    InvalidValueError,
    UnknownDimensionError,
    UnknownFieldError,
    UnknownMeasureError,
    UnknownOperatorError,
    UnknownTimeGrainError,
)
from chatter.semantic.model import default_model
from chatter.semantic.query import SemanticQuery, resolve


def resolved(**query: Any):
    return resolve(SemanticQuery.parse(query), default_model())


def test_a_valid_query_resolves_names_and_types() -> None:
    r = resolved(
        measures=["conversion_rate"],
        dimensions=["industry", "signup_date__month"],
        filters=[
            {"field": "signup_date", "op": ">=", "value": "2024-01-01"},
            {"field": "plan_type", "op": "in", "value": "starter, growth"},
            {"field": "converted", "op": "eq", "value": "true"},
        ],
        order_by=[{"field": "conversion_rate", "descending": True}],
        limit=5,
    )
    assert r.base_tables == ("users",)
    assert [d.alias for d in r.dimensions] == ["industry", "signup_date__month"]
    assert r.filters[0].values == (dt.date(2024, 1, 1),)
    assert r.filters[1].values == ("starter", "growth")
    assert r.filters[2].values == (True,)
    assert r.order_by == (("conversion_rate", True),)


def test_time_grain_applies_to_date_dimensions_only() -> None:
    r = resolved(measures=["mrr"], dimensions=["month", "plan_type"], time_grain="quarter")
    assert [(d.alias, d.grain) for d in r.dimensions] == [
        ("month__quarter", "quarter"),
        ("plan_type", None),
    ]


def test_short_names_resolve_to_the_measure_table_first() -> None:
    assert resolved(measures=["mrr"], dimensions=["plan_type"]).dimensions[0].ref.table == "revenue"
    assert resolved(measures=["users"], dimensions=["plan_type"]).dimensions[0].ref.table == "users"
    # No measure: the dimension table that the other candidate looks up.
    assert resolved(dimensions=["plan_type"]).dimensions[0].ref.table == "users"
    assert (
        resolved(measures=["mrr"], dimensions=["users.plan_type"]).dimensions[0].ref.table
        == "users"
    )


def test_a_name_two_base_tables_define_must_be_qualified() -> None:
    with pytest.raises(AmbiguousNameError) as info:
        resolved(measures=["mrr", "users"], dimensions=["plan_type"])
    assert "revenue.plan_type" in info.value.message and "users.plan_type" in info.value.message


@pytest.mark.parametrize(
    ("query", "error", "named"),
    [
        ({"measures": ["conversion_rte"]}, UnknownMeasureError, "conversion_rate"),
        ({"measures": ["users"], "dimensions": ["industy"]}, UnknownDimensionError, "industry"),
        (
            {"measures": ["users"], "filters": [{"field": "plan", "value": "x"}]},
            UnknownFieldError,
            "plan_type",
        ),
        (
            {"measures": ["users"], "filters": [{"field": "industry", "op": "like", "value": "x"}]},
            UnknownOperatorError,
            "like",
        ),
        ({"measures": ["users"], "time_grain": "fortnight"}, UnknownTimeGrainError, "month"),
        ({"measures": ["users"], "order_by": [{"field": "mrr"}]}, UnknownFieldError, "users"),
        ({}, InvalidQueryError, "conversion_rate"),
        ({"measures": ["users"], "limit": 0}, InvalidValueError, "limit"),
        ({"measures": ["users"], "limit": "ten"}, InvalidValueError, "limit"),
        ({"measures": "users"}, InvalidValueError, "measures"),
        ({"measures": ["users"], "colour": "red"}, InvalidValueError, "colour"),
        ({"measures": ["users"], "dimensions": ["industry__month"]}, InvalidValueError, "industry"),
    ],
)
def test_bad_queries_name_the_bad_item(query: dict[str, Any], error: type, named: str) -> None:
    with pytest.raises(error) as info:
        resolved(**query)
    assert named in info.value.message
    assert isinstance(info.value, BadInputError)


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("signup_date", ">=", "last tuesday", "YYYY-MM-DD"),
        ("signup_date", "=", 20240101.5, "YYYY-MM-DD"),
        ("converted", "=", "maybe", "true or false"),
        ("converted", "<", "true", "= or !="),
        ("user_id", "=", "abc", "number"),
        ("user_id", "=", True, "number"),
        ("user_id", ">", float("nan"), "finite"),
        ("user_id", "=", 10**30, "64-bit"),
        ("industry", "=", None, "is_null"),
        ("industry", "=", ["a", "b"], "one string"),
        ("industry", "in", [], "list of 1"),
        ("industry", "between", ["a"], "two values"),
        ("converted", "between", [True, False], "comparable"),
        ("user_id", "contains", "1", "string field"),
        ("industry", "is_null", "x", "no value"),
        ("industry", "=", "a\x00b", "NUL"),
        ("event_ts", ">=", "2024-13-01", "timestamp"),
    ],
)
def test_values_of_the_wrong_type_are_rejected(
    field: str, op: str, value: Any, expected: str
) -> None:
    with pytest.raises(InvalidValueError) as info:
        resolved(measures=["users"], filters=[{"field": field, "op": op, "value": value}])
    assert expected in info.value.message
    assert field in info.value.message


def test_timestamps_with_a_zone_become_utc_wall_time() -> None:
    r = resolved(
        measures=["events"],
        filters=[{"field": "event_ts", "op": ">=", "value": "2024-01-01T02:00:00+02:00"}],
    )
    assert r.filters[0].values == (dt.datetime(2024, 1, 1, 0, 0),)


def test_scope_filters_are_always_applied_first() -> None:
    from chatter.semantic.query import Filter

    r = resolve(
        SemanticQuery.parse({"measures": ["users"]}),
        default_model(),
        scope=(Filter(field="country", op="=", value="DE"),),
    )
    assert r.filters[0].ref.dimension.name == "country"
