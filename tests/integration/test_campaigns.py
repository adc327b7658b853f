"""Campaigns (CONTRACT §6) end to end on moto: the API, the fan-out through the journey queue,
the one send path, the sandbox outbox, the counts — and at most one message per customer per
campaign under redeliveries, a crash after the claim, two workers at once, pause and resume.

The audience is a real segment's members: customers ingested through the webhook, projected into
the analytics view, selected by `customer.city` (each test's tag).
"""

import json
import re
import threading
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

import boto3
import pytest

from functions.journeys.app import handler as journey_worker
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_analytics_view import project_waiting
from tests.integration.test_callbacks import call
from tests.integration.test_car_and_timeline_events import event
from tests.integration.test_customer_pages import page, path_of
from tests.integration.test_feedback import work_feedback
from tests.integration.test_ingest_and_api import api, ingest
from tests.integration.test_messages import MSK, SMS_CONSENT, tick, work_sms_queue
from tests.support import (
    FakeLambdaContext,
    customer_event,
    days_ahead,
    sqs_event,
)
from trigly.analytics.view import open_view
from trigly.campaigns import sending
from trigly.channels.sandbox import outbox
from trigly.platform import clock


@pytest.fixture(autouse=True)
def _daytime(business_clock: clock.AdjustableClock) -> None:
    """Inside the recipients' sending window (Moscow numbers: Moscow time)."""
    business_clock.move_to(days_ahead(1, time(11), MSK))


def customers(dealer: TenantFixture, drain: IngestDrain, count: int, tag: str) -> list[str]:
    events = [
        customer_event(
            f"{tag}-{n}",
            f"{tag}-{n}",
            first_name="Нина",
            city=tag,  # the segment of the test: customer.city is the tag
            phones=[f"+7916{n:07d}"],
            consents=SMS_CONSENT,
        )
        for n in range(count)
    ]
    for start in range(0, count, 100):
        ingest(dealer, drain, *events[start : start + 100])
    project_waiting(drain.stack)  # their rows in the analytics view
    ids = []
    for n in range(count):
        found = api("GET", "/v1/customers", dealer.api_key, query={"external_id": f"{tag}-{n}"})
        ids.append(found[1]["items"][0]["id"])
    return ids


def segment(dealer: TenantFixture, segment_id: str, members: list[str], tag: str = "") -> str:
    """A segment of the customers made with `tag` (none: of nobody), checked to be `members`."""
    conditions = {"field": "customer.city", "op": "eq", "value": tag or f"nobody-{segment_id}"}
    body = {"name": segment_id, "conditions": conditions}
    status, saved = api("PUT", f"/v1/segments/{segment_id}", dealer.api_key, body=body)
    assert status == 200 and saved["count"] == len(members), saved
    return segment_id


def template(dealer: TenantFixture, template_id: str, text: str) -> None:
    assert api("PUT", f"/v1/templates/{template_id}", dealer.api_key, body={"text": text})[0] == 200


def journey_queue(stack: DeployedStack, times: int = 1) -> int:
    """The journey worker over what waits (each batch `times` times: a redelivery)."""
    sqs = boto3.client("sqs")
    queue = stack.queues["JourneyQueue"]
    handled = 0
    while received := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        event = sqs_event([m["Body"] for m in received], queue.arn)
        for _ in range(times):
            assert not journey_worker(event, FakeLambdaContext())["batchItemFailures"]
        for message in received:
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(received)
    return handled


def run(stack: DeployedStack, times: int = 1) -> None:
    """Every queue until nothing is left: fan-out, channel worker, delivery reports."""
    while journey_queue(stack, times) + len(work_sms_queue(stack, times)):
        pass
    work_feedback(stack)


def sent_to(dealer: TenantFixture, campaign_id: str) -> Counter[str]:
    return Counter(
        m["customer_id"]
        for m in outbox(dealer.tenant.tenant_id)
        if m["meta"].get("campaign_id") == campaign_id
    )


def campaign(dealer: TenantFixture, campaign_id: str) -> dict[str, Any]:
    status, body = api("GET", f"/v1/campaigns/{campaign_id}", dealer.api_key)
    assert status == 200
    return body


def create(dealer: TenantFixture, **body: Any) -> str:
    status, created = api("POST", "/v1/campaigns", dealer.api_key, body=body)
    assert status == 201, created
    return str(created["id"])


def test_a_campaign_goes_once_to_each_member_with_holdout_variants_and_erid(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    ids = customers(dealer, drain, 40, "ab")
    segment(dealer, "tyres", ids, "ab")
    template(dealer, "tyres_a", "Шины со скидкой. Реклама, erid {{ erid }}")
    template(dealer, "tyres_b", "Зимние шины! erid {{ erid }}")
    campaign_id = create(
        dealer,
        name="Зимние шины",
        segment_id="tyres",
        purpose="marketing",
        channels=["sms"],
        variants=[
            {"id": "A", "template_id": "tyres_a", "weight": 50},
            {"id": "B", "template_id": "tyres_b", "weight": 50},
        ],
        holdout_percent=20,
        erid="2VtzqwXyZ1",
    )
    assert campaign(dealer, campaign_id)["status"] in ("scheduled", "sending")
    run(stack)
    got = sent_to(dealer, campaign_id)
    assert max(got.values()) == 1
    mails = [m for m in outbox(dealer.tenant.tenant_id) if m["meta"].get("campaign_id")]
    assert all(m["meta"]["erid"] == "2VtzqwXyZ1" and "2VtzqwXyZ1" in m["body"] for m in mails)
    assert all(m["meta"]["kind"] == "campaign" for m in mails)
    assert {m["meta"]["variant"] for m in mails} == {"A", "B"}
    body = campaign(dealer, campaign_id)
    counts = body["counts"]
    assert body["status"] == "sent"
    assert counts["audience"] == 40
    assert counts["holdout"] == counts["suppressed"]["holdout"] > 0
    assert counts["sent"] == len(got) == 40 - counts["holdout"]
    assert counts["delivered"] == counts["sent"]  # the sandbox reports every delivery
    assert counts["queued"] == 0 and counts["failed"] == 0
    assert sum(v["audience"] for v in body["variants"]) == counts["sent"]
    assert body["winner"] is None
    # the held-out customers have a message record saying so, and got nothing
    held_out = [c for c in ids if c not in got]
    listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": held_out[0]})[1]
    [record] = listed["items"]
    assert (record["kind"], record["status"], record["reason"]) == (
        "campaign",
        "suppressed",
        "holdout",
    )
    # the analytics view holds every campaign message, variant and holdout alike (reports read it)
    project_waiting(stack)
    with open_view(dealer.tenant.tenant_id) as view:
        by_status = dict(
            view.execute(
                "SELECT coalesce(reason, status), count(*) FROM messages"
                " WHERE campaign_id = ? GROUP BY 1",
                [campaign_id],
            ).fetchall()
        )
    assert by_status == {"delivered": counts["sent"], "holdout": counts["holdout"]}
    listed = api("GET", "/v1/campaigns", dealer.api_key)[1]
    assert [c["id"] for c in listed["items"]] == [campaign_id] and listed["cursor"] is None
    # sending finished: it cannot be cancelled any more
    assert api("POST", f"/v1/campaigns/{campaign_id}/cancel", dealer.api_key)[0] == 409


def test_redeliveries_a_crash_after_the_claim_and_two_workers_send_once(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, monkeypatch: Any
) -> None:
    ids = customers(dealer, drain, 30, "dup")
    segment(dealer, "all", ids, "dup")
    template(dealer, "promo", "Акция в сервисе")
    # A crash between the key's claim and the message's save, once, for the first customer
    from trigly.store import messages as message_store

    real_save = message_store.save
    crashed: list[str] = []

    def crash_once(ref: Any, doc: str, version: Any, due: Any = None) -> None:
        if not crashed and ref.customer_id == ids[0]:
            crashed.append(ref.customer_id)
            raise RuntimeError("the worker died")
        real_save(ref, doc, version, due)

    monkeypatch.setattr(message_store, "save", crash_once)
    campaign_id = create(
        dealer, name="Акция", segment_id="all", purpose="marketing", template_id="promo"
    )
    # The look: it stores the audience and queues the pages
    sqs = boto3.client("sqs")
    queue = stack.queues["JourneyQueue"]

    def waiting() -> list[dict[str, Any]]:
        bodies = []
        while received := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in received:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        return [b for b in bodies if b.get("kind", "").startswith("campaign")]

    [look] = waiting()
    sending.handle(look)
    pages = waiting()
    assert len(pages) == 1 and pages[0]["kind"] == "campaign_page"  # 30 fit one page
    # The worker dies between the claim of the first customer's key and the message's save
    with pytest.raises(RuntimeError):
        sending.handle(pages[0])
    assert crashed == [ids[0]]
    assert not sent_to(dealer, campaign_id)
    # Two workers at once on the page (a redelivery while the first still runs)
    workers = [threading.Thread(target=sending.handle, args=(pages[0],)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # And the same batch delivered twice more through the journey worker
    for _ in range(2):
        event = sqs_event([json.dumps(pages[0])], queue.arn)
        assert not journey_worker(event, FakeLambdaContext())["batchItemFailures"]
    run(stack, times=2)
    got = sent_to(dealer, campaign_id)
    assert set(got) == set(ids) and max(got.values()) == 1
    counts = campaign(dealer, campaign_id)["counts"]
    assert counts["sent"] == 30 and counts["audience"] == 30


def test_pause_and_resume_mid_fan_out_send_once_and_resume_twice_is_one_resume(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    ids = customers(dealer, drain, 24, "pause")
    segment(dealer, "pause", ids, "pause")
    template(dealer, "promo", "Акция")
    # 10 a minute: pages of 10, one a minute
    campaign_id = create(
        dealer,
        name="Медленно",
        segment_id="pause",
        purpose="marketing",
        template_id="promo",
        throttle_per_minute=10,
    )
    run(stack)
    assert sum(sent_to(dealer, campaign_id).values()) == 10  # the first minute's page
    status, paused = api("POST", f"/v1/campaigns/{campaign_id}/pause", dealer.api_key)
    assert (status, paused["status"]) == (200, "paused")
    business_clock.advance(timedelta(minutes=5))
    tick(stack)
    run(stack)
    assert sum(sent_to(dealer, campaign_id).values()) == 10  # nothing while paused
    for _ in range(2):  # resumed twice
        status, resumed = api("POST", f"/v1/campaigns/{campaign_id}/resume", dealer.api_key)
        assert (status, resumed["status"]) == (200, "sending")
    run(stack, times=2)
    assert sum(sent_to(dealer, campaign_id).values()) == 20  # the next page, once
    business_clock.advance(timedelta(minutes=1))
    tick(stack)
    run(stack)
    got = sent_to(dealer, campaign_id)
    assert set(got) == set(ids) and max(got.values()) == 1
    assert campaign(dealer, campaign_id)["status"] == "sent"


def test_bad_input_answers_422_with_the_field(stack: DeployedStack, dealer: TenantFixture) -> None:
    template(dealer, "promo", "Акция")
    segment(dealer, "live", [])
    base = {"name": "x", "segment_id": "live", "purpose": "marketing", "template_id": "promo"}

    def fields(**changes: Any) -> set[str]:
        status, problem = api("POST", "/v1/campaigns", dealer.api_key, body={**base, **changes})
        assert status == 422, problem
        return {e["field"] for e in problem["errors"]}

    assert fields(segment_id="nope") == {"segment_id"}
    assert api("DELETE", "/v1/segments/live", dealer.api_key)[0] == 204
    assert fields() == {"segment_id"}  # deleted
    segment(dealer, "live", [])
    two = [
        {"id": "A", "template_id": "promo", "weight": 50},
        {"id": "B", "template_id": "x", "weight": 40},
    ]
    assert fields(template_id=None, variants=two) == {"variants"}
    two[1]["weight"] = 50
    assert fields(template_id=None, variants=two) == {"variants.1.template_id"}
    assert fields(holdout_percent=60) == {"holdout_percent"}
    assert fields(local_time="9 утра") == {"local_time"}
    assert fields(template_id="unknown") == {"template_id"}
    assert (
        api("PUT", "/v1/settings/marketing", dealer.api_key, body={"erid_required": True})[0] == 200
    )
    assert fields() == {"erid"}
    assert api("POST", "/v1/campaigns", dealer.api_key, body={**base, "erid": "abc"})[0] == 201
    assert (
        api("POST", "/v1/campaigns", dealer.api_key, body={**base, "purpose": "service"})[0] == 201
    )
    settings = api("GET", "/v1/settings/marketing", dealer.api_key)[1]
    assert settings == {"global_control_percent": 0, "erid_required": True}
    assert api("GET", "/v1/campaigns/cmp_unknown", dealer.api_key)[0] == 404


def test_scopes_read_reads_marketing_creates(stack: DeployedStack, dealer: TenantFixture) -> None:
    from trigly.platform import tenancy
    from trigly.platform.tenancy import Scope

    template(dealer, "promo", "Акция")
    segment(dealer, "s", [])
    reader = tenancy.issue_api_key(dealer.tenant.tenant_id, "r", [Scope.READ]).api_key
    marketer = tenancy.issue_api_key(dealer.tenant.tenant_id, "m", [Scope.MARKETING]).api_key
    body = {"name": "x", "segment_id": "s", "purpose": "marketing", "template_id": "promo"}
    assert api("POST", "/v1/campaigns", reader, body=body)[0] == 403
    status, created = api("POST", "/v1/campaigns", marketer, body=body)
    assert status == 201
    assert api("GET", f"/v1/campaigns/{created['id']}", reader)[0] == 200
    assert api("POST", f"/v1/campaigns/{created['id']}/pause", reader)[0] == 403
    assert api("POST", f"/v1/campaigns/{created['id']}/pause", marketer)[0] == 200
    assert api("PUT", "/v1/settings/marketing", marketer, body={"erid_required": True})[0] == 403


def test_the_winner_takes_the_rest_when_the_test_is_significant(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
    public_url: str,
) -> None:
    ids = customers(dealer, drain, 80, "win")
    segment(dealer, "win", ids, "win")
    template(dealer, "plain", "Скидка на ТО")
    template(dealer, "linked", "Скидка на ТО: https://dealer.example.ru/to")
    campaign_id = create(
        dealer,
        name="A/B",
        segment_id="win",
        purpose="marketing",
        channels=["sms"],
        variants=[
            {"id": "A", "template_id": "plain", "weight": 50},
            {"id": "B", "template_id": "linked", "weight": 50},
        ],
        winner={"metric": "clicked", "test_percent": 50, "decide_after": "PT6H"},
    )
    run(stack)
    tested = sent_to(dealer, campaign_id)
    assert 20 < len(tested) < 60  # the test share only
    body = campaign(dealer, campaign_id)
    assert body["status"] == "sending" and body["winner"] is None
    # B's recipients click their link; A's have none to click
    for mail in outbox(dealer.tenant.tenant_id):
        if mail["meta"].get("variant") == "B":
            [link] = [x["url"] for x in mail["meta"]["links"] if x["purpose"] == "tracking"]
            assert call("GET", link.removeprefix(public_url))[0] == 303
    business_clock.advance(timedelta(hours=6, minutes=1))
    tick(stack)
    run(stack)
    body = campaign(dealer, campaign_id)
    assert body["status"] == "sent"
    assert body["winner"]["variant"] == "B" and body["winner"]["p_value"] < 0.05
    got = sent_to(dealer, campaign_id)
    assert set(got) == set(ids) and max(got.values()) == 1
    rest = [m for m in outbox(dealer.tenant.tenant_id) if m["customer_id"] not in tested]
    assert rest and all(m["meta"]["variant"] == "B" for m in rest)
    [b] = [v for v in body["variants"] if v["id"] == "B"]
    assert b["clicked"] > 0 and b["sent"] == len(
        [m for m in outbox(dealer.tenant.tenant_id) if m["meta"].get("variant") == "B"]
    )


def test_local_time_global_control_and_cancel_of_held_messages(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    today = business_clock.now().astimezone(MSK)  # 11:00 in Moscow (the fixture)

    def at(hour: int, minute: int, days: int = 0) -> datetime:
        return (today + timedelta(days=days)).replace(hour=hour, minute=minute)

    ids = customers(dealer, drain, 20, "lt")
    segment(dealer, "lt", ids, "lt")
    template(dealer, "promo", "Акция")
    assert (
        api("PUT", "/v1/settings/marketing", dealer.api_key, body={"global_control_percent": 30})[0]
        == 200
    )
    campaign_id = create(
        dealer,
        name="Утро",
        segment_id="lt",
        purpose="marketing",
        template_id="promo",
        local_time="18:30",
    )
    run(stack)
    assert not sent_to(dealer, campaign_id)  # 11:00 in Moscow: everyone waits for 18:30
    body = campaign(dealer, campaign_id)
    control = body["counts"]["suppressed"].get("global_control", 0)
    assert 0 < control < 20 and body["counts"]["queued"] == 20 - control
    listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": ids[0]})[1]["items"]
    assert listed[0]["status"] in ("held", "suppressed")
    # The hourly ticks: the campaign is looked at every hour while messages wait
    for hour in range(12, 19):
        business_clock.move_to(at(hour, 1))
        tick(stack)
        run(stack)
        assert campaign(dealer, campaign_id)["status"] == "sending"
    business_clock.move_to(at(18, 31))
    tick(stack)
    run(stack)
    got = sent_to(dealer, campaign_id)
    assert len(got) == 20 - control and max(got.values()) == 1
    business_clock.move_to(at(19, 2))  # its next look finds none held
    tick(stack)
    run(stack)
    assert campaign(dealer, campaign_id)["status"] == "sent"
    # a service campaign at a later local time, cancelled while its messages wait
    later = create(
        dealer,
        name="Поздно",
        segment_id="lt",
        purpose="service",
        template_id="promo",
        local_time="19:30",
        send_at=at(10, 0, days=1).isoformat(),
    )
    assert campaign(dealer, later)["status"] == "scheduled"
    business_clock.move_to(at(10, 5, days=1))
    tick(stack)
    run(stack)
    body = campaign(dealer, later)
    assert body["status"] == "sending" and body["counts"]["queued"] == 20  # all held
    status, cancelled = api("POST", f"/v1/campaigns/{later}/cancel", dealer.api_key)
    assert (status, cancelled["status"]) == (200, "cancelled")
    business_clock.move_to(at(19, 31, days=1))
    tick(stack)
    run(stack)
    assert not sent_to(dealer, later)
    listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": ids[0]})[1]["items"]
    assert listed[0]["reason"] == "campaign_cancelled"


def car_owners(dealer: TenantFixture, drain: IngestDrain, count: int, tag: str) -> list[str]:
    """`count` customers of a workshop that takes bookings, each with a car (in the tag's
    segment, as `customers`)."""
    hours = [{"weekday": d, "opens": "09:00", "closes": "18:00"} for d in range(7)]
    workshop = {
        "name": "Сервис на Ленина",
        "kind": "service_station",
        "timezone": "Europe/Moscow",
        "address": "ул. Ленина, 1",
        "capacity": {"posts": count, "slot_minutes": 60, "hours": hours},
    }
    status, created = api("POST", "/v1/locations", dealer.api_key, body=workshop)
    assert status == 201
    registered = (clock.now() - timedelta(days=400)).isoformat()
    events = []
    for n in range(count):
        events += [
            customer_event(
                f"{tag}-{n}",
                f"{tag}-{n}",
                first_name="Нина",
                city=tag,
                phones=[f"+7917{n:07d}"],
                consents=SMS_CONSENT,
                location_id=created["id"],
            ),
            event(
                f"{tag}-car-{n}",
                "vehicle.registered",
                registered,
                customer_external_id=f"{tag}-{n}",
                vin=f"XWEFF41BBNR{n:06d}",
                make="Kia",
                model="Rio",
                year=2022,
            ),
        ]
    ingest(dealer, drain, *events)
    project_waiting(drain.stack)
    return [
        api("GET", "/v1/customers", dealer.api_key, query={"external_id": f"{tag}-{n}"})[1][
            "items"
        ][0]["id"]
        for n in range(count)
    ]


def booking_link(mail: dict[str, Any]) -> str:
    [url] = [x["url"] for x in mail["meta"]["links"] if x["purpose"] == "booking"]
    return path_of(url)


def book_through(link: str, nth_slot: int = 0) -> str:
    """The customer opens the message's booking link and takes a slot (303 to the booking)."""
    status, html, _ = page("GET", link)
    assert status == 200 and "Kia Rio" in html, html[:300]
    slot = re.findall(r'name="slot" value="([^"]+)"', html)[nth_slot]
    assert page("POST", link, {"slot": slot})[0] == 303
    return slot


def test_a_booking_through_a_campaign_message_counts_it_booked_once_and_can_pick_the_winner(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    ids = car_owners(dealer, drain, 24, "bk")
    segment(dealer, "bk", ids, "bk")
    template(dealer, "to_plain", "Скидка на ТО 10%")
    template(dealer, "to_link", "Скидка на ТО 10%, запись: {{ links.booking }}")
    campaign_id = create(
        dealer,
        name="ТО со скидкой",
        segment_id="bk",
        purpose="marketing",
        channels=["sms"],
        links=["booking"],
        variants=[
            {"id": "A", "template_id": "to_plain", "weight": 50},
            {"id": "B", "template_id": "to_link", "weight": 50},
        ],
        winner={"metric": "booked", "test_percent": 50, "decide_after": "PT6H"},
    )
    run(stack)
    tested = sent_to(dealer, campaign_id)
    mails = [m for m in outbox(dealer.tenant.tenant_id) if m["meta"].get("campaign_id")]
    b_mails = [m for m in mails if m["meta"]["variant"] == "B"]
    assert len(b_mails) >= 2 and len(mails) > len(b_mails)
    # Each message carries its own booking link; the template placed it in the text
    assert all(booking_link(m) in m["body"] for m in b_mails)
    assert len({booking_link(m) for m in mails}) == len(mails)
    # When one B customer books through their message's link
    first = booking_link(b_mails[0])
    slot = book_through(first)
    body = campaign(dealer, campaign_id)
    [a, b] = sorted(body["variants"], key=lambda v: v["id"])
    assert (body["counts"]["booked"], b["booked"], a["booked"]) == (1, 1, 0)
    assert b["clicked"] == 1  # opening the page is the message's click
    [record] = api(
        "GET", "/v1/messages", dealer.api_key, query={"customer_id": b_mails[0]["customer_id"]}
    )[1]["items"]
    [appointment] = api("GET", f"/v1/customers/{record['customer_id']}", dealer.api_key)[1][
        "appointments"
    ]
    assert appointment["status"] == "booked" and appointment["vin"].startswith("XWEFF41BBNR")
    # The same form posted again, the page opened again, and a move to another slot: still one
    assert page("POST", first, {"slot": slot})[0] == 303
    book_through(first, nth_slot=2)
    body = campaign(dealer, campaign_id)
    assert body["counts"]["booked"] == 1 and body["counts"]["clicked"] == 1
    # The other B customers book as well; A's message has no link in its text, nobody books
    for mail in b_mails[1:]:
        book_through(booking_link(mail))
    body = campaign(dealer, campaign_id)
    [a, b] = sorted(body["variants"], key=lambda v: v["id"])
    assert (b["booked"], a["booked"]) == (len(b_mails), 0)
    assert body["status"] == "sending" and body["winner"] is None
    # After decide_after, B's booked rate wins the rest of the audience
    business_clock.advance(timedelta(hours=6, minutes=1))
    tick(stack)
    run(stack)
    body = campaign(dealer, campaign_id)
    assert body["status"] == "sent"
    assert body["winner"]["variant"] == "B" and body["winner"]["metric"] == "booked"
    assert body["winner"]["p_value"] < 0.05
    got = sent_to(dealer, campaign_id)
    assert set(got) == set(ids) and max(got.values()) == 1
    rest = [m for m in outbox(dealer.tenant.tenant_id) if m["customer_id"] not in tested]
    assert rest and all(m["meta"]["variant"] == "B" for m in rest)
    assert body["counts"]["booked"] == len(b_mails)


def test_a_large_audience_is_read_in_steps_each_redelivered_without_a_duplicate(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Steps of 2 pages of 5: 25 members take three steps (a multi-million audience's shape)
    monkeypatch.setattr(sending, "PAGE_SIZE", 5)
    monkeypatch.setattr(sending, "START_PAGES", 2)
    ids = customers(dealer, drain, 25, "big")
    segment(dealer, "big", ids, "big")
    template(dealer, "big", "Новогодняя распродажа")
    campaign_id = create(
        dealer,
        name="Большая",
        segment_id="big",
        purpose="marketing",
        channels=["sms"],
        template_id="big",
    )
    tenant_id = dealer.tenant.tenant_id
    # The first step stores 10 members and leaves its position for a continuation look
    sending.look(tenant_id, campaign_id)
    loaded = sending.load(tenant_id, campaign_id)
    assert loaded is not None
    stepped = loaded[0]
    assert stepped.status.value == "scheduled" and stepped.audience is None
    assert (stepped.filled_pages, stepped.filled_total) == (2, 10)
    assert stepped.fill_after == sorted(ids)[9]
    # Every message of the queue (looks, continuations, pages) delivered twice
    run(stack, times=2)
    loaded = sending.load(tenant_id, campaign_id)
    assert loaded is not None and loaded[0].pages == 5 and loaded[0].fill_after is None
    got = sent_to(dealer, campaign_id)
    assert set(got) == set(ids) and max(got.values()) == 1
    body = campaign(dealer, campaign_id)
    assert body["status"] == "sent"
    assert body["counts"]["audience"] == 25 and body["counts"]["sent"] == 25
