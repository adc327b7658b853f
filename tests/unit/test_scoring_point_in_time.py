"""Readiness features read only the past, and the label only (T, T+180 d] (issue 12, item 1).

The property: take any history, any moment T, then add any facts dated after T (visits, sales,
readings, web views, test drives, showroom visits, leads, calls, clicks, a car passing to
someone else): `features_at(…, T)` does not change. Every time is derived from the clock.
"""

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trigly.events.types import Channel
from trigly.messaging.intent import HistoryEntry, MessagePurpose, MessageState, MessageStatus
from trigly.messaging.message import StoredMessage
from trigly.profiles.records import (
    Call,
    CustomerHistory,
    CustomerVehicle,
    Interest,
    Lead,
    Purchase,
    ServiceVisit,
    ShowroomVisit,
    VisitJob,
    WebVisit,
)
from trigly.profiles.records import (
    TestDrive as DriveBooking,
)
from trigly.scoring.examples import (
    HORIZON,
    CustomerFacts,
    bought_within,
    monthly_moments,
    training_examples,
)
from trigly.scoring.features import FEATURES, features_at
from trigly.vehicles.model import Financing, OdometerReading, Sale, Vehicle

# A base moment from the clock, to the second (hypothesis shrinks offsets, not dates).
BASE = datetime.now(UTC).replace(microsecond=0)
VINS = ("XW8ZZZ61ZKG000001", "XW8ZZZ61ZKG000002", "XW8ZZZ61ZKG000003")
MODELS = ("Rio", "Sportage", "Jolion")


def at(seconds: int) -> datetime:
    return BASE + timedelta(seconds=seconds)


# Offsets in seconds: the past reaches six years back, the future up to two years ahead.
PAST = st.integers(min_value=-6 * 365 * 86_400, max_value=0)
FUTURE = st.integers(min_value=1, max_value=2 * 365 * 86_400)


def message(moment: datetime, clicked: bool, key: str) -> StoredMessage:
    entries = [HistoryEntry(status=MessageStatus.SENT, at=moment)]
    if clicked:
        entries.append(HistoryEntry(status=MessageStatus.CLICKED, at=moment + timedelta(hours=1)))
    return StoredMessage(
        message_id=f"msg_{key}",
        customer_id="cus_1",
        idempotency_key=key,
        kind="campaign",
        purpose=MessagePurpose.MARKETING,
        created_at=moment,
        channel=Channel.SMS,
        state=MessageState(status=entries[-1].status, history=tuple(entries)),
    )


@st.composite
def facts(draw: st.DrawFn, offsets: st.SearchStrategy[int], tag: str) -> CustomerHistory:
    """A history whose every fact is dated by `offsets` from BASE."""
    vin = st.sampled_from(VINS)
    model = st.sampled_from(MODELS)
    jobs = st.lists(
        st.builds(
            VisitJob,
            name=st.just("job"),
            kind=st.sampled_from(["maintenance", "repair", "body", "tires", "other"]),
            amount=st.floats(min_value=0, max_value=500_000),
            declined=st.booleans(),
        ),
        max_size=3,
    )
    visits = [
        ServiceVisit(
            order_id=f"{tag}o{i}",
            vin=draw(vin),
            closed_at=at(draw(offsets)),
            mileage_km=draw(st.integers(min_value=0, max_value=300_000)),
            jobs=draw(jobs),
            total_amount=0.0,
            currency="RUB",
        )
        for i in range(draw(st.integers(0, 4)))
    ]
    purchases = [
        Purchase(
            deal_id=f"{tag}d{i}",
            vin=draw(vin),
            make="KIA",
            model=draw(model),
            year=BASE.year - draw(st.integers(0, 8)),
            sold_at=at(draw(offsets)),
            price=2_000_000.0,
            currency="RUB",
            condition=draw(st.sampled_from(["new", "used"])),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    web = [
        WebVisit(
            at=at(draw(offsets)),
            page=draw(st.sampled_from(["model", "configurator", "price", "trade_in", "other"])),
            model=draw(st.none() | model),
        )
        for _ in range(draw(st.integers(0, 6)))
    ]
    drives = [
        DriveBooking(
            booking_id=f"{tag}t{i}",
            model=draw(model),
            status=draw(st.sampled_from(["booked", "completed", "cancelled", "no_show"])),
            starts_at=at(draw(offsets)),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    showroom = [
        ShowroomVisit(
            visit_id=f"{tag}s{i}",
            at=at(draw(offsets)),
            interest=Interest(model=draw(model)),
            outcome=draw(st.sampled_from(["bought", "left", "thinking"])),
            reason=draw(st.sampled_from([None, "price", "credit", "no_stock"])),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    leads = [
        Lead(lead_id=f"{tag}l{i}", created_at=at(draw(offsets)), source="site")
        for i in range(draw(st.integers(0, 2)))
    ]
    calls = [
        Call(
            call_id=f"{tag}c{i}",
            at=at(draw(offsets)),
            tracking_number="+74950000000",
            duration_s=60,
            answered=True,
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    messages = [
        message(at(draw(offsets)), draw(st.booleans()), f"{tag}m{i}")
        for i in range(draw(st.integers(0, 3)))
    ]
    cars = [
        CustomerVehicle(
            vin=v,
            make="KIA",
            model=draw(model),
            year=draw(st.none() | st.integers(BASE.year - 12, BASE.year)),
            since=at(draw(offsets)),
        )
        for v in draw(st.lists(vin, unique=True, max_size=2))
    ]
    return CustomerHistory(
        cars=cars,
        visits=visits,
        purchases=purchases,
        web_visits=web,
        test_drives=drives,
        showroom_visits=showroom,
        leads=leads,
        calls=calls,
        messages=messages,
    )


@st.composite
def car_records(draw: st.DrawFn, offsets: st.SearchStrategy[int]) -> list[Vehicle]:
    cars = []
    for vin in VINS:
        readings = sorted(
            (
                OdometerReading(at=at(draw(offsets)), km=draw(st.integers(0, 300_000)), source="x")
                for _ in range(draw(st.integers(0, 3)))
            ),
            key=lambda r: r.at,
        )
        sales = [sale(draw, offsets, f"{vin}s{i}") for i in range(draw(st.integers(0, 2)))]
        cars.append(
            Vehicle(vin=vin, make="KIA", year=BASE.year - 3, readings=readings, sales=sales)
        )
    return cars


def sale(draw: st.DrawFn, offsets: st.SearchStrategy[int], deal_id: str) -> Sale:
    sold_at = at(draw(offsets))
    months = draw(st.integers(12, 60))
    return Sale(
        deal_id=deal_id,
        customer_id="cus_1",
        sold_at=sold_at,
        price=draw(st.floats(min_value=300_000, max_value=5_000_000)),
        currency="RUB",
        condition=draw(st.sampled_from(["new", "used"])),
        financing=draw(
            st.none()
            | st.just(
                Financing(
                    type=draw(st.sampled_from(["loan", "lease"])),
                    ends_on=(sold_at + timedelta(days=30 * months)).date(),
                )
            )
        ),
    )


def merged(past: CustomerHistory, future: CustomerHistory) -> CustomerHistory:
    return CustomerHistory(
        **{
            name: [*getattr(past, name), *getattr(future, name)]
            for name in CustomerHistory.model_fields
        }
    )


def with_future_records(past: list[Vehicle], future: list[Vehicle]) -> list[Vehicle]:
    by_vin = {car.vin: car for car in future}
    return [
        car.model_copy(
            update={
                "readings": sorted([*car.readings, *by_vin[car.vin].readings], key=lambda r: r.at),
                "sales": [*car.sales, *by_vin[car.vin].sales],
            }
        )
        for car in past
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    past=facts(PAST, "p"),
    later=facts(FUTURE, "f"),
    cars=car_records(PAST),
    later_cars=car_records(FUTURE),
    sold_on=st.lists(FUTURE, min_size=3, max_size=3),
    late_click=FUTURE,
    born=st.dates(
        min_value=BASE.date() - timedelta(days=80 * 365),
        max_value=BASE.date() - timedelta(days=18 * 365),
    ),
)
def test_facts_after_as_of_never_change_the_features(
    past: CustomerHistory,
    later: CustomerHistory,
    cars: list[Vehicle],
    later_cars: list[Vehicle],
    sold_on: list[int],
    late_click: int,
    born: date,
) -> None:
    before = features_at(past, cars, BASE, birth_date=born)
    assert set(before) == set(FEATURES)
    # Later: new records of every kind, new readings and sales of the same cars, the cars the
    # customer owns passing to someone else, and a click on a message sent before.
    future = merged(past, later)
    future.cars[: len(past.cars)] = [
        car.model_copy(update={"until": at(offset)})
        for car, offset in zip(past.cars, sold_on, strict=False)
    ]
    if future.messages:
        first = future.messages[0]
        entry = HistoryEntry(status=MessageStatus.CLICKED, at=at(late_click))
        state = first.state.model_copy(update={"history": (*first.state.history, entry)})
        future.messages[0] = first.model_copy(update={"state": state})
    after = features_at(future, with_future_records(cars, later_cars), BASE, birth_date=born)
    assert after == before


def visit(days_ago: float, vin: str, km: int, *jobs: VisitJob) -> ServiceVisit:
    return ServiceVisit(
        order_id=f"o{days_ago}",
        vin=vin,
        closed_at=BASE - timedelta(days=days_ago),
        mileage_km=km,
        jobs=list(jobs),
        total_amount=sum(j.amount for j in jobs),
        currency="RUB",
    )


def purchase(moment: datetime, deal_id: str = "d1") -> Purchase:
    return Purchase(
        deal_id=deal_id,
        vin=VINS[0],
        make="KIA",
        model="Rio",
        year=moment.year,
        sold_at=moment,
        price=1_500_000.0,
        currency="RUB",
        condition="new",
    )


def test_a_dealer_reads_the_features_a_manager_would() -> None:
    """Each feature measures what its name says, at as_of."""
    bought = BASE - timedelta(days=3 * 365)
    car_view = CustomerVehicle(vin=VINS[0], make="KIA", model="Rio", year=bought.year, since=bought)
    record = Vehicle(
        vin=VINS[0],
        make="KIA",
        year=bought.year,
        sales=[
            Sale(
                deal_id="d1",
                customer_id="cus_1",
                sold_at=bought,
                price=1_000_000.0,
                currency="RUB",
                condition="new",
                financing=Financing(type="loan", ends_on=(BASE + timedelta(days=60)).date()),
            )
        ],
    )
    history = CustomerHistory(
        cars=[car_view],
        purchases=[purchase(bought)],
        visits=[
            visit(400, VINS[0], 40_000, VisitJob(name="ТО", kind="maintenance", amount=9_000)),
            visit(
                20,
                VINS[0],
                60_000,
                VisitJob(name="колодки", kind="repair", amount=12_000),
                VisitJob(name="сцепление", kind="repair", amount=80_000, declined=True),
            ),
        ],
        web_visits=[
            *(
                WebVisit(at=BASE - timedelta(days=d), page="configurator", model="Jolion")
                for d in (1, 2, 3, 4, 5)
            ),
            WebVisit(at=BASE - timedelta(days=20), page="trade_in"),
            WebVisit(at=BASE - timedelta(days=45), page="price", model="Rio"),
        ],
        test_drives=[
            DriveBooking(
                booking_id="t1",
                model="Jolion",
                status="completed",
                starts_at=BASE - timedelta(days=10),
            ),
            DriveBooking(
                booking_id="t2", model="Jolion", status="booked", starts_at=BASE + timedelta(days=2)
            ),
        ],
        showroom_visits=[
            ShowroomVisit(
                visit_id="s1", at=BASE - timedelta(days=10), outcome="left", reason="price"
            )
        ],
        messages=[
            message(BASE - timedelta(days=30), True, "k1"),
            message(BASE - timedelta(days=120), True, "k2"),
        ],
    )
    birthday = (BASE + timedelta(days=10)).date()
    found = features_at(
        history, [record], BASE, birth_date=birthday.replace(year=birthday.year - 40)
    )
    assert found["cars_owned"] == 1
    assert found["finance_ends_in_days"] == 60
    assert found["finance_is_lease"] == 0
    assert found["warranty_ends_in_days"] is not None and 700 < found["warranty_ends_in_days"] < 760
    assert found["repairs_12m"] == 1 and found["repair_spend_12m"] == 12_000
    assert found["declined_quotes_12m"] == 1 and found["declined_amount_12m"] == 80_000
    assert found["declined_to_car_value"] == 0.08
    assert found["service_visits_12m"] == 1 and found["service_visits_24m"] == 2
    assert found["days_since_last_service"] == 20
    assert found["configurator_views_7d"] == 5 and found["days_since_configurator_view"] == 1
    assert found["trade_in_views_7d"] == 0 and found["trade_in_views_30d"] == 1
    assert found["price_views_30d"] == 0 and found["days_since_price_view"] == 45
    assert found["models_viewed_30d"] == 1
    assert found["test_drives_180d"] == 1 and found["days_since_test_drive"] == 10
    assert found["showroom_left_for_price_180d"] == 1
    assert found["message_clicks_90d"] == 1
    assert found["birthday_within_30_days"] == 1
    assert found["cars_bought"] == 1
    # A reading of 60,000 km twenty days ago: today's estimate is a little past it.
    km = found["estimated_mileage_km"]
    assert km is not None and 60_000 < km < 63_000


def test_the_label_is_a_purchase_in_the_next_180_days_only() -> None:
    moment = BASE - timedelta(days=365)
    for sold_at, label in [
        (moment, False),  # at T: known at T, a feature, not the label
        (moment + timedelta(seconds=1), True),
        (moment + HORIZON, True),
        (moment + HORIZON + timedelta(seconds=1), False),
        (moment - timedelta(days=1), False),
    ]:
        history = CustomerHistory(purchases=[purchase(sold_at)])
        assert bought_within(history, moment) is label, sold_at - moment


def test_examples_skip_open_windows_and_customers_not_yet_known() -> None:
    known = CustomerHistory(
        purchases=[purchase(BASE - timedelta(days=700), "d0"), purchase(BASE - timedelta(days=300))]
    )
    newcomer = CustomerHistory(
        web_visits=[WebVisit(at=BASE - timedelta(days=250), page="model", model="Rio")]
    )
    customers = [
        CustomerFacts(customer_id="old", history=known),
        CustomerFacts(customer_id="new", history=newcomer),
    ]
    moments = monthly_moments(customers, BASE)
    assert moments[-1] == BASE - HORIZON and moments[0] > BASE - timedelta(days=700)
    examples = training_examples(customers, [*moments, BASE - timedelta(days=10)], now=BASE)
    assert {e.as_of for e in examples} == set(moments)  # the open window is skipped
    assert all(e.as_of >= BASE - timedelta(days=250) for e in examples if e.customer_id == "new")
    assert any(e.customer_id == "new" for e in examples)
    positives = {e.as_of for e in examples if e.bought}
    assert positives == {m for m in moments if m < BASE - timedelta(days=300) <= m + HORIZON}
    for example in examples:
        if example.customer_id == "new":
            assert example.features["cars_bought"] == 0
        else:
            later = example.as_of >= BASE - timedelta(days=300)
            assert example.features["cars_bought"] == (2 if later else 1)


def test_mileage_uses_the_readings_known_then_and_a_new_car_counts_from_zero() -> None:
    bought = BASE - timedelta(days=400)
    view = CustomerVehicle(vin=VINS[0], make="KIA", year=bought.year, since=bought)
    record = Vehicle(
        vin=VINS[0],
        make="KIA",
        year=bought.year,
        readings=[
            OdometerReading(at=bought, km=0, source="sale"),
            OdometerReading(at=BASE - timedelta(days=200), km=9_000, source="service_order"),
        ],
    )
    history = CustomerHistory(cars=[view])
    early = features_at(history, [record], bought)["estimated_mileage_km"]
    assert early == 0  # a new car out of stock: 0 km is a value, not unknown
    then = BASE - timedelta(days=100)
    km = features_at(history, [record], then)["estimated_mileage_km"]
    assert km is not None and 9_000 < km < 16_000
    # A car never read: the prior from its model year; unknown before its model year began.
    unread = CustomerHistory(
        cars=[CustomerVehicle(vin=VINS[1], make="KIA", year=BASE.year - 5, since=bought)]
    )
    assert (features_at(unread, [], BASE)["estimated_mileage_km"] or 0) > 40_000
    assert features_at(CustomerHistory(), [], BASE)["estimated_mileage_km"] is None
