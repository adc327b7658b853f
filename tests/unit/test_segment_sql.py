"""The segment SQL on DuckDB against the same conditions evaluated in Python (segment_reference).

Given synthetic view rows (ties, NULLs, boundary dates, leap-day birthdays, erased customers,
cars sold on), when a condition is compiled and run, then its members are exactly those the
reference finds; every field with every op it takes, and random trees (hypothesis).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.segment_reference import Tenant
from tests.unit.segment_rows import car_row, customer_row, population, view_from_rows
from trigly.analytics import sql
from trigly.platform import clock
from trigly.segments.conditions import (
    FIELDS,
    All,
    AnyOf,
    CarBlock,
    Condition,
    Field,
    Kind,
    Leaf,
    Not,
    Op,
    Scalar,
    Scope,
    parse_conditions,
)

MOSCOW = ZoneInfo("Europe/Moscow")


def business_today() -> date:
    return clock.now().astimezone(MOSCOW).date()


TODAY = business_today()
ROWS = population(seed=11, customers=160, today=TODAY)
TENANT = Tenant(ROWS, TODAY)


@pytest.fixture(scope="module")
def view() -> duckdb.DuckDBPyConnection:
    return view_from_rows(ROWS)


def members(conn: duckdb.DuckDBPyConnection, condition: Condition, today: date) -> set[str]:
    return set(sql.members_page(conn, condition, today, None, 10_000))


def observed(field: Field, tenant: Tenant) -> list[Any]:
    """The values a field takes in the tenant (computed by the reference), for leaf values."""
    if field.scope is Scope.CAR:
        values = [tenant.car_value(field.name, c) for cs in tenant.cars.values() for c in cs]
    elif field.name == "web.viewed_model":
        values = [v["model"] for vs in tenant.views.values() for v in vs]
        values += [f"{v['make']} {v['model']}" for vs in tenant.views.values() for v in vs]
    else:
        values = [tenant.value(field.name, c) for c in tenant.customers]
    return sorted({v for v in values if v is not None}, key=repr)


def candidates(field: Field, tenant: Tenant) -> list[Scalar]:
    seen = observed(field, tenant)
    match field.kind:
        case Kind.BOOLEAN:
            return [True, False]
        case Kind.CHOICE:
            return list(field.choices)
        case Kind.TEXT:
            picked = seen[:: max(1, len(seen) // 3)][:3]
            return [*picked, *(v.upper() for v in picked[:1]), "nobody has this"]
        case Kind.NUMBER:
            picked = seen[:: max(1, len(seen) // 4)][:4]
            return [*picked, *(v + 1 for v in picked[:2])]


def leaves_for(field: Field, op: Op, tenant: Tenant) -> list[Leaf]:
    values = candidates(field, tenant)
    if op is Op.EXISTS:
        return [Leaf(field, op, True), Leaf(field, op, False)]
    if op in (Op.IN, Op.NOT_IN):
        return [Leaf(field, op, tuple(values[i : i + 2])) for i in range(0, len(values), 2)]
    if op is Op.BETWEEN:
        pairs = itertools.pairwise(values)
        return [Leaf(field, op, (min(a, b), max(a, b))) for a, b in pairs]  # type: ignore[type-var]
    return [Leaf(field, op, v) for v in values]


CASES = [(f, op) for f in FIELDS.values() for op in Op if op in f.ops]


@pytest.mark.parametrize(("field", "op"), CASES, ids=[f"{f.name}-{op}" for f, op in CASES])
def test_every_field_and_op_matches_the_reference(
    view: duckdb.DuckDBPyConnection, field: Field, op: Op
) -> None:
    for leaf in leaves_for(field, op, TENANT):
        for condition in (leaf, Not(leaf)):
            assert members(view, condition, TODAY) == TENANT.members(condition), condition


@pytest.mark.parametrize("field", list(FIELDS.values()), ids=list(FIELDS))
def test_every_field_separates_customers(view: duckdb.DuckDBPyConnection, field: Field) -> None:
    # Given the population, when every leaf of the field runs, then some leaf keeps some customers
    # out and some lets some in: the per-op test above compares something, not empty sets.
    everyone = TENANT.members(All(()))
    results = [
        members(view, leaf, TODAY) for op in field.ops for leaf in leaves_for(field, op, TENANT)
    ]
    assert any(r for r in results)
    assert any(r != everyone for r in results)


def test_a_car_block_holds_for_one_and_the_same_car() -> None:
    # Given a customer with an old Kia and a new Hyundai, and a second car sold on
    today = business_today()
    rows = population(seed=1, customers=0, today=today)
    rows["customers"] = [{"customer_id": "cus_1", "version": "1", "erased": False}]
    old_kia = {"make": "KIA", "year": today.year - 12, "current": True}
    new_hyundai = {"make": "Hyundai", "year": today.year, "current": True}
    sold_kia = {"make": "Kia", "year": today.year, "current": False}
    rows["cars"] = [
        {"customer_id": "cus_1", "version": "1", **c} for c in (old_kia, new_hyundai, sold_kia)
    ]
    conn = view_from_rows(rows)
    kia = {"field": "car.make", "op": "eq", "value": "kia"}
    recent = {"field": "car.year", "op": "gte", "value": today.year - 1}
    # When the two leaves are one car block, then no current car is both: not a member
    assert members(conn, parse_conditions({"car": {"all": [kia, recent]}}), today) == set()
    # When they are bare leaves, each holds for some current car: a member
    assert members(conn, parse_conditions({"all": [kia, recent]}), today) == {"cus_1"}
    # And `not` of a block means no current car matches it
    no_new_kia = {"not": {"car": {"all": [kia, recent]}}}
    assert members(conn, parse_conditions(no_new_kia), today) == {"cus_1"}


def test_erased_customers_are_never_members() -> None:
    today = business_today()
    rows: dict[str, list[dict[str, Any]]] = {
        "customers": [
            {"customer_id": "cus_erased", "version": "2", "erased": True},
            {"customer_id": "cus_live", "version": "1", "erased": False},
        ]
    }
    conn = view_from_rows(rows)
    for obj in ({"all": []}, {"not": {"field": "customer.city", "op": "eq", "value": "x"}}):
        assert members(conn, parse_conditions(obj), today) == {"cus_live"}
    assert (
        sql.count_members(
            conn, parse_conditions({"field": "rfm.r", "op": "gte", "value": 1}), today
        )
        == 1
    )


def test_quoted_values_are_data_not_sql() -> None:
    # Given a city and an id with quotes and SQL in them
    today = business_today()
    city = "O'Brien'); DROP TABLE customers; --"
    rows = {
        "customers": [
            {"customer_id": "cus_'1", "version": "1", "city": city},
            {"customer_id": "cus_2", "version": "1", "city": "O"},
        ]
    }
    conn = view_from_rows(rows)
    condition = parse_conditions({"field": "customer.city", "op": "in", "value": [city, "x'"]})
    # When they are matched, then exactly the customer with that city is found, tables intact
    assert sql.members_among(conn, condition, today, ["cus_'1", "cus_2", "') OR TRUE --"]) == {
        "cus_'1"
    }
    assert sql.members_page(conn, condition, today, "cus_'9' OR '1'='1", 10) == []
    assert sql.count_members(conn, parse_conditions({"all": []}), today) == 2


def test_preview_pages_and_membership_agree(view: duckdb.DuckDBPyConnection) -> None:
    condition = parse_conditions(
        {
            "any": [
                {"field": "visits.count", "op": "gte", "value": 1},
                {"field": "car.make", "op": "exists", "value": True},
            ]
        }
    )
    expected = sorted(TENANT.members(condition))
    assert len(expected) > 45
    # Preview: the count and the first 20 ids
    preview = sql.preview(view, condition, TODAY)
    assert preview.count == len(expected)
    assert preview.sample == expected[: sql.PREVIEW_SAMPLE]
    assert sql.count_members(view, condition, TODAY) == len(expected)
    # Pages of 7 after a cursor walk every member once, in id order
    walked: list[str] = []
    after = None
    while page := sql.members_page(view, condition, TODAY, after, 7):
        walked += page
        after = page[-1]
    assert walked == expected
    # Membership of a list: the members among them
    asked = [c["customer_id"] for c in ROWS["customers"][::3]] + ["cus_unknown"]
    assert sql.members_among(view, condition, TODAY, asked) == set(asked) & set(expected)
    assert sql.members_among(view, condition, TODAY, []) == set()


def test_a_preview_of_nobody() -> None:
    conn = view_from_rows({"customers": []})
    preview = sql.preview(conn, parse_conditions({"all": []}), business_today())
    assert (preview.count, preview.sample) == (0, [])


def test_rfm_quintiles_share_scores_on_ties() -> None:
    # Given ten customers, spends 0,0,0,0,100,200,300,300,400,500 (ties at 0 and 300)
    today = business_today()
    spends = [0, 0, 0, 0, 100, 200, 300, 300, 400, 500]
    rows = {
        "customers": [
            {"customer_id": f"cus_{i}", "version": "1", "spend_total": float(s)}
            for i, s in enumerate(spends)
        ]
    }
    conn = view_from_rows(rows)
    by_score = {
        m: members(conn, parse_conditions({"field": "rfm.m", "op": "eq", "value": m}), today)
        for m in range(1, 6)
    }
    # Then 1 + ⌊5 × (customers spending less) / 10⌋: the four at 0 share 1, both at 300 share 4
    assert by_score == {
        1: {"cus_0", "cus_1", "cus_2", "cus_3"},
        2: set(),
        3: {"cus_4", "cus_5"},
        4: {"cus_6", "cus_7"},
        5: {"cus_8", "cus_9"},
    }


def test_status_boundaries() -> None:
    today = business_today()
    year_ago = (
        today.replace(year=today.year - 1)
        if (today.month, today.day) != (2, 29)
        else today.replace(year=today.year - 1, day=28)
    )
    cases = {
        "cus_today": {"last_visit_on": today},
        "cus_year_ago": {"last_visit_on": year_ago},
        "cus_year_and_a_day": {"last_purchase_on": year_ago - timedelta(days=1)},
        "cus_three_years": {"last_visit_on": today - timedelta(days=3 * 366)},
        "cus_never": {},
    }
    rows = {"customers": [{"customer_id": k, "version": "1", **v} for k, v in cases.items()]}
    conn = view_from_rows(rows)
    found = {
        s: members(conn, parse_conditions({"field": "status", "op": "eq", "value": s}), today)
        for s in ("active", "dormant", "lost")
    }
    assert found == {
        "active": {"cus_today", "cus_year_ago"},
        "dormant": {"cus_year_and_a_day"},
        "lost": {"cus_three_years", "cus_never"},
    }


# --- random trees ---------------------------------------------------------------------------


def leaf_strategy(scope: Scope | None) -> st.SearchStrategy[Leaf]:
    fields = [f for f in FIELDS.values() if scope is None or f.scope is scope]
    return st.sampled_from(fields).flatmap(
        lambda f: st.sampled_from(sorted(f.ops)).flatmap(
            lambda op: st.sampled_from(leaves_for(f, op, TENANT))
        )
    )


def tree_strategy(scope: Scope | None) -> st.SearchStrategy[Condition]:
    def extend(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
        groups: list[st.SearchStrategy[Condition]] = [
            st.lists(children, max_size=3).map(lambda xs: All(tuple(xs))),
            st.lists(children, min_size=1, max_size=3).map(lambda xs: AnyOf(tuple(xs))),
            children.map(Not),
        ]
        if scope is None:
            groups.append(tree_strategy(Scope.CAR).map(CarBlock))
        return st.one_of(*groups)

    return st.recursive(leaf_strategy(scope), extend, max_leaves=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=tree_strategy(None), days_later=st.integers(-400, 800))
def test_random_trees_match_the_reference(
    view: duckdb.DuckDBPyConnection, condition: Condition, days_later: int
) -> None:
    # Today moves (leap days, year ends) while the rows stay: derived values follow the clock.
    today = TODAY + timedelta(days=days_later)
    assert members(view, condition, today) == Tenant(ROWS, today).members(condition)


def test_rows_of_the_helpers_are_well_formed() -> None:
    # The generators keep to the schema's columns (a typo would silently be NULL).
    import random

    from trigly.analytics.schema import CARS, CUSTOMERS

    rng = random.Random(3)
    assert set(customer_row(rng, 1, TODAY)) <= set(CUSTOMERS.column_names)
    assert set(car_row(rng, "cus_1", TODAY)) <= set(CARS.column_names)
