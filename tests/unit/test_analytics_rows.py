"""The analytics view's rows (pure) and its views over given rows (DuckDB, no AWS)."""

from datetime import UTC, date, timedelta
from pathlib import Path

import pytest

from trigly.analytics import files
from trigly.analytics.rows import customer_rows, json_row, tombstone
from trigly.analytics.schema import CUSTOMERS, TABLES
from trigly.analytics.view import build_views, connect, view_from_rows
from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.intent import HistoryEntry, MessagePurpose, MessageState, MessageStatus
from trigly.messaging.message import StoredMessage
from trigly.platform import clock
from trigly.profiles.model import ConsentState, CustomerProfile
from trigly.profiles.records import (
    CustomerHistory,
    CustomerVehicle,
    Purchase,
    ServiceVisit,
    VisitJob,
    WebVisit,
)
from trigly.profiles.views import estimated_mileage


def _customer() -> tuple[CustomerProfile, CustomerHistory]:
    now = clock.now()
    profile = CustomerProfile(
        customer_id="cus_1",
        created_at=now - timedelta(days=900),
        updated_at=now - timedelta(days=1),
        city="Москва",
        region="RU-MOW",
        preferred_channel=Channel.SMS,
        consents={
            Channel.SMS: {
                ConsentPurpose.MARKETING: ConsentState(granted=True, at=now, source="dms"),
                ConsentPurpose.SERVICE: ConsentState(granted=False, at=now, source="dms"),
            }
        },
    )
    bought = now - timedelta(days=800)
    car = CustomerVehicle(
        vin="XW8ZZZ61ZJG000001",
        make="Kia",
        model="Rio",
        year=bought.year,
        since=bought,
        mileage_km=30_000,
        last_reading_at=now - timedelta(days=100),
        daily_km=40.0,
        next_maintenance={"due_on": (now + timedelta(days=20)).date().isoformat()},
        warranty_ends_on=(now + timedelta(days=1000)).date(),
    )
    old_car = CustomerVehicle(
        vin="XW8ZZZ61ZJG000002",
        make="Lada",
        model="Vesta",
        year=2015,
        since=now - timedelta(days=3000),
        until=bought,
        mileage_km=120_000,
    )
    visits = [
        ServiceVisit(
            order_id="ro1",
            vin=car.vin,
            closed_at=now - timedelta(days=100),
            mileage_km=30_000,
            total_amount=12_000.0,
            currency="RUB",
            jobs=[VisitJob(name="ТО-2", kind="maintenance", amount=8000)],
        ),
        ServiceVisit(
            order_id="ro2",
            vin=car.vin,
            closed_at=now - timedelta(days=400),
            mileage_km=15_000,
            total_amount=3_000.0,
            currency="RUB",
            jobs=[VisitJob(name="Шиномонтаж", kind="repair", amount=3000)],
        ),
    ]
    purchase = Purchase(
        deal_id="d1",
        vin=car.vin,
        make="Kia",
        model="Rio",
        year=bought.year,
        sold_at=bought,
        price=1_500_000.0,
        currency="RUB",
        condition="new",
    )
    clicked = now - timedelta(days=3)
    message = StoredMessage(
        message_id="msg_1",
        customer_id="cus_1",
        idempotency_key="k",
        kind="journey",
        purpose=MessagePurpose.SERVICE,
        created_at=clicked - timedelta(hours=2),
        channel=Channel.SMS,
        state=MessageState(
            status=MessageStatus.CLICKED,
            history=(
                HistoryEntry(status=MessageStatus.SENT, at=clicked - timedelta(hours=2)),
                HistoryEntry(status=MessageStatus.DELIVERED, at=clicked - timedelta(hours=1)),
                HistoryEntry(status=MessageStatus.CLICKED, at=clicked),
            ),
        ),
        intent={"journey_id": "jrn_1"},
    )
    web = [
        WebVisit(at=now - timedelta(days=5), page="model", model="Rio"),
        WebVisit(at=now - timedelta(days=10), page="model", model="Rio"),
        WebVisit(at=now - timedelta(days=200), page="model", model="Sportage"),
    ]
    history = CustomerHistory(
        cars=[car, old_car], visits=visits, purchases=[purchase], messages=[message], web_visits=web
    )
    return profile, history


def test_a_customer_becomes_one_row_per_table_entry_with_the_profile_derivations() -> None:
    profile, history = _customer()
    now = clock.now()
    rows = customer_rows(profile, history, "01VERSION", now)
    assert set(rows) == {t.name for t in TABLES}
    for table_rows in rows.values():
        assert all(r["customer_id"] == "cus_1" and r["version"] == "01VERSION" for r in table_rows)
    (customer,) = rows["customers"]
    assert customer["erased"] is False
    assert customer["consent_sms_marketing"] is True
    assert customer["consent_sms_service"] is False
    assert customer["consent_email_marketing"] is False
    assert customer["visits_count"] == 2
    assert customer["visits_total_amount"] == 15_000.0
    assert customer["last_visit_on"] == (now - timedelta(days=100)).astimezone(UTC).date()
    assert customer["purchases_count"] == 1
    assert customer["spend_total"] == 1_515_000.0
    assert customer["last_clicked_on"] == (now - timedelta(days=3)).astimezone(UTC).date()
    assert customer["web_last_visit_on"] == (now - timedelta(days=5)).astimezone(UTC).date()
    cars = {c["vin"]: c for c in rows["cars"]}
    current = cars["XW8ZZZ61ZJG000001"]
    assert current["current"] is True and current["condition"] == "new"
    assert current["maintenance_due_on"] == (now + timedelta(days=20)).date()
    assert current["first_registered_on"] == history.purchases[0].sold_at.astimezone(UTC).date()
    past = cars["XW8ZZZ61ZJG000002"]
    assert past["current"] is False and past["km_per_day"] == 0.0
    assert past["maintenance_due_on"] is None and past["mileage_km"] == 120_000
    assert [v["maintenance"] for v in rows["visits"]] == [True, False]
    # Only models viewed in the last 90 days, each once at its latest view.
    assert rows["model_views"] == [
        {
            "customer_id": "cus_1",
            "version": "01VERSION",
            "make": "Kia",
            "model": "Rio",
            "last_viewed_on": (now - timedelta(days=5)).astimezone(UTC).date(),
        }
    ]
    (message,) = rows["messages"]
    assert message["status"] == "clicked" and message["journey_id"] == "jrn_1"
    delivered = history.messages[0].state.history[1]
    assert delivered.status is MessageStatus.DELIVERED
    assert message["delivered_at"] == delivered.at


def test_the_mileage_line_follows_the_profiles_estimate() -> None:
    profile, history = _customer()
    now = clock.now()
    (car_row, _) = customer_rows(profile, history, "v", now)["cars"]
    car = history.cars[0]
    assert car_row["mileage_km"] == estimated_mileage(car, now)
    assert car_row["mileage_on"] == now.astimezone(UTC).date()
    in_a_month = estimated_mileage(car, now + timedelta(days=30))
    assert in_a_month is not None
    projected = car_row["mileage_km"] + car_row["km_per_day"] * 30
    assert abs(projected - in_a_month) <= 1
    assert car_row["km_per_day"] > 0


def test_a_tombstone_is_one_erased_customers_row() -> None:
    assert tombstone("cus_9", "v9") == {
        "customers": [{"customer_id": "cus_9", "version": "v9", "erased": True}]
    }


def test_a_change_file_line_has_every_column_and_iso_dates() -> None:
    now = clock.now()
    line = json_row(
        CUSTOMERS,
        {"customer_id": "c", "version": "v", "birth_date": date(1980, 5, 1), "updated_at": now},
    )
    assert list(line) == list(CUSTOMERS.column_names)
    assert line["birth_date"] == "1980-05-01"
    assert line["updated_at"] == now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with pytest.raises(ValueError, match="unknown columns"):
        json_row(CUSTOMERS, {"customer_id": "c", "colour": "red"})


def test_views_show_the_newest_version_of_each_customer_and_no_erased_one() -> None:
    con = view_from_rows(
        {
            "customers": [
                {"customer_id": "a", "version": "01", "city": "Тула"},
                {"customer_id": "a", "version": "02", "city": "Москва"},
                {"customer_id": "b", "version": "01", "city": "Казань"},
                {"customer_id": "b", "version": "03", "erased": True},
            ],
            "cars": [
                {"customer_id": "a", "version": "01", "vin": "OLD"},
                {"customer_id": "a", "version": "02", "vin": "NEW"},
                {"customer_id": "b", "version": "01", "vin": "GONE"},
                {"customer_id": "c", "vin": "ROWS-ONLY"},  # gets a customers row of its own
            ],
        }
    )
    assert con.sql("SELECT customer_id, city FROM customers ORDER BY 1").fetchall() == [
        ("a", "Москва"),
        ("c", None),
    ]
    assert con.sql("SELECT vin FROM cars ORDER BY 1").fetchall() == [("NEW",), ("ROWS-ONLY",)]
    assert con.sql("SELECT count(*) FROM visits").fetchall() == [(0,)]


def test_snapshot_plus_changes_plus_tombstones(tmp_path: Path) -> None:
    # A snapshot written as compaction writes it, then changes and an erasure on top.
    base = view_from_rows(
        {
            "customers": [
                {"customer_id": "a", "version": "01", "city": "Тула"},
                {"customer_id": "b", "version": "01", "city": "Казань"},
                {"customer_id": "d", "version": "05", "city": "Омск"},
            ],
            "cars": [{"customer_id": "a", "version": "01", "vin": "A1"}],
        },
        tmp_path,
    )
    snapshot = {}
    for table in TABLES:
        path = tmp_path / f"snap_{table.name}.parquet"
        base.execute(f"COPY (SELECT * FROM {table.name}) TO '{path}' (FORMAT parquet)")
        snapshot[table.name] = path
    later = tmp_path / "later"
    later.mkdir()
    change = view_from_rows(
        {
            "customers": [
                {"customer_id": "a", "version": "02", "city": "Москва"},
                {"customer_id": "d", "version": "04", "city": "старая версия"},  # late, older
            ],
            "cars": [{"customer_id": "a", "version": "02", "vin": "A2"}],
        },
        later,
    )
    change.close()
    con = build_views(connect(), snapshot, [later / f"rows{files.CHANGES_SUFFIX}"], {"b": "03"})
    assert con.sql("SELECT customer_id, city FROM customers ORDER BY 1").fetchall() == [
        ("a", "Москва"),
        ("d", "Омск"),
    ]
    assert con.sql("SELECT customer_id, vin FROM cars").fetchall() == [("a", "A2")]


def test_the_projection_function_loads_no_duckdb() -> None:
    # Its cold start (ADR 0019): DuckDB is the compaction's and the readers' only.
    import subprocess
    import sys

    code = "import sys, functions.analytics.app; print('duckdb' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    assert found.stdout.strip() == "False"
