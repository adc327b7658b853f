"""The next dated event of each kind for a car and a customer."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.lifecycle.builders import car, job, reading, sale, visit
from trigly.lifecycle.milestones import Milestone, car_milestones, customer_milestones
from trigly.lifecycle.plans import plan_for
from trigly.vehicles.model import Financing, InsurancePolicy, Sale, Vehicle

TODAY = date(2026, 11, 25)
KIA = plan_for("Kia", "Rio")


def policy(kind: str, ends_on: date, policy_id: str | None = None) -> InsurancePolicy:
    return InsurancePolicy(
        policy_id=policy_id or f"{kind}-{ends_on}", kind=kind, ends_on=ends_on, customer_id="c1"
    )


def by_kind(milestones: list[Milestone], kind: str) -> list[Milestone]:
    return [m for m in milestones if m.kind == kind]


def only(milestones: list[Milestone], kind: str) -> Milestone:
    found = by_kind(milestones, kind)
    assert len(found) == 1, found
    return found[0]


def milestones_of(
    vehicle: Vehicle, owner_since: date | None = None, today: date = TODAY, **kwargs: object
) -> list[Milestone]:
    return car_milestones(vehicle, owner_since, "RU-MOW", today, KIA, **kwargs)  # type: ignore[arg-type]


def test_a_new_kia_has_every_milestone_it_should_in_date_order() -> None:
    sold = date(2023, 3, 15)
    financing = Financing(type="loan", term_months=48, ends_on=date(2027, 3, 15))
    last = visit(date(2026, 3, 20), 45_500)
    kia = car(
        sales=[sale(sold, financing=financing)],
        visits=[last],
        policies=[policy("osago", date(2027, 3, 14)), policy("kasko", date(2026, 12, 1))],
        owner_since=sold,
    )
    found = car_milestones(kia, sold, "RU-MOW", TODAY, KIA, [last])
    assert [m.due_on for m in found] == sorted(m.due_on for m in found)
    assert {m.key for m in found} == {
        "maintenance:4",
        "tyre_season:2027-summer",
        "insurance:kasko:2026-12-01",  # the policy ending first; OSAGO's turn comes after
        "warranty_end:2028-03-15",
        "financing_end:2027-03-15",
        "purchase_anniversary:2027",
        "car_age:4",
    }
    assert all(m.vin == kia.vin and m.due_on >= TODAY for m in found)
    maintenance = only(found, "maintenance")
    assert maintenance.details["service"] == "ТО-4 (60 000 км)"
    assert maintenance.details["due_km"] == 60_000
    assert only(found, "financing_end").details["type"] == "loan"
    assert only(found, "car_age").details == {"age": 4, "since": "2023-03-15", "from": "sale"}
    assert only(found, "purchase_anniversary").details["years"] == 4


def test_an_overdue_maintenance_is_due_today_and_says_so() -> None:
    last = visit(date(2025, 6, 1), 12_000)  # a slow driver: time decides
    kia = car(sales=[sale(date(2024, 6, 1))], visits=[last])
    maintenance = only(milestones_of(kia, visits=[last]), "maintenance")
    assert maintenance.due_on == TODAY
    assert maintenance.details["overdue"] is True
    assert maintenance.details["due_on"] == "2026-06-01"


@pytest.mark.parametrize(
    ("policies", "owner_since", "expected"),
    [
        # The latest policy of each kind
        (
            [policy("osago", date(2026, 3, 1), "a"), policy("osago", date(2027, 3, 1), "b")],
            None,
            [("insurance:osago:2027-03-01", False)],
        ),
        # A policy that ended is assumed renewed for a year at a time
        ([policy("osago", date(2025, 2, 10))], None, [("insurance:osago:2027-02-10", True)]),
        # No policy: a year after the purchase, rolled forward
        ([], date(2024, 12, 20), [("insurance:osago:2026-12-20", True)]),
        # The previous owner's policy does not count
        (
            [policy("osago", date(2026, 1, 10))],
            date(2026, 4, 1),
            [("insurance:osago:2027-04-01", True)],
        ),
        # Nothing known at all
        ([], None, []),
    ],
)
def test_insurance_renewal(
    policies: list[InsurancePolicy], owner_since: date | None, expected: list[tuple[str, bool]]
) -> None:
    kia = car(policies=policies)
    found = by_kind(milestones_of(kia, owner_since), "insurance_renewal")
    assert [(m.key, m.details["assumed"]) for m in found] == expected
    assert all(m.due_on >= TODAY for m in found)


@pytest.mark.parametrize(
    ("make", "sales", "expected"),
    [
        ("Kia", [sale(date(2022, 5, 1))], "2027-05-01"),  # 5 years
        ("Skoda", [sale(date(2024, 5, 1))], "2027-05-01"),  # 3 years
        ("Kia", [sale(date(2021, 5, 1))], None),  # already ended
        ("Kia", [sale(date(2024, 5, 1), condition="used")], None),  # not sold new by us
    ],
)
def test_warranty_end(make: str, sales: list[Sale], expected: str | None) -> None:
    found = by_kind(milestones_of(car(make, sales=sales)), "warranty_end")
    assert [m.details["ends_on"] for m in found] == ([expected] if expected else [])


def test_financing_end_is_the_current_owners_and_only_while_it_runs() -> None:
    mine = sale(date(2024, 1, 10), financing=Financing(type="lease", ends_on=date(2027, 1, 10)))
    theirs = sale(
        date(2020, 1, 10),
        customer_id="c0",
        financing=Financing(type="loan", ends_on=date(2028, 1, 10)),
    )
    kia = car(sales=[theirs, mine], owner_since=date(2024, 1, 10))
    assert only(milestones_of(kia), "financing_end").key == "financing_end:2027-01-10"
    ended = car(
        sales=[sale(date(2020, 1, 10), financing=Financing(type="loan", ends_on=date(2023, 1, 10)))]
    )
    assert by_kind(milestones_of(ended), "financing_end") == []


@pytest.mark.parametrize(
    ("year", "sales", "key", "due_on"),
    [
        (2023, [sale(date(2023, 2, 1))], "car_age:4", date(2027, 2, 1)),
        (2024, [], "car_age:3", date(2027, 7, 1)),  # from the model year
        (2021, [sale(date(2021, 12, 1))], "car_age:5", date(2026, 12, 1)),
        (2023, [sale(date(2023, 11, 25))], "car_age:3", TODAY),  # today counts
        (2019, [], None, None),  # past the trade-in window
        (None, [], None, None),
    ],
)
def test_car_turns_three_four_five(
    year: int | None,
    sales: list[Sale],
    key: str | None,
    due_on: date | None,
) -> None:
    found = by_kind(milestones_of(car(year=year, sales=sales)), "car_age")
    assert [(m.key, m.due_on) for m in found] == ([(key, due_on)] if key else [])


def test_purchase_anniversary_is_the_next_one_and_none_without_a_purchase() -> None:
    found = only(milestones_of(car(), date(2025, 11, 25)), "purchase_anniversary")
    assert (found.key, found.due_on, found.details["years"]) == (
        "purchase_anniversary:2026",
        TODAY,
        1,
    )
    assert by_kind(milestones_of(car()), "purchase_anniversary") == []


def test_declined_work_is_followed_up_30_days_after_the_visit_unless_done_since() -> None:
    recent = visit(
        date(2026, 11, 10),
        40_000,
        job("ТО-3", amount=15_000),
        job("замена тормозных колодок", kind="repair", amount=7_800, declined=True, code="BRK-1"),
        job("замена щёток", kind="repair", amount=1_200, declined=True),
    )
    older = visit(
        date(2026, 11, 1),
        39_800,
        job("развал-схождение", kind="repair", amount=3_000, declined=True),
        order_id="OLD",
    )
    did_it = visit(date(2026, 11, 5), 39_900, job("развал-схождение", kind="repair", amount=3_000))
    kia = car(visits=[older, did_it, recent])
    found = by_kind(milestones_of(kia, visits=[older, did_it, recent]), "declined_work")
    assert [(m.key, m.due_on) for m in found] == [
        ("declined_work:RO-2026-11-10", date(2026, 12, 10))
    ]
    details = found[0].details
    assert details["amount"] == 9_000
    assert [j["name"] for j in details["jobs"]] == ["замена тормозных колодок", "замена щёток"]
    # A month later the follow-up is past and gone
    later = car_milestones(kia, None, "RU-MOW", date(2026, 12, 11), KIA, [older, did_it, recent])
    assert by_kind(later, "declined_work") == []


def test_tyre_season_is_the_regions_window_and_due_today_while_it_is_open() -> None:
    found = only(car_milestones(car(), None, "RU-NVS", date(2026, 10, 1), KIA), "tyre_season")
    assert (found.key, found.due_on) == ("tyre_season:2026-winter", date(2026, 10, 1))
    assert found.details["closes_on"] == "2026-10-20"
    assert found.details["zone"] == "siberia"


def test_tyres_changed_for_the_season_move_the_reminder_to_the_next_season() -> None:
    changed = visit(date(2026, 9, 20), 30_000, job("шиномонтаж", kind="tires", amount=4_000))
    kia = car(visits=[changed])
    found = car_milestones(kia, None, "RU-NVS", date(2026, 10, 1), KIA, [changed])
    assert only(found, "tyre_season").key == "tyre_season:2027-summer"
    declined = visit(date(2026, 9, 20), 30_000, job("шиномонтаж", kind="tires", declined=True))
    found = car_milestones(kia, None, "RU-NVS", date(2026, 10, 1), KIA, [declined])
    assert only(found, "tyre_season").key == "tyre_season:2026-winter"


def test_of_two_policies_the_one_ending_first_is_next() -> None:
    kia = car(policies=[policy("osago", date(2027, 3, 14)), policy("kasko", date(2027, 1, 9))])
    assert only(milestones_of(kia), "insurance_renewal").key == "insurance:kasko:2027-01-09"


def test_a_tenants_tyre_windows_are_used() -> None:
    overrides = {"RU-MOW": {"summer_opens": "03-25"}}
    found = car_milestones(car(), None, "RU-MOW", date(2027, 1, 10), KIA, tyre_overrides=overrides)
    assert only(found, "tyre_season").due_on == date(2027, 3, 25)


@pytest.mark.parametrize(
    ("birth", "today", "key", "due_on", "age"),
    [
        (date(1985, 12, 3), TODAY, "birthday:2026", date(2026, 12, 3), 41),
        (date(1985, 11, 25), TODAY, "birthday:2026", TODAY, 41),
        (date(1985, 1, 3), TODAY, "birthday:2027", date(2027, 1, 3), 42),
        (date(1988, 2, 29), TODAY, "birthday:2027", date(2027, 2, 28), 39),
        (date(1988, 2, 29), date(2027, 12, 1), "birthday:2028", date(2028, 2, 29), 40),
    ],
)
def test_birthday(birth: date, today: date, key: str, due_on: date, age: int) -> None:
    (found,) = customer_milestones(birth, today)
    assert (found.kind, found.key, found.due_on, found.details["age"], found.vin) == (
        "birthday",
        key,
        due_on,
        age,
        None,
    )


def test_no_birth_date_no_birthday() -> None:
    assert customer_milestones(None, TODAY) == []


@settings(max_examples=100, deadline=None)
@given(
    sold=st.dates(date(2015, 1, 1), date(2026, 11, 1)),
    ahead=st.integers(0, 3000),
    rate=st.integers(5, 120),
    region=st.sampled_from(["RU-MOW", "RU-KDA", "RU-SA", None]),
    policy_end=st.none() | st.dates(date(2015, 1, 1), date(2030, 1, 1)),
)
def test_milestones_are_never_in_the_past_unique_and_stable(
    sold: date, ahead: int, rate: int, region: str | None, policy_end: date | None
) -> None:
    today = sold + timedelta(days=ahead)
    serviced = sold + timedelta(days=ahead // 2)
    last = visit(
        serviced, rate * (ahead // 2) + 1, job("ТО"), job("колодки", kind="repair", declined=True)
    )
    kia = car(
        sales=[sale(sold, financing=Financing(type="loan", ends_on=sold + timedelta(days=1500)))],
        readings=[reading(sold, 0, "sale")],
        visits=[last],
        policies=[policy("osago", policy_end)] if policy_end else [],
        owner_since=sold,
    )
    found = car_milestones(kia, sold, region, today, KIA, [last])
    assert all(m.due_on >= today for m in found)
    assert len({m.key for m in found}) == len(found)
    assert len({m.kind for m in found}) == len(found)  # the next one of each kind
    assert found == car_milestones(kia, sold, region, today, KIA, [last])
    assert {"maintenance", "tyre_season", "insurance_renewal", "purchase_anniversary"} <= {
        m.kind for m in found
    }


def test_a_declined_service_is_resolved_by_any_later_maintenance_and_jobs_match_by_code() -> None:
    declined = visit(
        date(2026, 11, 1),
        30_000,
        job("ТО-2", declined=True),
        job("замена колодок", kind="repair", code="BRK-1", amount=7_000, declined=True),
        job("диагностика", kind="diagnostics", amount=1_000),
    )
    serviced = visit(
        date(2026, 11, 8),
        30_200,
        job("ТО-2 (30 000 км)"),
        job("колодки передние", kind="repair", code="BRK-1", amount=7_000),
        order_id="RO-LATER",
    )
    kia = car(visits=[declined, serviced])
    assert by_kind(milestones_of(kia, visits=[declined, serviced]), "declined_work") == []
