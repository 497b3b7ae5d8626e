"""Loading semantic models: the packaged one, and users' own with every kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatter.errors import AmbiguousNameError, SemanticModelError, UnknownMeasureError
from chatter.semantic.model import SemanticModel, default_model, load_model

MINIMAL = """
name: shop
tables:
  orders:
    primary_key: order_id
    joins:
      customers: {on: {customer_id: id}}
    dimensions:
      status: {}
      placed_at: {type: timestamp}
    measures:
      orders: {agg: count}
      revenue: {agg: sum, column: amount}
      paid_orders: {agg: count, filters: [{field: status, op: "=", value: paid}]}
      paid_share: {agg: ratio, numerator: paid_orders, denominator: orders}
  customers:
    primary_key: id
    dimensions:
      segment: {}
"""


def test_packaged_model_has_the_contract_names() -> None:
    model = default_model()
    assert set(model.tables) == {"users", "events", "revenue"}
    for name in ("conversion_rate", "churn_rate", "mrr", "arpu", "users", "events"):
        model.measure(name)
    for name in (
        "plan_type",
        "industry",
        "acquisition_channel",
        "company_size",
        "country",
        "signup_date",
        "event_type",
        "month",
    ):
        assert model.dimension_candidates(name)


def test_every_name_has_a_description_and_synonyms_for_the_router() -> None:
    model = default_model()
    for table in model.tables.values():
        assert table.description
        for item in (*table.dimensions.values(), *table.measures.values()):
            assert item.description, item.name
            if item.name not in ("user_id", "event_ts", "churn_date", "month"):
                assert item.synonyms, item.name


def test_user_model_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(MINIMAL)
    model = load_model(path)
    assert model.measure("paid_share").measure.agg == "ratio"
    # YAML 1.1 reads `on:` as True; the loader must still see the join.
    assert model.tables["orders"].joins[0].on == {"customer_id": "id"}
    assert model.join_path("orders", "customers") is not None


def test_content_hash_is_stable_and_content_sensitive() -> None:
    a = SemanticModel.from_yaml_text(MINIMAL)
    b = SemanticModel.from_yaml_text(MINIMAL)
    c = SemanticModel.from_yaml_text(
        MINIMAL.replace("segment: {}", "segment: {type: string}\n      tier: {}")
    )
    assert a.content_hash == b.content_hash != c.content_hash


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\ntables: [1, 2]", "tables"),
        ("not: [valid", "not valid YAML"),
        ("- just\n- a list", "mapping"),
        (
            MINIMAL.replace("customers: {on: {customer_id: id}}", "nowhere: {on: {a: b}}"),
            "unknown table 'nowhere'",
        ),
        (MINIMAL.replace("field: status", "field: colour"), "unknown dimension 'colour'"),
        (MINIMAL.replace('op: "="', 'op: "~~"'), "unknown operator"),
        (MINIMAL.replace("denominator: orders", "denominator: nope"), "unknown measure 'nope'"),
        (MINIMAL.replace("{agg: sum, column: amount}", "{agg: sum}"), "needs a column"),
        (MINIMAL.replace("{agg: count}", "{agg: median}"), "agg"),
        (MINIMAL.replace("status: {}", "status: {type: colour}"), "type"),
        (MINIMAL.replace("primary_key: order_id", 'primary_key: "x; drop"'), "primary_key"),
        (MINIMAL.replace("denominator: orders", "denominator: paid_share"), "cycle"),
        (
            # A share whose numerator is not a subset of its denominator's rows.
            MINIMAL.replace(
                "paid_share: {agg: ratio, numerator: paid_orders, denominator: orders}",
                "paid_share: {agg: ratio, numerator: orders, denominator: paid_orders}",
            ),
            "the share orders / paid_orders needs its numerator to count a subset of its "
            "denominator's rows (orders lacks paid_orders's filter status = 'paid')",
        ),
    ],
)
def test_broken_models_are_rejected_with_the_bad_item_named(text: str, needle: str) -> None:
    with pytest.raises(SemanticModelError) as info:
        SemanticModel.from_yaml_text(text, source="bad.yaml")
    assert needle in info.value.message
    assert info.value.exit_code == 2


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SemanticModelError, match="does not exist"):
        load_model(tmp_path / "nope.yaml")


def test_unknown_measure_suggests_the_close_one() -> None:
    with pytest.raises(UnknownMeasureError) as info:
        default_model().measure("conversion_rte")
    assert info.value.suggestions == ["conversion_rate"]
    assert "conversion_rate" in info.value.message


def test_duplicate_measure_names_across_tables_must_be_qualified() -> None:
    text = MINIMAL.replace(
        "      segment: {}", "      segment: {}\n    measures:\n      orders: {agg: count}"
    )
    model = SemanticModel.from_yaml_text(text)
    with pytest.raises(AmbiguousNameError, match=r"customers\.orders"):
        model.measure("orders")
    assert model.measure("customers.orders").table == "customers"


def test_a_share_of_a_subset_loads_and_the_saas_churn_counts_converted_accounts() -> None:
    # The twin of the rejected share: numerator filters include the denominator's.
    refunded = MINIMAL.replace(
        "paid_share: {agg: ratio, numerator: paid_orders, denominator: orders}",
        "refunded_paid: {agg: count, filters: [{field: status, op: '=', value: paid}, "
        "{field: placed_at, op: is_not_null}]}\n"
        "      refund_share: {agg: ratio, numerator: refunded_paid, denominator: paid_orders}",
    )
    assert SemanticModel.from_yaml_text(refunded, source="ok.yaml").measure("refund_share")
    churned = default_model().measure("churned_users").measure
    assert {(f.field, f.value) for f in churned.filters} == {("converted", True), ("churned", True)}
