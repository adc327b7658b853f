"""Prices of scheduled services: keys, what a visit charged, and quoting."""

from datetime import date

import pytest

from tests.unit.lifecycle.builders import job, visit
from trigly.lifecycle.plans import plan_for
from trigly.lifecycle.prices import (
    latest_prices,
    maintenance_price_from_visit,
    price_from_visit,
    price_key,
    quote,
)


@pytest.mark.parametrize(
    ("make", "model", "number", "key"),
    [
        ("Kia", "Rio", 2, "KIA|RIO|2"),
        (" kia ", "rio  x", 2, "KIA|RIO X|2"),
        ("VW", "Polo", 1, "VOLKSWAGEN|POLO|1"),
        ("Mercedes", "E-Class", 3, "MERCEDES-BENZ|E-CLASS|3"),
        ("Kia", None, 4, "KIA|*|4"),
        (None, None, 1, "*|*|1"),
    ],
)
def test_price_keys_are_stable_across_spellings(
    make: str | None, model: str | None, number: int, key: str
) -> None:
    assert price_key(make, model, number) == key


def test_the_price_of_a_visit_is_its_performed_maintenance_work() -> None:
    done = visit(
        date(2026, 5, 1),
        30_100,
        job("ТО-2", amount=14_500),
        job("замена салонного фильтра", amount=1_200.5),
        job("замена колодок", kind="repair", amount=6_000),
        job("промывка инжектора", amount=3_000, declined=True),
    )
    assert maintenance_price_from_visit(done) == 15_700.5
    assert price_from_visit(done, "Kia", "Rio", plan_for("Kia", "Rio")) == ("KIA|RIO|2", 15_700.5)


def test_a_visit_without_maintenance_teaches_no_price() -> None:
    repair = visit(date(2026, 5, 1), 30_100, job("замена колодок", kind="repair"))
    assert maintenance_price_from_visit(repair) is None
    assert price_from_visit(repair, "Kia", "Rio", plan_for("Kia", None)) is None


def test_the_latest_visit_of_each_step_sets_its_price_and_the_make_is_the_fallback() -> None:
    plan = plan_for("Kia", None)
    visits = [
        visit(date(2025, 5, 1), 15_200, job("ТО-1", amount=9_000)),
        visit(date(2026, 5, 1), 14_800, job("ТО-1", amount=9_900), order_id="B"),
        visit(date(2026, 1, 1), 30_000, job("ТО-2", amount=16_000)),
    ]
    prices = latest_prices(reversed(visits), "Kia", "Rio", plan)
    assert prices == {"KIA|RIO|1": 9_900, "KIA|RIO|2": 16_000}
    assert quote(prices, "KIA", "RIO", 1) == 9_900
    assert quote(prices, "Kia", "Ceed", 1) is None
    assert quote({"KIA|*|1": 9_000}, "Kia", "Ceed", 1) == 9_000
