"""Dealer CSV rows → contract events: headers, dirty cells, deterministic ids and times."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from trigly.events.validation import ValidEvent, validate_event
from trigly.imports.csv_rows import (
    FLOOR,
    UNDATED,
    Columns,
    RowContext,
    map_row,
    parse_day,
    parse_number,
    parse_region,
    split_emails,
    split_phones,
)

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
MOSCOW = ZoneInfo("Europe/Moscow")
HEADER = [
    "\ufeffКОД КЛИЕНТА",
    "ФИО",
    "Телефон",
    "Телефоны",
    "E-Mail",
    "Дата рождения",
    "Регион",
    "VIN",
    "Марка",
    "Модель",
    "Год выпуска",
    "Дата покупки",
    "Цена продажи",
    "Состояние",
    "Дата последнего визита",
    "Пробег",
    "Примечание",
]


def row(**cells: str) -> list[str]:
    columns = Columns.read(HEADER)
    values = [""] * len(HEADER)
    for name, value in cells.items():
        values[columns.index[name]] = value
    return values


def context(exported_at: datetime | None = None) -> RowContext:
    return RowContext(Columns.read(HEADER), MOSCOW, exported_at, TODAY)


def events_of(**cells: str) -> dict[str, dict[str, object]]:
    mapped = map_row(row(**cells), context())
    return {str(e["type"]): e for e in mapped.events}


def test_headers_match_in_any_case_with_russian_aliases_and_unknown_ones_are_listed() -> None:
    columns = Columns.read(HEADER)

    assert columns.index["external_id"] == 0 and columns.names["external_id"] == "КОД КЛИЕНТА"
    assert {"full_name", "phone", "phones", "email", "vin", "last_service_km"} <= set(columns.index)
    assert columns.unknown == ("Примечание",)
    assert columns.column_of("data.phones.2") == "Телефон"
    assert columns.column_of("data.customer_external_id") == "КОД КЛИЕНТА"
    assert columns.column_of("occurred_at") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.04.1985", date(1985, 4, 12)),
        ("1985-04-12", date(1985, 4, 12)),
        ("12/04/1985", date(1985, 4, 12)),
        ("12.04.85", date(1985, 4, 12)),
        ("01.02.23", date(2023, 2, 1)),
        (" 20.11.2024 14:35 ", date(2024, 11, 20)),
        ("31.02.1990", None),
        ("весной", None),
    ],
)
def test_dirty_dates_are_read_or_refused(text: str, expected: date | None) -> None:
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 899 900,00 ₽", Decimal("1899900.00")),
        ("1899900.50", Decimal("1899900.50")),
        ("123 456 км", Decimal(123456)),
        ("123,456", Decimal(123456)),
        ("1.234.567", Decimal(1234567)),
        ("4,5", Decimal("4.5")),
        ("нет", None),
    ],
)
def test_numbers_are_read_as_people_type_them(text: str, expected: Decimal | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Москва", "RU-MOW"),
        ("г. Москва", "RU-MOW"),
        ("Свердловская обл.", "RU-SVE"),
        ("Республика Татарстан", "RU-TA"),
        ("ru-spe", "RU-SPE"),
        ("Нарния", None),
    ],
)
def test_regions_become_iso_codes(text: str, expected: str | None) -> None:
    assert parse_region(text) == expected


def test_several_contacts_in_a_cell_are_split_and_deduplicated() -> None:
    assert split_phones(
        "8 (912) 345-67-89; +7 903 111-22-33", "89123456789/ 8 (912) 345-67-89"
    ) == [
        "8 (912) 345-67-89",
        "+7 903 111-22-33",
        "89123456789",
    ]
    assert split_emails("a@x.ru, b@y.ru;a@x.ru") == ["a@x.ru", "b@y.ru"]


def test_a_full_row_becomes_three_valid_contract_events() -> None:
    # Given a row with a person, a car bought here and a last visit
    events = events_of(
        external_id="C-1",
        full_name="Иванова Анна Сергеевна",
        phone="8 (912) 345-67-89",
        phones="+7 903 111-22-33",
        email="Anna@Mail.ru",
        birth_date="17.04.1988",
        region="Москва",
        vin="xta210740c1234567",
        make="Lada",
        model="Granta",
        year="2019 г.",
        purchase_date="15.03.2019",
        sale_price="650 000",
        last_service_date="20.11.2025",
        last_service_km="45 300 км",
    )
    # Then each validates against the contract, as a webhook's would
    valid = {t: validate_event(e, now=NOW) for t, e in events.items()}
    assert all(isinstance(v, ValidEvent) for v in valid.values()), valid
    customer = events["customer.upserted"]["data"]
    assert customer == {
        "external_id": "C-1",
        "last_name": "Иванова",
        "first_name": "Анна",
        "middle_name": "Сергеевна",
        "phones": ["8 (912) 345-67-89", "+7 903 111-22-33"],
        "emails": ["Anna@Mail.ru"],
        "birth_date": "1988-04-17",
        "region": "RU-MOW",
    }
    sale = events["vehicle.sold"]
    assert sale["occurred_at"] == "2019-03-15T12:00:00+03:00"
    assert sale["data"]["price"] == 650000 and sale["data"]["condition"] == "new"  # type: ignore[index]
    visit = events["service_order.closed"]["data"]
    assert visit["mileage_km"] == 45300 and visit["jobs"] == [] and visit["total_amount"] == 0  # type: ignore[index]
    # And the customer is dated by the row's latest date
    assert events["customer.upserted"]["occurred_at"] == "2025-11-20T12:00:00+03:00"


def test_ids_come_from_content_so_repeats_and_reruns_are_duplicates() -> None:
    first = map_row(row(external_id="C-1", phone="89123456789", vin="XTA210740C1234567"), context())
    second_car = map_row(
        row(external_id="C-1", phone="89123456789", vin="NZE141-1234567"), context()
    )
    again = map_row(row(external_id="C-1", phone="89123456789", vin="XTA210740C1234567"), context())
    new_phone = map_row(
        row(external_id="C-1", phone="89031112233", vin="XTA210740C1234567"), context()
    )

    assert [e["id"] for e in first.events] == [e["id"] for e in again.events]
    assert first.events[0]["id"] == second_car.events[0]["id"]  # one person, two car rows
    assert first.events[1]["id"] != second_car.events[1]["id"]
    assert new_phone.events[0]["id"] != first.events[0]["id"]  # a changed record is an update
    assert new_phone.events[1]["id"] == first.events[1]["id"]
    assert all(str(e["id"]).startswith("import:") for e in first.events)


def test_times_come_from_the_row_or_the_stated_export_never_from_the_clock() -> None:
    undated = map_row(row(external_id="C-1", vin="XTA210740C1234567"), context())
    assert undated.events[0]["occurred_at"] == FLOOR.isoformat()
    assert [w.message for w in undated.warnings] == [UNDATED]

    exported = datetime(2026, 10, 1, 9, tzinfo=MOSCOW)
    stated = map_row(row(external_id="C-1", vin="XTA210740C1234567"), context(exported))
    assert {e["occurred_at"] for e in stated.events} == {"2026-10-01T09:00:00+03:00"}
    assert stated.warnings == []


def test_a_car_without_a_sale_is_registered_and_fills_make_and_year_from_the_vin() -> None:
    events = events_of(external_id="C-1", vin="XTA210740C1234567", model="2107")

    assert "vehicle.sold" not in events
    data = events["vehicle.registered"]["data"]
    assert data["make"] == "Lada" and isinstance(data["year"], int)  # type: ignore[index]


def test_unreadable_required_values_are_passed_on_for_validation_to_name() -> None:
    # Given a visit without a mileage and a sale with an impossible date
    events = events_of(
        external_id="C-1",
        vin="XTA210740C1234567",
        make="Lada",
        model="Granta",
        year="2019",
        purchase_date="31.02.2019",
        sale_price="650000",
        last_service_date="20.11.2025",
    )
    sold = validate_event(events["vehicle.sold"], now=NOW)
    visit = validate_event(events["service_order.closed"], now=NOW)
    # Then the contract's validation names exactly those fields
    assert isinstance(sold, list) and [e.field for e in sold] == ["data.sold_at"]
    assert isinstance(visit, list) and [e.field for e in visit] == ["data.mileage_km"]


def test_unreadable_optional_values_are_left_out_with_a_warning() -> None:
    mapped = map_row(
        row(external_id="C-1", birth_date="31.02.1990", region="Нарния", condition="?"),
        context(datetime(2026, 1, 1, tzinfo=UTC)),
    )

    assert set(mapped.events[0]["data"]) == {"external_id"}  # type: ignore[arg-type]
    assert [(w.column, w.message.split(";")[0]) for w in mapped.warnings] == [
        ("Дата рождения", "not a date (DD.MM.YYYY or YYYY-MM-DD)"),
        ("Регион", "not an ISO 3166-2 code or a known region name"),
    ]


def test_an_empty_row_makes_no_event() -> None:
    assert map_row(row(), context()).events == []
