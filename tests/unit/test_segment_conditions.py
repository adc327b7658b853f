"""Parsing segment conditions: the tree a valid body makes, and the 422 field paths of bad ones."""

from __future__ import annotations

from typing import Any

import pytest

from trigly.events.types import Channel, ConsentPurpose
from trigly.platform.errors import ValidationFailed
from trigly.segments.conditions import (
    FIELDS,
    All,
    CarBlock,
    Leaf,
    Not,
    Op,
    parse_conditions,
    to_json,
)


def errors_of(obj: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_conditions(obj)
    assert caught.value.status == 422
    return {e.field: e.message for e in caught.value.errors}


def test_a_valid_tree_parses_and_prints_back() -> None:
    body = {
        "all": [
            {"field": "customer.city", "op": "eq", "value": "Москва"},
            {
                "car": {
                    "all": [
                        {"field": "car.make", "op": "in", "value": ["Kia", "Hyundai"]},
                        {"field": "car.age_years", "op": "between", "value": [3, 5]},
                        {"not": {"field": "car.condition", "op": "eq", "value": "new"}},
                    ]
                }
            },
            {
                "any": [
                    {"field": "visits.last_days_ago", "op": "gt", "value": 365},
                    {"field": "visits.count", "op": "eq", "value": 0},
                ]
            },
            {"field": "consent.sms.marketing", "op": "eq", "value": True},
            {"field": "readiness.score", "op": "exists", "value": False},
        ]
    }
    condition = parse_conditions(body)
    assert isinstance(condition, All)
    assert isinstance(condition.conditions[1], CarBlock)
    assert to_json(condition) == body


def test_the_catalogue_has_every_contract_field() -> None:
    consent = {f"consent.{c.value}.{p.value}" for c in Channel for p in ConsentPurpose}
    contract = {
        "customer.region", "customer.city", "customer.location_id", "customer.preferred_channel",
        "customer.age_years", "car.make", "car.model", "car.year", "car.condition",
        "car.age_years", "car.mileage_km", "car.maintenance_due_in_days",
        "car.financing_ends_in_days", "car.insurance_ends_in_days", "car.warranty_ends_in_days",
        "visits.count", "visits.last_days_ago", "visits.total_amount", "purchases.count",
        "purchases.last_days_ago", "spend.total", "status", "rfm.r", "rfm.f", "rfm.m",
        "messages.last_clicked_days_ago", "web.last_visit_days_ago", "web.viewed_model",
        "readiness.score", "loyalty.balance", "loyalty.tier",
    }  # fmt: skip
    assert set(FIELDS) == contract | consent


def test_the_sql_module_knows_every_field() -> None:
    from trigly.analytics.sql import EXPRESSIONS

    assert set(EXPRESSIONS) | {"web.viewed_model"} == set(FIELDS)


def test_a_bare_car_leaf_is_allowed_outside_a_block() -> None:
    leaf = parse_conditions({"not": {"field": "car.make", "op": "eq", "value": "Kia"}})
    assert isinstance(leaf, Not) and isinstance(leaf.condition, Leaf)
    assert leaf.condition.op is Op.EQ


def leaf(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


V = "conditions.value"
BAD = [
    (leaf("customer.shoe_size", "eq", 1), "conditions.field", "unknown field: customer.shoe_size"),
    (leaf("customer.city", "like", "M%"), "conditions.op", "unknown op: like"),
    (leaf("customer.city", "gt", "M"), "conditions.op", "customer.city does not take gt"),
    (leaf("consent.fax.marketing", "eq", True), "conditions.field", "unknown field"),
    (leaf("visits.count", "eq", "3"), V, "must be a number"),
    (leaf("visits.count", "eq", True), V, "must be a number"),
    (leaf("visits.count", "gt", 1e300), V, "must be a number"),
    (leaf("consent.sms.marketing", "eq", 1), V, "must be true or false"),
    (leaf("status", "eq", "sleeping"), V, "must be one of: active, dormant, lost"),
    (leaf("car.make", "in", []), V, "must be a non-empty list"),
    (leaf("car.make", "in", "Kia"), V, "must be a non-empty list"),
    (leaf("car.make", "in", ["Kia", 5]), f"{V}.1", "must be a string"),
    (leaf("car.year", "between", [2020]), V, "between takes [lo, hi]"),
    (leaf("car.year", "between", [2020, 2010]), V, "lo is greater than hi"),
    (leaf("car.year", "between", [2010, "x"]), f"{V}.1", "must be a number"),
    (leaf("car.make", "exists", "yes"), V, "exists takes true or false"),
    (leaf("customer.city", "eq", ""), V, "1–200 characters"),
    ({"field": "car.make", "op": "eq"}, V, "required"),
    ({**leaf("car.make", "eq", "Kia"), "extra": 1}, "conditions.extra", "unknown key"),
    ({"any": []}, "conditions.any", "needs at least one condition"),
    ({"all": {"field": "x"}}, "conditions.all", "must be a list of conditions"),
    ({"all": [], "any": []}, "conditions", "exactly one key"),
    ([1, 2], "conditions", "must be an object"),
    ({"not": "x"}, "conditions.not", "must be an object"),
]


@pytest.mark.parametrize(("body", "field", "message"), BAD)
def test_bad_conditions_name_their_field(body: Any, field: str, message: str) -> None:
    errors = errors_of(body)
    assert field in errors, errors
    assert message in errors[field]


def test_a_car_block_with_a_customer_field_is_refused_at_the_leaf() -> None:
    body = {
        "all": [
            {"field": "customer.city", "op": "eq", "value": "Kazan"},
            {"car": {"any": [
                {"field": "car.make", "op": "eq", "value": "Kia"},
                {"field": "visits.count", "op": "gt", "value": 2},
            ]}},
        ]
    }  # fmt: skip
    errors = errors_of(body)
    assert errors == {
        "conditions.all.1.car.any.1.field": (
            "visits.count is not a car field: a car block holds only car.* fields"
        )
    }


def test_a_car_block_cannot_nest_and_every_fault_is_listed() -> None:
    body = {
        "all": [
            {"car": {"car": {"field": "car.make", "op": "eq", "value": "Kia"}}},
            {"field": "nope", "op": "eq", "value": 1},
            {"field": "status", "op": "between", "value": [1, 2]},
        ]
    }
    errors = errors_of(body)
    assert set(errors) == {
        "conditions.all.0.car.car",
        "conditions.all.1.field",
        "conditions.all.2.op",
    }


def test_web_viewed_model_is_not_a_car_field() -> None:
    errors = errors_of({"car": {"field": "web.viewed_model", "op": "eq", "value": "Rio"}})
    assert "conditions.car.field" in errors


def test_depth_and_size_are_bounded() -> None:
    deep: Any = {"field": "visits.count", "op": "eq", "value": 1}
    for _ in range(20):
        deep = {"not": deep}
    assert any("nested deeper" in m for m in errors_of(deep).values())
    wide = {"all": [{"field": "visits.count", "op": "eq", "value": i} for i in range(101)]}
    assert any("more than 100" in m for m in errors_of(wide).values())


def test_the_path_prefix_follows_the_body() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_conditions({"field": "x", "op": "eq", "value": 1}, path="segment.conditions")
    assert [e.field for e in caught.value.errors] == ["segment.conditions.field"]
