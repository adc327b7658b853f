"""Maintenance plans: the catalogue, steps, their work, and which plan a car gets."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trigly.lifecycle.plans import CATALOGUE, MaintenancePlan, plan_for

OIL = "замена моторного масла и масляного фильтра"
CABIN = "замена салонного фильтра"
AIR = "замена воздушного фильтра двигателя"
BRAKE_FLUID = "замена тормозной жидкости"
PLUGS = "замена свечей зажигания"


@pytest.mark.parametrize(
    ("make", "model", "interval_km", "interval_months", "first_km", "first_months"),
    [
        ("Kia", "Rio", 15_000, 12, None, None),
        ("Hyundai", "Solaris", 15_000, 12, None, None),
        ("LADA", "Vesta", 15_000, 12, None, None),
        ("Лада", "Granta", 15_000, 12, None, None),
        ("ВАЗ", None, 15_000, 12, None, None),
        ("Skoda", "Octavia", 15_000, 12, None, None),
        ("VW", "Polo", 15_000, 12, None, None),
        ("Volkswagen", "Tiguan", 15_000, 12, None, None),
        ("Toyota", "Camry", 15_000, 12, None, None),
        ("Renault", "Duster", 15_000, 12, None, None),
        ("Mercedes", "E-Class", 15_000, 12, None, None),
        ("BMW", "X5", 30_000, 24, None, None),
        ("Geely", "Coolray", 10_000, 12, 3_000, 3),
        ("Haval", "Jolion", 10_000, 12, None, None),
        ("Great Wall", None, 10_000, 12, None, None),
        ("Chery", "Tiggo 7 Pro", 10_000, 12, None, None),
        ("Exeed", "TXL", 10_000, 12, None, None),
        ("Omoda", "C5", 10_000, 12, None, None),
        ("Changan", "CS35 Plus", 10_000, 12, None, None),
        ("WEY", "05", 15_000, 12, 10_000, 12),
        ("Tesla", "Model 3", 15_000, 12, None, None),  # unknown make: the default
        (None, None, 15_000, 12, None, None),
    ],
)
def test_the_catalogue_gives_each_make_its_interval(
    make: str | None,
    model: str | None,
    interval_km: int,
    interval_months: int,
    first_km: int | None,
    first_months: int | None,
) -> None:
    plan = plan_for(make, model)
    assert (plan.interval_km, plan.interval_months) == (interval_km, interval_months)
    assert (plan.first_km, plan.first_months) == (first_km, first_months)


def test_bmw_is_condition_based_and_every_catalogue_entry_names_its_source() -> None:
    assert plan_for("BMW", "3 Series").condition_based
    assert all(p.source for p in CATALOGUE)
    assert len({(p.make, p.model) for p in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize(
    ("make", "steps"),
    [
        ("KIA", [(1, 15_000, 12), (2, 30_000, 24), (3, 45_000, 36), (8, 120_000, 96)]),
        ("GEELY", [(1, 3_000, 3), (2, 10_000, 12), (3, 20_000, 24), (4, 30_000, 36)]),
        ("WEY", [(1, 10_000, 12), (2, 25_000, 24), (3, 40_000, 36), (4, 55_000, 48)]),
        ("BMW", [(1, 30_000, 24), (2, 60_000, 48)]),
    ],
)
def test_steps_fall_due_by_the_plan(make: str, steps: list[tuple[int, int, int]]) -> None:
    plan = plan_for(make, None)
    for number, km, months in steps:
        step = plan.step(number)
        assert (step.number, step.due_km, step.due_months) == (number, km, months)


def test_a_step_is_named_in_russian_with_its_odometer() -> None:
    assert plan_for("Kia", "Rio").step(2).service == "ТО-2 (30 000 км)"
    assert plan_for("Geely", None).step(1).service == "ТО-1 (3 000 км)"
    assert plan_for("Kia", None).step(10).service == "ТО-10 (150 000 км)"


@pytest.mark.parametrize(
    ("number", "included", "excluded"),
    [
        (1, [OIL, CABIN], [AIR, BRAKE_FLUID, PLUGS]),
        (2, [OIL, CABIN, AIR, BRAKE_FLUID], [PLUGS]),
        (3, [OIL, CABIN], [AIR, BRAKE_FLUID, PLUGS]),
        (4, [OIL, CABIN, AIR, BRAKE_FLUID, PLUGS], []),
    ],
)
def test_a_15000_km_plan_adds_filters_fluids_and_plugs_by_step(
    number: int, included: list[str], excluded: list[str]
) -> None:
    works = plan_for("Kia", "Rio").step(number).works
    assert set(included) <= set(works)
    assert not set(excluded) & set(works)


def test_the_run_in_service_is_oil_and_inspection_only() -> None:
    works = plan_for("Geely", "Monjaro").step(1).works
    assert OIL in works and CABIN not in works


def test_a_tenant_names_the_work_of_a_step() -> None:
    plan = plan_for("Kia", None).model_copy(update={"works": {2: ["масло", "фильтры"]}})
    assert plan.step(2).works == ["масло", "фильтры"]
    assert OIL in plan.step(3).works


def test_tenant_plans_win_make_and_model_first() -> None:
    overrides = [
        MaintenancePlan(make="kia", interval_km=10_000, interval_months=12),
        MaintenancePlan(make="KIA", model="k5", interval_km=8_000, interval_months=6),
        MaintenancePlan(make="*", interval_km=12_000, interval_months=12),
    ]
    assert plan_for("Kia", "K5", overrides).interval_km == 8_000
    assert plan_for("KIA", "Rio", overrides).interval_km == 10_000
    assert plan_for("Haval", "Jolion", overrides).interval_km == 10_000  # the catalogue
    unknown = plan_for("Tesla", None, overrides)
    assert (unknown.make, unknown.interval_km) == ("TESLA", 12_000)


def test_a_catalogue_model_entry_beats_its_make() -> None:
    overrides = [MaintenancePlan(make="HAVAL", model="M6", interval_km=15_000, interval_months=12)]
    assert plan_for("Haval", "m6", overrides).interval_km == 15_000
    assert plan_for("Haval", "Jolion", overrides).interval_km == 10_000


def test_a_first_service_after_the_interval_is_rejected_unless_counted_from_it() -> None:
    with pytest.raises(ValidationError):
        MaintenancePlan(make="X", interval_km=10_000, interval_months=12, first_km=12_000)
    MaintenancePlan(
        make="X", interval_km=10_000, interval_months=12, first_km=12_000, counted_from_first=True
    )
    with pytest.raises(ValidationError):
        MaintenancePlan(make="X", interval_km=0, interval_months=12)
    with pytest.raises(ValidationError):
        MaintenancePlan(make="X", interval_km=10_000, interval_months=12, first_months=6)


def test_a_first_service_without_months_falls_due_at_its_share_of_the_interval() -> None:
    plan = MaintenancePlan(make="X", interval_km=15_000, interval_months=12, first_km=5_000)
    assert plan.due(1) == (5_000, 4)
    assert plan.due(2) == (15_000, 12)


def test_steps_are_numbered_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        plan_for("Kia", None).step(0)


@pytest.mark.parametrize(
    ("make", "km", "nearest"),
    [
        ("KIA", 0, 1),
        ("KIA", 3_000, 1),
        ("KIA", 15_000, 1),
        ("KIA", 22_400, 1),
        ("KIA", 22_500, 2),  # a tie goes to the later step
        ("KIA", 29_000, 2),
        ("KIA", 61_000, 4),
        ("GEELY", 3_200, 1),
        ("GEELY", 6_400, 1),
        ("GEELY", 6_600, 2),
        ("GEELY", 19_000, 3),
        ("WEY", 26_000, 2),
    ],
)
def test_the_service_done_is_the_step_nearest_its_odometer(
    make: str, km: int, nearest: int
) -> None:
    assert plan_for(make, None).nearest_step(km) == nearest


plans = st.builds(
    lambda interval, months, first, first_months, from_first: MaintenancePlan(
        make="X",
        interval_km=interval,
        interval_months=months,
        first_km=None if first is None else (first if from_first else min(first, interval - 1)),
        first_months=None
        if first is None or first_months is None
        else (first_months if from_first else min(first_months, months - 1)),
        counted_from_first=from_first,
    ),
    st.integers(1_000, 40_000),
    st.integers(3, 36),
    st.none() | st.integers(500, 30_000),
    st.none() | st.integers(1, 12),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(plan=plans, number=st.integers(1, 30))
def test_steps_move_forward_and_each_is_its_own_nearest(plan: MaintenancePlan, number: int) -> None:
    here, there = plan.due(number), plan.due(number + 1)
    assert there[0] > here[0] and there[1] > here[1]
    assert plan.nearest_step(here[0]) == number
    assert OIL in plan.works_for(number) or plan.condition_based
