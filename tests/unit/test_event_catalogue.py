"""The inbound event catalogue of CONTRACT §2, type by type and field by field.

Every event type has a valid example that is accepted and typed; every field of every type has
wrong values (wrong type, out of range, unknown enum value, missing when required, a time
without an offset, a happened-time in the future) whose error names exactly that field.
"""

import copy
import math
import types
import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from trigly.events.customer import ConsentGrant, CustomerConsentChanged, CustomerUpserted
from trigly.events.marketing import CallTracked, WebActivity
from trigly.events.sales import LeadCreated, OrderStatusChanged, ShowroomVisited, TestDriveChanged
from trigly.events.service import (
    MAX_JOBS,
    MAX_PARTS,
    PartsPurchased,
    ServiceAppointmentChanged,
    ServiceJob,
    ServiceOrderClosed,
)
from trigly.events.types import Channel
from trigly.events.validation import PAYLOADS, ValidEvent, validate_event
from trigly.events.vehicles import (
    Financing,
    InsurancePolicy,
    InventoryChanged,
    VehicleOdometer,
    VehicleRegistered,
    VehicleSold,
)
from trigly.platform.errors import FieldError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NAIVE = "2026-11-20T10:15:00"
EPOCH = 1763622900
FUTURE = "2026-11-27T12:00:00+00:00"  # two days after NOW
MISSING = object()  # the field is left out
CHANNELS = {channel.value for channel in Channel}

CATALOGUE: dict[str, type[BaseModel]] = {
    "customer.upserted": CustomerUpserted,
    "customer.consent_changed": CustomerConsentChanged,
    "vehicle.sold": VehicleSold,
    "vehicle.registered": VehicleRegistered,
    "vehicle.odometer": VehicleOdometer,
    "insurance.policy": InsurancePolicy,
    "inventory.changed": InventoryChanged,
    "service_order.closed": ServiceOrderClosed,
    "service_appointment.changed": ServiceAppointmentChanged,
    "parts.purchased": PartsPurchased,
    "test_drive.changed": TestDriveChanged,
    "showroom.visited": ShowroomVisited,
    "lead.created": LeadCreated,
    "order.status_changed": OrderStatusChanged,
    "web.activity": WebActivity,
    "call.tracked": CallTracked,
}

# The smallest valid `data` of each type: required fields only.
MINIMAL: dict[str, dict[str, Any]] = {
    "customer.upserted": {"external_id": "C-1"},
    "customer.consent_changed": {
        "customer_external_id": "C-1",
        "channel": "email",
        "purpose": "service",
        "granted": True,
        "at": "2026-11-20T10:00:00+03:00",
        "source": "web_form",
    },
    "vehicle.sold": {
        "deal_id": "D-1",
        "customer_external_id": "C-1",
        "vin": "XTA210740C1234567",
        "make": "Lada",
        "model": "Vesta",
        "year": 2026,
        "sold_at": "2026-11-20T10:00:00+03:00",
        "price": 1500000,
        "condition": "new",
    },
    "vehicle.registered": {
        "customer_external_id": "C-1",
        "vin": "NZE141-1234567",
        "make": "Toyota",
        "model": "Corolla Fielder",
        "year": 2008,
    },
    "vehicle.odometer": {
        "vin": "XTA210740C1234567",
        "mileage_km": 0,
        "at": "2026-11-20T10:00:00+03:00",
        "source": "manual",
    },
    "insurance.policy": {
        "policy_id": "P-1",
        "customer_external_id": "C-1",
        "vin": "XTA210740C1234567",
        "kind": "kasko",
        "ends_on": "2027-11-19",
    },
    "inventory.changed": {
        "stock_id": "S-1",
        "make": "Haval",
        "model": "Jolion",
        "year": 2026,
        "condition": "new",
        "price": 2199000,
        "status": "reserved",
    },
    "service_order.closed": {
        "order_id": "RO-1",
        "customer_external_id": "C-1",
        "vin": "XTA210740C1234567",
        "closed_at": "2026-11-20T10:00:00+03:00",
        "mileage_km": 45000,
        "jobs": [],
        "total_amount": 0,
    },
    "service_appointment.changed": {
        "appointment_id": "A-1",
        "customer_external_id": "C-1",
        "status": "no_show",
        "starts_at": "2026-11-20T10:00:00+03:00",
    },
    "parts.purchased": {
        "order_id": "PS-1",
        "customer_external_id": "C-1",
        "at": "2026-11-20T10:00:00+03:00",
        "items": [{"name": "Коврики", "category": "accessories", "qty": 1, "amount": 3500}],
        "total_amount": 3500,
    },
    "test_drive.changed": {
        "booking_id": "TD-1",
        "customer_external_id": "C-1",
        "model": "Tiggo 4",
        "status": "completed",
        "starts_at": "2026-11-20T10:00:00+03:00",
    },
    "showroom.visited": {
        "visit_id": "V-1",
        "customer_external_id": "C-1",
        "at": "2026-11-20T10:00:00+03:00",
        "outcome": "thinking",
    },
    "lead.created": {"lead_id": "L-1", "contact": {"email": "lead@example.ru"}, "source": "chat"},
    "order.status_changed": {"order_id": "FO-1", "customer_external_id": "C-1", "status": "ready"},
    "web.activity": {"customer_external_id": "C-1", "at": "2026-11-20T10:00:00Z", "page": "price"},
    "call.tracked": {
        "call_id": "CT-1",
        "tracking_number": "+74951500011",
        "caller_phone": "89161234567",
        "at": "2026-11-20T10:00:00+03:00",
        "duration_s": 0,
        "answered": False,
    },
}


def example(event_type: str) -> dict[str, Any]:
    """The full example the OpenAPI document shows for the type (every field filled in)."""
    extra = CATALOGUE[event_type].model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    examples = extra["examples"]
    assert isinstance(examples, list)
    return copy.deepcopy(examples[0])


def envelope(event_type: str, data: object) -> dict[str, Any]:
    return {
        "id": "evt-1",
        "type": event_type,
        "occurred_at": "2026-11-20T10:15:00+03:00",
        "data": data,
    }


def changed(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A copy of `data` with the dotted `path` set to `value` (or removed for MISSING)."""
    result = copy.deepcopy(data)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is MISSING:
        node.pop(last, None)
    else:
        node[last] = value
    return result


def error_fields(result: ValidEvent | list[FieldError]) -> list[str]:
    assert isinstance(result, list), "expected the event to be rejected"
    return [error.field for error in result]


# --- every type: a valid example is accepted and typed ----------------------------------------


def test_the_catalogue_holds_every_type_of_the_contract() -> None:
    assert dict(PAYLOADS) == CATALOGUE


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
@pytest.mark.parametrize("shape", ["full", "minimal"])
def test_a_valid_event_of_every_type_is_accepted_and_typed(event_type: str, shape: str) -> None:
    # Given a valid event of the type (every field, or the required ones only)
    data = example(event_type) if shape == "full" else copy.deepcopy(MINIMAL[event_type])
    # When it is validated
    result = validate_event(envelope(event_type, data), NOW)
    # Then it is accepted as the type's own model
    assert isinstance(result, ValidEvent), result
    assert type(result.payload) is CATALOGUE[event_type]
    assert result.type == event_type


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
def test_unknown_fields_are_ignored(event_type: str) -> None:
    data = {**MINIMAL[event_type], "future_field": {"anything": [1, 2]}}
    assert isinstance(validate_event(envelope(event_type, data), NOW), ValidEvent)


def test_values_are_typed_and_normalized() -> None:
    # Given a sale with a lower-case VIN, a spaced Cyrillic plate and money as numbers
    data = example("vehicle.sold") | {
        "vin": " xweph81adk0001234 ",
        "plate": "а 123 вс 777",
        "trade_in_vin": "nze141-1234567",
        "currency": "rub",
    }
    # When it is validated
    result = validate_event(envelope("vehicle.sold", data), NOW)
    # Then the payload carries typed, normalized values
    assert isinstance(result, ValidEvent)
    sale = result.payload
    assert isinstance(sale, VehicleSold)
    assert (sale.vin, sale.plate, sale.trade_in_vin) == (
        "XWEPH81ADK0001234",
        "А123ВС777",
        "NZE141-1234567",
    )
    assert sale.price == Decimal("1899900") and isinstance(sale.price, Decimal)
    assert sale.currency == "RUB"
    assert sale.sold_at == datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    assert isinstance(sale.financing, Financing)
    assert sale.financing.ends_on == date(2029, 11, 20)
    assert sale.financing.monthly_payment == Decimal("48750.5")


def test_a_service_order_keeps_declined_jobs_and_fractional_quantities() -> None:
    result = validate_event(envelope("service_order.closed", example("service_order.closed")), NOW)
    assert isinstance(result, ValidEvent)
    order = result.payload
    assert isinstance(order, ServiceOrderClosed)
    assert [job.declined for job in order.jobs] == [False, True]
    assert all(isinstance(job, ServiceJob) for job in order.jobs)
    assert order.parts is not None and order.parts[1].qty == Decimal("4.5")


def test_money_serializes_as_a_json_number() -> None:
    result = validate_event(envelope("service_order.closed", example("service_order.closed")), NOW)
    assert isinstance(result, ValidEvent)
    dumped = result.payload.model_dump(mode="json")
    assert dumped["total_amount"] == 11350.75
    assert dumped["jobs"][0]["amount"] == 6500


# --- every field: a wrong value is a field error naming that field -----------------------------

TOO_LONG = "x" * 201
NOT_A_VIN = "XTA210740C123456"  # 16 characters

# (event type, dotted path in `data`, wrong value[, the field the error names if not `path`])
WRONG: list[tuple[Any, ...]] = [
    # customer.upserted
    ("customer.upserted", "external_id", MISSING),
    ("customer.upserted", "external_id", ""),
    ("customer.upserted", "external_id", 42),
    ("customer.upserted", "external_id", "x" * 129),
    ("customer.upserted", "first_name", ""),
    ("customer.upserted", "first_name", "x" * 101),
    ("customer.upserted", "last_name", 42),
    ("customer.upserted", "middle_name", ["Игоревна"]),
    ("customer.upserted", "phones", "8 912 345 67 89"),
    ("customer.upserted", "phones", ["89123456789"] * 21),
    ("customer.upserted", "phones.0", 42),
    ("customer.upserted", "emails", "anna@mail.ru"),
    ("customer.upserted", "emails.0", ""),
    ("customer.upserted", "birth_date", "17.04.1988"),
    ("customer.upserted", "birth_date", 577238400),
    ("customer.upserted", "birth_date", "1988-04-17T00:00:00"),
    ("customer.upserted", "birth_date", "2027-01-01"),
    ("customer.upserted", "birth_date", "1899-12-31"),
    ("customer.upserted", "city", ""),
    ("customer.upserted", "region", "Moscow"),
    ("customer.upserted", "timezone", "Mars/Olympus"),
    ("customer.upserted", "preferred_channel", "pigeon"),
    ("customer.upserted", "consents", ["sms"]),
    ("customer.upserted", "consents.sms.marketing", "maybe"),
    ("customer.upserted", "consents.sms.service", "maybe"),
    ("customer.upserted", "consents.sms.at", MISSING),
    ("customer.upserted", "consents.sms.at", NAIVE),
    ("customer.upserted", "consents.sms.at", EPOCH),
    ("customer.upserted", "consents.sms.at", FUTURE),
    ("customer.upserted", "consents.sms.source", MISSING),
    ("customer.upserted", "consents.sms.text_version", 3),
    ("customer.upserted", "location_id", ""),
    ("customer.upserted", "anonymous_id", 42),
    # customer.consent_changed
    ("customer.consent_changed", "customer_external_id", MISSING),
    ("customer.consent_changed", "channel", "pigeon"),
    ("customer.consent_changed", "channel", MISSING),
    ("customer.consent_changed", "purpose", "advertising"),
    ("customer.consent_changed", "purpose", MISSING),
    ("customer.consent_changed", "granted", "maybe"),
    ("customer.consent_changed", "granted", MISSING),
    ("customer.consent_changed", "at", NAIVE),
    ("customer.consent_changed", "at", EPOCH),
    ("customer.consent_changed", "at", FUTURE),
    ("customer.consent_changed", "at", MISSING),
    ("customer.consent_changed", "source", ""),
    ("customer.consent_changed", "source", MISSING),
    # vehicle.sold
    ("vehicle.sold", "deal_id", MISSING),
    ("vehicle.sold", "customer_external_id", 42),
    ("vehicle.sold", "vin", NOT_A_VIN),
    ("vehicle.sold", "vin", "XTA21074OC1234567"),
    ("vehicle.sold", "vin", 42),
    ("vehicle.sold", "vin", MISSING),
    ("vehicle.sold", "make", ""),
    ("vehicle.sold", "make", MISSING),
    ("vehicle.sold", "model", MISSING),
    ("vehicle.sold", "trim", TOO_LONG),
    ("vehicle.sold", "year", 1949),
    ("vehicle.sold", "year", 2028),
    ("vehicle.sold", "year", "2026"),
    ("vehicle.sold", "year", 2026.5),
    ("vehicle.sold", "year", True),
    ("vehicle.sold", "year", MISSING),
    ("vehicle.sold", "sold_at", NAIVE),
    ("vehicle.sold", "sold_at", EPOCH),
    ("vehicle.sold", "sold_at", str(EPOCH)),
    ("vehicle.sold", "sold_at", "2026-11-20"),
    ("vehicle.sold", "sold_at", FUTURE),
    ("vehicle.sold", "sold_at", MISSING),
    ("vehicle.sold", "price", -1),
    ("vehicle.sold", "price", "1899900"),
    ("vehicle.sold", "price", math.nan),
    ("vehicle.sold", "price", math.inf),
    ("vehicle.sold", "price", True),
    ("vehicle.sold", "price", MISSING),
    ("vehicle.sold", "currency", "rubles"),
    ("vehicle.sold", "currency", 643),
    ("vehicle.sold", "condition", "broken"),
    ("vehicle.sold", "condition", MISSING),
    ("vehicle.sold", "mileage_km", -1),
    ("vehicle.sold", "mileage_km", 2_000_001),
    ("vehicle.sold", "mileage_km", 12.5),
    ("vehicle.sold", "mileage_km", "12"),
    ("vehicle.sold", "financing", "loan"),
    ("vehicle.sold", "financing.type", "barter"),
    ("vehicle.sold", "financing.type", MISSING),
    ("vehicle.sold", "financing.term_months", 0),
    ("vehicle.sold", "financing.term_months", 1.5),
    ("vehicle.sold", "financing.monthly_payment", -1),
    ("vehicle.sold", "financing.ends_on", "20.11.2029"),
    ("vehicle.sold", "financing.ends_on", "2029-11-20T00:00:00+03:00"),
    ("vehicle.sold", "trade_in_vin", "123"),
    ("vehicle.sold", "referral_code", ""),
    ("vehicle.sold", "location_id", ""),
    ("vehicle.sold", "salesperson", 42),
    ("vehicle.sold", "plate", "A 123 !!"),
    ("vehicle.sold", "plate", "А123ВС777" * 2),
    ("vehicle.sold", "plate", 42),
    # vehicle.registered
    ("vehicle.registered", "customer_external_id", MISSING),
    ("vehicle.registered", "vin", "NZE141-123"),
    ("vehicle.registered", "vin", MISSING),
    ("vehicle.registered", "make", MISSING),
    ("vehicle.registered", "model", 42),
    ("vehicle.registered", "year", 1900),
    ("vehicle.registered", "year", MISSING),
    ("vehicle.registered", "mileage_km", -5),
    ("vehicle.registered", "purchased_on", "2030-01-01"),
    ("vehicle.registered", "purchased_on", "15.06.2023"),
    ("vehicle.registered", "plate", ""),
    # vehicle.odometer
    ("vehicle.odometer", "vin", NOT_A_VIN),
    ("vehicle.odometer", "vin", MISSING),
    ("vehicle.odometer", "mileage_km", -1),
    ("vehicle.odometer", "mileage_km", 2_000_001),
    ("vehicle.odometer", "mileage_km", "64210"),
    ("vehicle.odometer", "mileage_km", MISSING),
    ("vehicle.odometer", "at", NAIVE),
    ("vehicle.odometer", "at", FUTURE),
    ("vehicle.odometer", "at", MISSING),
    ("vehicle.odometer", "source", "obd"),
    ("vehicle.odometer", "source", MISSING),
    ("vehicle.odometer", "plate", 42),
    # insurance.policy
    ("insurance.policy", "policy_id", MISSING),
    ("insurance.policy", "customer_external_id", MISSING),
    ("insurance.policy", "vin", NOT_A_VIN),
    ("insurance.policy", "kind", "casco"),
    ("insurance.policy", "kind", MISSING),
    ("insurance.policy", "ends_on", "2027/11/19"),
    ("insurance.policy", "ends_on", 1826582400),
    ("insurance.policy", "ends_on", MISSING),
    ("insurance.policy", "plate", "!"),
    # inventory.changed
    ("inventory.changed", "stock_id", MISSING),
    ("inventory.changed", "vin", NOT_A_VIN),
    ("inventory.changed", "make", MISSING),
    ("inventory.changed", "model", MISSING),
    ("inventory.changed", "trim", ""),
    ("inventory.changed", "year", 3000),
    ("inventory.changed", "condition", "mint"),
    ("inventory.changed", "condition", MISSING),
    ("inventory.changed", "mileage_km", -1),
    ("inventory.changed", "price", -1),
    ("inventory.changed", "price", MISSING),
    ("inventory.changed", "currency", "RU"),
    ("inventory.changed", "status", "gone"),
    ("inventory.changed", "status", MISSING),
    ("inventory.changed", "location_id", 42),
    ("inventory.changed", "plate", "!"),
    # service_order.closed
    ("service_order.closed", "order_id", MISSING),
    ("service_order.closed", "customer_external_id", MISSING),
    ("service_order.closed", "vin", NOT_A_VIN),
    ("service_order.closed", "vin", MISSING),
    ("service_order.closed", "opened_at", NAIVE),
    ("service_order.closed", "opened_at", FUTURE),
    ("service_order.closed", "opened_at", "2026-11-20T11:00:00+03:00"),  # after closed_at
    ("service_order.closed", "closed_at", NAIVE),
    ("service_order.closed", "closed_at", EPOCH),
    ("service_order.closed", "closed_at", FUTURE),
    ("service_order.closed", "closed_at", MISSING),
    ("service_order.closed", "mileage_km", -1),
    ("service_order.closed", "mileage_km", MISSING),
    ("service_order.closed", "jobs", MISSING),
    ("service_order.closed", "jobs", "ТО-1"),
    (
        "service_order.closed",
        "jobs",
        [{"name": "ТО", "kind": "maintenance", "amount": 1}] * (MAX_JOBS + 1),
    ),
    ("service_order.closed", "jobs.0.code", 42),
    ("service_order.closed", "jobs.0.name", ""),
    ("service_order.closed", "jobs.0.name", MISSING),
    ("service_order.closed", "jobs.0.kind", "wash"),
    ("service_order.closed", "jobs.0.kind", MISSING),
    ("service_order.closed", "jobs.0.amount", -5),
    ("service_order.closed", "jobs.0.amount", "6500"),
    ("service_order.closed", "jobs.0.amount", math.nan),
    ("service_order.closed", "jobs.0.amount", MISSING),
    ("service_order.closed", "jobs.1.declined", "maybe"),
    ("service_order.closed", "parts", {"sku": "x"}),
    (
        "service_order.closed",
        "parts",
        [{"name": "Фильтр", "qty": 1, "amount": 1}] * (MAX_PARTS + 1),
    ),
    ("service_order.closed", "parts.0.sku", ""),
    ("service_order.closed", "parts.0.name", MISSING),
    ("service_order.closed", "parts.0.qty", 0),
    ("service_order.closed", "parts.0.qty", -1),
    ("service_order.closed", "parts.0.qty", "1"),
    ("service_order.closed", "parts.0.qty", MISSING),
    ("service_order.closed", "parts.1.amount", -1),
    ("service_order.closed", "parts.1.amount", MISSING),
    ("service_order.closed", "total_amount", -1),
    ("service_order.closed", "total_amount", MISSING),
    ("service_order.closed", "currency", "RUBL"),
    ("service_order.closed", "location_id", ""),
    ("service_order.closed", "advisor", ""),
    ("service_order.closed", "loyalty_points_redeemed", -1),
    ("service_order.closed", "loyalty_points_redeemed", 1.5),
    ("service_order.closed", "plate", "!!"),
    # service_appointment.changed
    ("service_appointment.changed", "appointment_id", MISSING),
    ("service_appointment.changed", "customer_external_id", MISSING),
    ("service_appointment.changed", "vin", NOT_A_VIN),
    ("service_appointment.changed", "status", "moved"),
    ("service_appointment.changed", "status", MISSING),
    ("service_appointment.changed", "starts_at", NAIVE),
    ("service_appointment.changed", "starts_at", EPOCH),
    ("service_appointment.changed", "starts_at", MISSING),
    ("service_appointment.changed", "location_id", ""),
    ("service_appointment.changed", "source", ""),
    ("service_appointment.changed", "plate", "!"),
    # parts.purchased
    ("parts.purchased", "order_id", MISSING),
    ("parts.purchased", "customer_external_id", MISSING),
    ("parts.purchased", "at", FUTURE),
    ("parts.purchased", "at", NAIVE),
    ("parts.purchased", "at", MISSING),
    ("parts.purchased", "items", []),
    ("parts.purchased", "items", MISSING),
    ("parts.purchased", "items.0.sku", 42),
    ("parts.purchased", "items.0.name", MISSING),
    ("parts.purchased", "items.0.category", MISSING),
    ("parts.purchased", "items.0.qty", 0),
    ("parts.purchased", "items.0.amount", -1),
    ("parts.purchased", "total_amount", "43960"),
    ("parts.purchased", "currency", "XX"),
    ("parts.purchased", "location_id", ""),
    # test_drive.changed (the example names the person by `contact`)
    ("test_drive.changed", "booking_id", MISSING),
    ("test_drive.changed", "contact", "Дмитрий"),
    ("test_drive.changed", "contact.name", MISSING),
    ("test_drive.changed", "contact.phone", 42),
    ("test_drive.changed", "contact.email", "x" * 255),
    ("test_drive.changed", "model", MISSING),
    ("test_drive.changed", "status", "done"),
    ("test_drive.changed", "status", MISSING),
    ("test_drive.changed", "starts_at", NAIVE),
    ("test_drive.changed", "starts_at", MISSING),
    ("test_drive.changed", "location_id", ""),
    # showroom.visited
    ("showroom.visited", "visit_id", MISSING),
    ("showroom.visited", "customer_external_id", MISSING),
    ("showroom.visited", "at", FUTURE),
    ("showroom.visited", "at", NAIVE),
    ("showroom.visited", "at", MISSING),
    ("showroom.visited", "interest", "Tiggo"),
    ("showroom.visited", "interest.model", ""),
    ("showroom.visited", "interest.condition", "mint"),
    ("showroom.visited", "interest.budget", -1),
    ("showroom.visited", "outcome", "maybe"),
    ("showroom.visited", "outcome", MISSING),
    ("showroom.visited", "reason", "weather"),
    # lead.created
    ("lead.created", "lead_id", MISSING),
    ("lead.created", "contact", MISSING),
    ("lead.created", "contact", "89031112233"),
    ("lead.created", "contact.name", 42),
    ("lead.created", "contact.phone", 42),
    ("lead.created", "contact.email", ""),
    ("lead.created", "anonymous_id", ""),
    ("lead.created", "source", "billboard"),
    ("lead.created", "source", MISSING),
    ("lead.created", "interest", ["Monjaro"]),
    ("lead.created", "interest.model", TOO_LONG),
    ("lead.created", "interest.budget", "a lot"),
    ("lead.created", "interest.condition", "mint"),
    ("lead.created", "utm", "utm_source=yandex"),
    ("lead.created", "utm", {f"utm_{n}": "x" for n in range(21)}),
    ("lead.created", "utm.utm_source", 42),
    ("lead.created", "utm.utm_source", "x" * 257),
    # order.status_changed
    ("order.status_changed", "order_id", MISSING),
    ("order.status_changed", "customer_external_id", MISSING),
    ("order.status_changed", "status", "lost"),
    ("order.status_changed", "status", MISSING),
    ("order.status_changed", "eta", NAIVE),
    ("order.status_changed", "eta", EPOCH),
    # web.activity (the example names the visitor by `anonymous_id`)
    ("web.activity", "customer_external_id", 42),
    ("web.activity", "anonymous_id", ""),
    ("web.activity", "at", FUTURE),
    ("web.activity", "at", NAIVE),
    ("web.activity", "at", MISSING),
    ("web.activity", "page", "home"),
    ("web.activity", "page", MISSING),
    ("web.activity", "model", ""),
    ("web.activity", "url", "https://" + "x" * 2048),
    ("web.activity", "url", 42),
    # call.tracked
    ("call.tracked", "call_id", MISSING),
    ("call.tracked", "tracking_number", MISSING),
    ("call.tracked", "tracking_number", 74951500011),
    ("call.tracked", "caller_phone", ""),
    ("call.tracked", "caller_phone", MISSING),
    ("call.tracked", "at", FUTURE),
    ("call.tracked", "at", NAIVE),
    ("call.tracked", "at", MISSING),
    ("call.tracked", "duration_s", -1),
    ("call.tracked", "duration_s", "184"),
    ("call.tracked", "duration_s", 1.5),
    ("call.tracked", "duration_s", 86_401),
    ("call.tracked", "duration_s", MISSING),
    ("call.tracked", "answered", "maybe"),
    ("call.tracked", "answered", MISSING),
]


def _case_id(case: tuple[Any, ...]) -> str:
    event_type, path, value = case[:3]
    shown = "missing" if value is MISSING else repr(value)[:24]
    return f"{event_type}:{path}={shown}"


@pytest.mark.parametrize("case", WRONG, ids=_case_id)
def test_a_wrong_value_is_an_error_naming_its_field(case: tuple[Any, ...]) -> None:
    event_type, path, value = case
    # Given a valid example of the type with one field made wrong
    data = changed(example(event_type), path, value)
    # When it is validated
    result = validate_event(envelope(event_type, data), NOW)
    # Then it is rejected with exactly one error, naming that field
    assert error_fields(result) == [f"data.{path}"]
    assert isinstance(result, list) and result[0].message


def _pattern(path: str) -> str:
    # list indexes and the channel keys of `consents` stand for any item
    parts = path.split(".")
    return ".".join(
        "*" if part.isdigit() or (i and parts[i - 1] == "consents" and part in CHANNELS) else part
        for i, part in enumerate(parts)
    )


def _fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every field of a payload as a dotted pattern (`jobs.*.amount`, `consents.*.at`)."""
    found = set()
    for name, info in model.model_fields.items():
        found.add(prefix + name)
        for nested, wildcard in _nested_models(info.annotation):
            found |= _fields(nested, f"{prefix}{name}{'.*' if wildcard else ''}.")
    return found


def _nested_models(
    annotation: object, wildcard: bool = False
) -> list[tuple[type[BaseModel], bool]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, wildcard)]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _nested_models(args[0], wildcard)
    many = origin in (list, dict)
    inner = args[-1:] if origin is dict else args
    if origin in (typing.Union, types.UnionType) or many:
        return [m for arg in inner for m in _nested_models(arg, wildcard or many)]
    return []


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
def test_every_field_of_every_type_has_a_wrong_value_in_the_table(event_type: str) -> None:
    tested = {_pattern(case[1]) for case in WRONG if case[0] == event_type}
    tested |= {_pattern(path) for t, path in ONE_OF_FIELDS if t == event_type}
    assert _fields(CATALOGUE[event_type]) - tested == set()


# --- times: happened vs planned ----------------------------------------------------------------

HAPPENED = [
    ("customer.upserted", "consents.sms.at"),
    ("customer.consent_changed", "at"),
    ("vehicle.sold", "sold_at"),
    ("vehicle.odometer", "at"),
    ("service_order.closed", "opened_at"),
    ("service_order.closed", "closed_at"),
    ("parts.purchased", "at"),
    ("showroom.visited", "at"),
    ("web.activity", "at"),
    ("call.tracked", "at"),
]


@pytest.mark.parametrize(("event_type", "path"), HAPPENED)
def test_a_happened_time_may_lie_up_to_a_day_ahead_of_business_time(
    event_type: str, path: str
) -> None:
    data = example(event_type)
    if event_type == "service_order.closed":  # opened before closed, both a bit ahead
        data = changed(data, "opened_at", (NOW + timedelta(hours=22)).isoformat())
        data = changed(data, "closed_at", (NOW + timedelta(hours=23, minutes=30)).isoformat())
    # Given a happened-time 23 hours ahead of business time (clock skew), Then it is accepted
    nearly = changed(data, path, (NOW + timedelta(hours=23)).isoformat())
    assert isinstance(validate_event(envelope(event_type, nearly), NOW), ValidEvent)
    # Given the same time 25 hours ahead, Then it is an error on that very field
    ahead = changed(data, path, (NOW + timedelta(hours=25)).isoformat())
    assert error_fields(validate_event(envelope(event_type, ahead), NOW)) == [f"data.{path}"]


@pytest.mark.parametrize(
    ("event_type", "path", "value"),
    [
        ("service_appointment.changed", "starts_at", "2027-03-01T10:00:00+03:00"),
        ("test_drive.changed", "starts_at", "2027-03-01T10:00:00+03:00"),
        ("order.status_changed", "eta", "2027-06-01T00:00:00+03:00"),
        ("insurance.policy", "ends_on", "2030-11-19"),
        ("vehicle.sold", "financing.ends_on", "2031-11-20"),
    ],
)
def test_a_planned_time_may_lie_in_the_future(event_type: str, path: str, value: str) -> None:
    data = changed(example(event_type), path, value)
    assert isinstance(validate_event(envelope(event_type, data), NOW), ValidEvent)


def test_the_future_is_measured_against_business_time_not_the_wall_clock() -> None:
    # Given an odometer reading a year after the wall clock's today, validated at that time
    later = NOW + timedelta(days=365)
    data = changed(example("vehicle.odometer"), "at", later.isoformat())
    event = envelope("vehicle.odometer", data) | {"occurred_at": later.isoformat()}
    # Then it is accepted at that business time, and rejected at today's
    assert isinstance(validate_event(event, later), ValidEvent)
    assert sorted(error_fields(validate_event(event, NOW))) == ["data.at", "occurred_at"]


def test_the_envelope_and_the_data_are_reported_together() -> None:
    data = changed(example("vehicle.odometer"), "mileage_km", -1)
    event = envelope("vehicle.odometer", data) | {"occurred_at": NAIVE}
    assert error_fields(validate_event(event, NOW)) == ["occurred_at", "data.mileage_km"]


# --- one-of rules ------------------------------------------------------------------------------

# Fields whose wrong values are the one-of cases below rather than rows of WRONG.
ONE_OF_FIELDS = [("test_drive.changed", "customer_external_id")]


def test_a_test_drive_names_the_person_by_external_id_or_by_contact() -> None:
    by_contact = example("test_drive.changed")
    by_id = changed(changed(by_contact, "contact", MISSING), "customer_external_id", "C-1")
    for data in (by_contact, by_id):
        assert isinstance(validate_event(envelope("test_drive.changed", data), NOW), ValidEvent)


def test_a_test_drive_without_a_person_is_an_error_on_the_person() -> None:
    data = changed(example("test_drive.changed"), "contact", MISSING)
    result = validate_event(envelope("test_drive.changed", data), NOW)
    assert error_fields(result) == ["data.customer_external_id"]
    assert isinstance(result, list) and "contact" in result[0].message


def test_a_test_drive_naming_the_person_twice_is_an_error() -> None:
    data = changed(example("test_drive.changed"), "customer_external_id", "C-1")
    assert error_fields(validate_event(envelope("test_drive.changed", data), NOW)) == [
        "data.contact"
    ]


def test_a_test_drive_with_a_bad_external_id_names_only_that_field() -> None:
    data = changed(
        changed(example("test_drive.changed"), "contact", MISSING), "customer_external_id", ""
    )
    assert error_fields(validate_event(envelope("test_drive.changed", data), NOW)) == [
        "data.customer_external_id"
    ]


def test_a_person_rule_is_reported_with_the_other_failing_fields() -> None:
    data = changed(changed(example("test_drive.changed"), "contact", MISSING), "status", "done")
    assert sorted(error_fields(validate_event(envelope("test_drive.changed", data), NOW))) == [
        "data.customer_external_id",
        "data.status",
    ]


@pytest.mark.parametrize(
    "identity",
    [
        {"contact": {"phone": "8 903 111-22-33"}},
        {"contact": {"email": "olga@yandex.ru"}},
        {"contact": {"name": "Ольга"}, "anonymous_id": "web-7f3c2a9e"},
        {"contact": {}, "anonymous_id": "web-7f3c2a9e"},
        {"contact": {"phone": "not a phone"}},  # an unusable contact is flagged later, not here
    ],
)
def test_a_lead_is_identified_by_phone_email_or_anonymous_id(identity: dict[str, Any]) -> None:
    data = {"lead_id": "L-1", "source": "form", **identity}
    assert isinstance(validate_event(envelope("lead.created", data), NOW), ValidEvent)


@pytest.mark.parametrize(
    "identity", [{"contact": {"name": "Ольга"}}, {"contact": {}}, {"contact": {"phone": None}}]
)
def test_a_lead_nobody_can_reach_or_recognize_is_an_error_on_contact(
    identity: dict[str, Any],
) -> None:
    data = {"lead_id": "L-1", "source": "form", **identity}
    result = validate_event(envelope("lead.created", data), NOW)
    assert error_fields(result) == ["data.contact"]
    assert isinstance(result, list) and "anonymous_id" in result[0].message


@pytest.mark.parametrize(
    "person",
    [
        {"customer_external_id": "C-1"},
        {"anonymous_id": "web-1"},
        {"customer_external_id": "C-1", "anonymous_id": "web-1"},
    ],
)
def test_web_activity_is_by_a_customer_or_an_anonymous_visitor(person: dict[str, str]) -> None:
    data = {"at": "2026-11-20T10:00:00+03:00", "page": "model", **person}
    assert isinstance(validate_event(envelope("web.activity", data), NOW), ValidEvent)


def test_web_activity_by_nobody_is_an_error_on_the_person() -> None:
    data = changed(example("web.activity"), "anonymous_id", MISSING)
    assert error_fields(validate_event(envelope("web.activity", data), NOW)) == [
        "data.customer_external_id"
    ]


def test_a_consent_grant_gives_at_least_one_purpose() -> None:
    data = example("customer.upserted")
    grant = {"at": "2026-11-20T10:05:00+05:00", "source": "dms_form"}
    result = validate_event(envelope("customer.upserted", data | {"consents": {"sms": grant}}), NOW)
    assert error_fields(result) == ["data.consents.sms.marketing"]
    assert ConsentGrant.model_validate(grant | {"service": False}).service is False
