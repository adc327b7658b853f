"""The one send path: guardrails, at most one message per key, the channel worker, the outbox."""

from datetime import datetime, time, timedelta, timezone
from typing import Any

import boto3

from functions.channels.app import handler as channel_worker
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.support import FakeLambdaContext, customer_event, sqs_event
from trigly.channels.sandbox import outbox
from trigly.messaging.service import release_due
from trigly.platform import clock

MSK = timezone(timedelta(hours=3))
SMS_CONSENT = {
    "sms": {
        "service": True,
        "marketing": True,
        "at": "2026-01-10T10:00:00+03:00",
        "source": "анкета",
    }
}


def next_msk(at: time) -> datetime:
    """The next moment after the business clock's now when it is `at` in Moscow."""
    now = clock.now().astimezone(MSK)
    moment = datetime.combine(now.date(), at, tzinfo=MSK)
    return moment if moment > now else moment + timedelta(days=1)


def work_sms_queue(stack: DeployedStack, times: int = 1) -> list[dict[str, Any]]:
    """Hand what waits in the SMS queue to the channel worker (each message `times` times)."""
    sqs = boto3.client("sqs")
    queue = stack.queues["ChannelSmsQueue"]
    results = []
    while messages := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        event = sqs_event([m["Body"] for m in messages], queue.arn)
        for _ in range(times):
            results.append(channel_worker(event, FakeLambdaContext()))
        for message in messages:
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    return results


def customer(dealer: TenantFixture, drain: IngestDrain, external_id: str, **data: Any) -> str:
    ingest(
        dealer,
        drain,
        customer_event(
            f"m-{external_id}", external_id, first_name="Нина", phones=["8 916 400 00 01"], **data
        ),
    )
    return only_customer(dealer, external_id=external_id)["id"]


def send(dealer: TenantFixture, **body: Any) -> tuple[int, Any]:
    return api("POST", "/v1/messages", dealer.api_key, body=body)


def test_a_one_off_goes_once_to_the_e164_phone(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    customer_id = customer(dealer, drain, "MS-1", consents=SMS_CONSENT)
    body = {
        "customer_id": customer_id,
        "purpose": "transactional",
        "text": "{{ customer.first_name }}, ваш автомобиль готов.",
        "channel": "sms",
        "idempotency_key": "car-ready:RO-1",
    }
    status, first = send(dealer, **body)
    assert (status, first["status"]) == (202, "queued")
    # the same key again: the same message, never a second one
    assert send(dealer, **body)[1]["id"] == first["id"]
    assert send(dealer, **{**body, "text": "Другой текст"})[0] == 409
    # the queue message delivered twice still makes one provider call
    work_sms_queue(stack, times=2)
    sent = [m for m in outbox(dealer.tenant.tenant_id) if m["meta"]["message_id"] == first["id"]]
    assert len(sent) == 1
    assert (sent[0]["to"], sent[0]["body"]) == ("+79164000001", "Нина, ваш автомобиль готов.")
    assert sent[0]["meta"]["kind"] == "one_off" and sent[0]["meta"]["purpose"] == "transactional"
    status, listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})
    [message] = listed["items"]
    assert message["status"] == "sent" and [h["status"] for h in message["history"]] == [
        "queued",
        "sent",
    ]
    profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    assert [m["id"] for m in profile["messages"]] == [first["id"]]


def test_marketing_without_consent_is_suppressed_with_its_reason(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    service_only = {
        "sms": {
            "service": True,
            "marketing": False,
            "at": "2026-01-10T10:00:00+03:00",
            "source": "анкета",
        }
    }
    customer_id = customer(dealer, drain, "MS-2", consents=service_only)
    status, answer = send(
        dealer,
        customer_id=customer_id,
        purpose="marketing",
        text="Скидка 15% на шины",
        idempotency_key="promo:1",
    )
    assert (status, answer["status"]) == (202, "suppressed")
    listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})[1][
        "items"
    ]
    assert listed[0]["reason"] == "unsubscribed"
    assert outbox(dealer.tenant.tenant_id) == []


def test_quiet_hours_hold_marketing_until_the_morning(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    # Given it is 23:00 in Moscow
    business_clock.move_to(next_msk(time(23)))
    customer_id = customer(dealer, drain, "MS-3", consents=SMS_CONSENT, region="RU-MOW")
    _status, answer = send(
        dealer,
        customer_id=customer_id,
        purpose="marketing",
        text="Зимние шины со скидкой",
        idempotency_key="tyres:1",
    )
    assert answer["status"] == "held"
    [held] = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})[1][
        "items"
    ]
    morning = next_msk(time(9))
    assert held["history"][-1]["until"] == clock.isoformat(morning)  # 09:00 in Moscow
    # When the hourly tick runs at night nothing goes; in the morning it is released and sent
    assert release_due(clock.now()) == 0
    business_clock.move_to(morning + timedelta(minutes=5))
    assert release_due(clock.now()) == 1
    work_sms_queue(stack)
    [sent] = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})[1][
        "items"
    ]
    assert [h["status"] for h in sent["history"]] == ["held", "queued", "sent"]


def test_unknown_customer_and_bad_requests(
    dealer: TenantFixture, other_dealer: TenantFixture, drain: IngestDrain
) -> None:
    assert (
        send(dealer, customer_id="cus_nobody", purpose="service", text="x", idempotency_key="k")[0]
        == 404
    )
    customer_id = customer(dealer, drain, "MS-4", consents=SMS_CONSENT)
    assert (
        send(
            other_dealer, customer_id=customer_id, purpose="service", text="x", idempotency_key="k2"
        )[0]
        == 404
    )
    status, problem = send(
        dealer, customer_id=customer_id, purpose="gossip", text="x", idempotency_key="k3"
    )
    assert status == 422 and problem["errors"][0]["field"] == "purpose"


def test_a_send_that_stopped_after_claiming_its_key_is_finished_by_the_retry(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    from trigly.messaging.intent import MessagePurpose, SendIntent, intent_fingerprint
    from trigly.messaging.service import send as send_intent
    from trigly.profiles.records import newest_first
    from trigly.store import messages as store

    # Given a first attempt that claimed the key and died before saving the message
    customer_id = customer(dealer, drain, "MS-5", consents=SMS_CONSENT)
    intent = SendIntent(
        customer_id=customer_id,
        purpose=MessagePurpose.TRANSACTIONAL,
        kind="one_off",
        text="Готово",
        idempotency_key="crash:1",
    )
    ref = store.MessageRef(
        dealer.tenant.tenant_id,
        customer_id,
        store.message_sk(newest_first(clock.now()), "msg_crashed"),
    )
    assert store.claim_key(
        dealer.tenant.tenant_id, "crash:1", ref, intent_fingerprint(intent)
    ).claimed
    # When the sender retries, Then the message is made under the claimed id and goes once
    message = send_intent(dealer.tenant, intent)
    assert message.message_id == "msg_crashed" and message.state.status.value == "queued"
    assert send_intent(dealer.tenant, intent).message_id == "msg_crashed"
    work_sms_queue(stack)
    assert [m["meta"]["message_id"] for m in outbox(dealer.tenant.tenant_id)].count(
        "msg_crashed"
    ) == 1


def test_a_stored_template_is_previewed_and_sent_per_channel(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    # Inside the sending window whatever the hour the suite runs at
    tomorrow = business_clock.now().astimezone(MSK).date() + timedelta(days=1)
    business_clock.move_to(datetime.combine(tomorrow, time(12), tzinfo=MSK))
    customer_id = customer(dealer, drain, "MS-6", consents=SMS_CONSENT, middle_name="Павловна")
    template = {
        "sms": "{{ customer.name }}, ТО вашего {{ car }} — {{ price | money }}. Запись: {{ link }}",
        "email": {"subject": "Пора на ТО", "text": "{{ customer.name }}, пора на ТО."},
    }
    status, saved = api("PUT", "/v1/templates/maintenance", dealer.api_key, body=template)
    assert status == 200 and saved["template_id"] == "maintenance"
    status, preview = api(
        "POST",
        "/v1/templates/maintenance/preview",
        dealer.api_key,
        body={
            "customer_id": customer_id,
            "variables": {"car": "Kia Rio", "price": 14600, "link": "https://t.ly/x"},
        },
    )
    assert status == 200
    sms = next(p for p in preview["items"] if p["channel"] == "sms")
    assert (
        sms["text"].startswith("Нина Павловна, ТО вашего Kia Rio — 14")
        and sms["sms"]["encoding"] == "ucs2"
    )
    assert sms["sms"]["segments"] >= 1
    # A template that tries to reach Python internals never renders: the preview says so, and a
    # message made from it fails with `template_error` instead of going out
    evil = {"text": "{{ ''.__class__.__mro__ }}"}
    assert api("PUT", "/v1/templates/evil", dealer.api_key, body=evil)[0] == 200
    previewed = api(
        "POST", "/v1/templates/evil/preview", dealer.api_key, body={"customer_id": customer_id}
    )[1]
    assert previewed["items"] and all("error" in p for p in previewed["items"])
    status, failed = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        template_id="evil",
        idempotency_key="evil:1",
    )
    assert (status, failed["status"]) == (202, "failed")
    # Sent by id: the SMS variant goes, rendered with the customer's data
    body = {
        "customer_id": customer_id,
        "purpose": "service",
        "template_id": "maintenance",
        "variables": {"car": "Kia Rio", "price": 14600, "link": "https://t.ly/x"},
        "channel": "sms",
        "idempotency_key": "reminder:MS-6:1",
    }
    status, sent = send(dealer, **body)
    assert (status, sent["status"]) == (202, "queued")
    work_sms_queue(stack)
    [message] = [
        m for m in outbox(dealer.tenant.tenant_id) if m["meta"]["message_id"] == sent["id"]
    ]
    assert message["body"].startswith("Нина Павловна, ТО вашего Kia Rio")
    assert send(dealer, **{**body, "template_id": "nope", "idempotency_key": "other"})[0] == 404


def test_a_burst_of_marketing_respects_the_daily_cap(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    business_clock.move_to(next_msk(time(12)))
    customer_id = customer(dealer, drain, "MS-7", consents=SMS_CONSENT, region="RU-MOW")
    statuses = [
        send(
            dealer,
            customer_id=customer_id,
            purpose="marketing",
            text=f"Акция {n}",
            idempotency_key=f"burst:{n}",
        )[1]["status"]
        for n in range(3)
    ]
    # one marketing message a day: the first goes, the others wait for tomorrow
    assert statuses == ["queued", "held", "held"]
    held = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})[1][
        "items"
    ]
    assert {m["reason"] for m in held if m["status"] == "held"} == {"frequency_cap"}


def test_a_marketing_message_carries_a_one_click_way_out_that_works_at_once(
    dealer: TenantFixture,
    drain: IngestDrain,
    stack: DeployedStack,
    business_clock: clock.AdjustableClock,
) -> None:
    business_clock.move_to(next_msk(time(12)))
    customer_id = customer(dealer, drain, "MS-8", consents=SMS_CONSENT, region="RU-MOW")
    status, first = send(
        dealer,
        customer_id=customer_id,
        purpose="marketing",
        text="Шины со скидкой",
        idempotency_key="out:1",
    )
    assert first["status"] == "queued"
    work_sms_queue(stack)
    [sent] = [m for m in outbox(dealer.tenant.tenant_id) if m["meta"]["message_id"] == first["id"]]
    link, preferences = sent["meta"]["links"]
    assert link["purpose"] == "unsubscribe" and link["url"] in sent["body"]
    assert preferences["purpose"] == "preferences"  # a button in messengers, not in the SMS text
    path = "/l/" + link["url"].split("/l/", 1)[1]
    # A tampered token is 404, never anyone's page
    assert api("GET", path[:-2] + ("AA" if not path.endswith("AA") else "BB"), None)[0] == 404
    # The page asks; the one-click POST (as a mail client sends it) unsubscribes at once
    status, page = api("GET", path, None)
    assert status == 200 and '<form method="post">' in page
    status, done = api("POST", path, None, raw=b"List-Unsubscribe=One-Click")
    assert status == 200 and "Вы отписаны" in done
    profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    assert profile["consents"]["sms"]["marketing"]["granted"] is False
    assert profile["consents"]["sms"]["marketing"]["source"] == "unsubscribe link"
    assert profile["consents"]["sms"]["service"]["granted"] is True
    business_clock.advance(timedelta(days=2))
    status, next_offer = send(
        dealer,
        customer_id=customer_id,
        purpose="marketing",
        text="Ещё акция",
        idempotency_key="out:2",
    )
    assert next_offer["status"] == "suppressed"
    # A year later the link has expired
    business_clock.advance(timedelta(days=366))
    assert api("GET", path, None)[0] == 410
