"""Demo data for the local stack: two tenants, and customers sent the way a DMS sends them.

Tenants, keys and connectors are created through the product's tenancy module (what an
operator does); customers arrive as signed Standard Webhooks through the real gateway, so the
demo exercises the same path as production traffic.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

MSK = timezone(timedelta(hours=3))


@dataclass(frozen=True)
class DemoTenant:
    tenant_id: str
    api_key: str
    connector_id: str
    webhook_secret: str

    def as_json(self) -> dict[str, str]:
        return {
            "tenant_id": self.tenant_id,
            "api_key": self.api_key,
            "connector_id": self.connector_id,
            "webhook_secret": self.webhook_secret,
        }


def create_tenant(name: str, *, timezone_name: str = "Europe/Moscow") -> DemoTenant:
    from trigly.messaging.settings import change_settings
    from trigly.platform import tenancy

    tenant = tenancy.create_tenant(name, default_country="RU", timezone=timezone_name)
    # Every channel of a demo tenant records to the outbox (CONTRACT §5), a tenant setting: a
    # deployed tenant is never in sandbox mode unless an operator says so.
    change_settings(tenant.tenant_id, {"sandbox": True})
    key = tenancy.issue_api_key(tenant.tenant_id, "local demo")
    connector = tenancy.create_connector(tenant.tenant_id, "DMS (demo)")
    return DemoTenant(tenant.tenant_id, key.api_key, connector.connector_id, connector.secret)


def create_locations(tenant: DemoTenant) -> list[str]:
    """A dealer centre (sales + service) and a service station, with brands, zone and capacity."""
    from trigly.locations.model import LocationDetails
    from trigly.locations.service import create_location

    weekdays = [{"weekday": d, "opens": "09:00", "closes": "20:00"} for d in range(5)]
    saturday = [{"weekday": 5, "opens": "10:00", "closes": "18:00"}]
    centre = LocationDetails.model_validate(
        {
            "name": "Автоцентр Север — Kia, Hyundai",
            "kind": "dealer_centre",
            "brands": ["Kia", "Hyundai"],
            "timezone": "Europe/Moscow",
            "region": "RU-MOW",
            "city": "Москва",
            "address": "Дмитровское шоссе, 100",
            "capacity": {"posts": 6, "slot_minutes": 60, "hours": weekdays + saturday},
        }
    )
    station = LocationDetails.model_validate(
        {
            "name": "Автоцентр Север — сервис Lada",
            "kind": "service_station",
            "brands": ["Lada"],
            "timezone": "Europe/Moscow",
            "region": "RU-MOS",
            "city": "Мытищи",
            "capacity": {"posts": 3, "slot_minutes": 90, "hours": weekdays},
        }
    )
    return [
        create_location(tenant.tenant_id, centre, "loc_demo_centre").location_id,
        create_location(tenant.tenant_id, station, "loc_demo_station").location_id,
    ]


def demo_history(now: datetime) -> list[dict[str, Any]]:
    """Cars, visits, a booking and a test drive for the demo customers, as DMS events."""

    def at(days_ago: int) -> str:
        return (now - timedelta(days=days_ago)).astimezone(MSK).isoformat(timespec="seconds")

    def event(key: str, type_: str, when: str, **data: Any) -> dict[str, Any]:
        return {"id": f"demo-{key}", "type": type_, "occurred_at": when, "data": data}

    def visit(
        key: str, customer: str, vin: str, *, days_ago: int, km: int, job: str, amount: int
    ) -> dict[str, Any]:
        return event(
            key,
            "service_order.closed",
            at(days_ago),
            order_id=f"RO-{key}",
            customer_external_id=customer,
            vin=vin,
            closed_at=at(days_ago),
            mileage_km=km,
            location_id="loc_demo_centre",
            jobs=[{"name": job, "kind": "maintenance", "amount": amount}],
            total_amount=amount,
        )

    rio, solaris, vesta = "Z94C241BBNR012345", "Z94CB41AAGR323020", "XTAGFL110LY123456"
    return [
        event(
            "sale-1",
            "vehicle.sold",
            at(900),
            deal_id="D-1",
            customer_external_id="C-10001",
            vin=rio,
            make="Kia",
            model="Rio",
            year=2022,
            sold_at=at(900),
            price=1_450_000,
            condition="new",
            mileage_km=15,
            location_id="loc_demo_centre",
            salesperson="Олег Морозов",
            financing={"type": "loan", "term_months": 36, "monthly_payment": 32_500},
        ),
        visit("ro-1", "C-10001", rio, days_ago=700, km=7_800, job="ТО-1", amount=9_800),
        visit("ro-2", "C-10001", rio, days_ago=335, km=15_000, job="ТО-2", amount=14_600),
        event(
            "sale-2",
            "vehicle.sold",
            at(1600),
            deal_id="D-2",
            customer_external_id="C-10002",
            vin=solaris,
            make="Hyundai",
            model="Solaris",
            year=2019,
            sold_at=at(1600),
            price=980_000,
            condition="new",
            location_id="loc_demo_centre",
        ),
        visit("ro-3", "C-10002", solaris, days_ago=1250, km=14_900, job="ТО-1", amount=8_900),
        visit("ro-4", "C-10002", solaris, days_ago=880, km=31_200, job="ТО-2", amount=13_200),
        visit("ro-5", "C-10002", solaris, days_ago=500, km=46_100, job="ТО-3", amount=21_700),
        event(
            "reg-1",
            "vehicle.registered",
            at(200),
            customer_external_id="C-10004",
            vin=vesta,
            make="Lada",
            model="Vesta",
            year=2020,
            mileage_km=41_000,
            purchased_on=at(200)[:10],
        ),
        event(
            "ins-1",
            "insurance.policy",
            at(330),
            policy_id="OSAGO-1",
            customer_external_id="C-10001",
            vin=rio,
            kind="osago",
            ends_on=(now + timedelta(days=35)).date().isoformat(),
        ),
        event(
            "td-1",
            "test_drive.changed",
            at(2),
            booking_id="TD-1",
            customer_external_id="C-10005",
            model="Sportage",
            status="booked",
            starts_at=(now + timedelta(days=3)).astimezone(MSK).isoformat(timespec="seconds"),
            location_id="loc_demo_centre",
        ),
    ]


def _consents(at: str, *, sms: tuple[bool, bool], email: tuple[bool, bool] | None = None) -> Any:
    """{channel: {marketing, service, at, source}} as a DMS records the signed consent form."""
    consents = {"sms": {"marketing": sms[0], "service": sms[1], "at": at, "source": "dms"}}
    if email is not None:
        consents["email"] = {"marketing": email[0], "service": email[1], "at": at, "source": "dms"}
    for consent in consents.values():
        consent["text_version"] = "2026-01"
    return consents


def demo_customers(now: datetime) -> list[dict[str, Any]]:
    """customer.upserted events with phones written the way people write them."""
    signed = (now - timedelta(days=400)).astimezone(MSK).isoformat(timespec="seconds")
    people: list[dict[str, Any]] = [
        {
            "external_id": "C-10001",
            "last_name": "Иванов",
            "first_name": "Иван",
            "middle_name": "Петрович",
            "phones": ["8 (912) 345-67-89"],
            "emails": ["Ivan.Ivanov@example.ru"],
            "birth_date": "1985-04-12",
            "city": "Москва",
            "region": "RU-MOW",
            "consents": _consents(signed, sms=(True, True), email=(False, True)),
        },
        {
            "external_id": "C-10002",
            "last_name": "Смирнова",
            "first_name": "Анна",
            "middle_name": "Сергеевна",
            "phones": ["+7 916 555-12-34"],
            "emails": ["anna.smirnova@example.com"],
            "city": "Санкт-Петербург",
            "region": "RU-SPE",
            "preferred_channel": "email",
            "consents": _consents(signed, sms=(True, True), email=(True, True)),
        },
        {
            "external_id": "C-10003",
            "last_name": "Кузнецов",
            "first_name": "Дмитрий",
            "phones": ["89261234567"],
            "city": "Екатеринбург",
            "region": "RU-SVE",
            "timezone": "Asia/Yekaterinburg",
            "consents": _consents(signed, sms=(False, True)),
        },
        {
            "external_id": "C-10004",
            "last_name": "Попова",
            "first_name": "Елена",
            "middle_name": "Викторовна",
            "phones": ["+7-903-111-22-33", "8 903 111 22 34"],
            "emails": ["ELENA.POPOVA@EXAMPLE.ORG"],
            "birth_date": "1990-11-30",
            "city": "Казань",
            "region": "RU-TA",
            "consents": _consents(signed, sms=(True, True), email=(True, True)),
        },
        {
            "external_id": "C-10005",
            "last_name": "Волков",
            "first_name": "Сергей",
            "phones": ["+7 (924) 700-80-90"],
            "city": "Владивосток",
            "region": "RU-PRI",
            "timezone": "Asia/Vladivostok",
            "consents": _consents(signed, sms=(True, False)),
        },
    ]
    return [
        {
            "id": f"demo-customer-{n}",
            "type": "customer.upserted",
            "occurred_at": (now - timedelta(days=30 - n))
            .astimezone(MSK)
            .isoformat(timespec="seconds"),
            "data": person,
        }
        for n, person in enumerate(people, 1)
    ]


def signed_headers(secret: str, body: str, moment: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers, signed with the wall clock as a DMS would."""
    from standardwebhooks import Webhook

    sent = moment or datetime.now(UTC)
    message_id = f"msg_{uuid.uuid4().hex}"
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, sent, body),
    }


def send_events(api_url: str, tenant: DemoTenant, events: list[dict[str, Any]]) -> Any:
    """POST the events as one signed batch; returns the webhook's JSON answer."""
    import httpx

    body = json.dumps({"events": events}, ensure_ascii=False)
    response = httpx.post(
        f"{api_url}/v1/webhooks/{tenant.connector_id}",
        content=body.encode(),
        headers=signed_headers(tenant.webhook_secret, body),
        timeout=30,
    )
    if response.status_code != 202:
        raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:300]}")
    return response.json()


# Segments a marketer of the demo dealer starts from (CONTRACT §6; docs/segments.md).
DEMO_SEGMENTS: dict[str, dict[str, Any]] = {
    "moscow-sms-marketing": {
        "name": "Москва: согласие на SMS-рассылки",
        "conditions": {
            "all": [
                {"field": "customer.region", "op": "eq", "value": "RU-MOW"},
                {"field": "consent.sms.marketing", "op": "eq", "value": True},
            ]
        },
    },
    "kia-3-5-years": {
        "name": "Владельцы Kia 3–5 лет",
        "conditions": {
            "car": {
                "all": [
                    {"field": "car.make", "op": "eq", "value": "kia"},
                    {"field": "car.age_years", "op": "between", "value": [3, 5]},
                ]
            }
        },
    },
    "maintenance-due-soon": {
        "name": "ТО в ближайшие 30 дней (или просрочено)",
        "conditions": {
            "all": [
                {"field": "car.maintenance_due_in_days", "op": "lte", "value": 30},
                {"field": "consent.sms.service", "op": "eq", "value": True},
            ]
        },
    },
    "dormant": {
        "name": "Не были больше года",
        "conditions": {"field": "status", "op": "in", "value": ["dormant", "lost"]},
    },
}


def create_segments(api_url: str, tenant: DemoTenant) -> list[str]:
    """Saves the demo segments through the API, as a marketer would."""
    import httpx

    for segment_id, body in DEMO_SEGMENTS.items():
        response = httpx.put(
            f"{api_url}/v1/segments/{segment_id}",
            json=body,
            headers={"authorization": f"Bearer {tenant.api_key}"},
            timeout=30,
        )
        if response.status_code != 200:
            answer = f"{response.status_code} {response.text[:300]}"
            raise RuntimeError(f"segment {segment_id}: {answer}")
    return list(DEMO_SEGMENTS)


# The finished campaign a marketer of the demo dealer looks at (CONTRACT §6; README "Campaigns").
DEMO_TEMPLATE_ID = "winter-tyres"
DEMO_TEMPLATE = {
    "text": (
        "{% if customer.name %}{{ customer.name }}, з{% else %}З{% endif %}имние шины со "
        "скидкой 15% до конца месяца. "
        "Запись: {{ links.booking }} Реклама. erid {{ erid }}"
    )
}
DEMO_CAMPAIGN = {
    "name": "Зимние шины: скидка 15%",
    "segment_id": "moscow-sms-marketing",
    "purpose": "marketing",
    "channels": ["sms"],
    "template_id": DEMO_TEMPLATE_ID,
    "links": ["booking"],
    "erid": "2VtzqwXyZ1",
}


def next_sending_moment(now: datetime) -> datetime:
    """`now` when it is inside Moscow's 10:00–20:00 (well within the demo recipients' sending
    window), else the next noon in Moscow."""
    local = now.astimezone(MSK)
    if 10 <= local.hour < 20:
        return now
    day = local.date() + timedelta(days=1 if local.hour >= 20 else 0)
    return datetime(day.year, day.month, day.day, 12, tzinfo=MSK).astimezone(UTC)


def create_campaign(api_url: str, tenant: DemoTenant) -> str:
    """Saves the demo template and creates the demo campaign through the API; the caller
    drains the queues so it is sent."""
    import httpx

    headers = {"authorization": f"Bearer {tenant.api_key}"}
    response = httpx.put(
        f"{api_url}/v1/templates/{DEMO_TEMPLATE_ID}",
        json=DEMO_TEMPLATE,
        headers=headers,
        timeout=30,
    )
    if response.status_code != 200:
        raise RuntimeError(f"template: {response.status_code} {response.text[:300]}")
    response = httpx.post(
        f"{api_url}/v1/campaigns", json=DEMO_CAMPAIGN, headers=headers, timeout=30
    )
    if response.status_code != 201:
        raise RuntimeError(f"campaign: {response.status_code} {response.text[:300]}")
    return str(response.json()["id"])
