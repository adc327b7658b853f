"""Delivery feedback through the real handlers: the sandbox's delivery reports and SES events
(published to the stack's SNS topic, delivered to the feedback queue by moto) move message
statuses idempotently and out of order; hard bounces and complaints feed the suppression list,
which survives the customer's erasure."""

import json
from datetime import time, timedelta, timezone
from typing import Any

import boto3

from functions.feedback.app import handler as feedback_worker
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api
from tests.integration.test_messages import customer, next_msk, send, work_sms_queue
from tests.support import FakeLambdaContext, sqs_event
from trigly.channels.sandbox import outbox
from trigly.platform import clock

MSK = timezone(timedelta(hours=3))
EMAIL_CONSENT = {
    "email": {
        "service": True,
        "marketing": True,
        "at": "2026-01-10T10:00:00+03:00",
        "source": "анкета",
    },
    "sms": {
        "service": True,
        "marketing": True,
        "at": "2026-01-10T10:00:00+03:00",
        "source": "анкета",
    },
}


def work_queue(
    stack: DeployedStack, logical_id: str, handler: Any, times: int = 1, failures: int = 0
) -> int:
    """Hand what waits in a queue to its handler (each batch `times` times); returns how many
    records it took, after checking how many the handler reported as failed."""
    sqs = boto3.client("sqs")
    queue = stack.queues[logical_id]
    seen = failed = 0
    while messages := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        event = sqs_event([m["Body"] for m in messages], queue.arn)
        for _ in range(times):
            failed += len(handler(event, FakeLambdaContext())["batchItemFailures"])
        for message in messages:
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        seen += len(messages)
    assert failed == failures * times
    return seen


def work_feedback(stack: DeployedStack, times: int = 1, failures: int = 0) -> int:
    return work_queue(stack, "FeedbackQueue", feedback_worker, times, failures)


def purge_feedback(stack: DeployedStack) -> None:
    """Drop what waits on the feedback queue (PurgeQueue is allowed once a minute)."""
    sqs = boto3.client("sqs")
    url = stack.queues["FeedbackQueue"].url
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def history(dealer: TenantFixture, customer_id: str, message_id: str) -> dict[str, Any]:
    listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})[1]
    return next(m for m in listed["items"] if m["id"] == message_id)


def work_email_queue(stack: DeployedStack) -> None:
    from functions.channels.app import handler as channel_worker

    work_queue(stack, "ChannelEmailQueue", channel_worker)


def ses_event(tenant_id: str, provider_id: str, kind: str, **detail: Any) -> dict[str, Any]:
    """An SES event as a configuration set's SNS destination publishes it."""
    now = clock.isoformat(clock.now())
    sent = clock.isoformat(clock.now() - timedelta(hours=1))
    event: dict[str, Any] = {
        "eventType": kind,
        "mail": {
            "timestamp": sent,
            "source": "service@dealer.example",
            "sendingAccountId": "123456789012",
            "messageId": provider_id,
            "destination": ["nina@example.com"],
            "headersTruncated": False,
            "tags": {"ses:configuration-set": ["trigly-dev"], "tenant": [tenant_id]},
        },
    }
    key = {"Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivery"}.get(
        kind, kind.lower()
    )
    event[key] = {"timestamp": now, **detail}
    return event


def publish_ses(stack: DeployedStack, event: dict[str, Any]) -> None:
    topic = stack.physical_ids["EmailEventsTopic"]
    boto3.client("sns").publish(TopicArn=topic, Message=json.dumps(event))


def test_a_sandbox_sms_reaches_delivered_once_whatever_the_redeliveries(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    business_clock.move_to(next_msk(time(12)))
    customer_id = customer(dealer, drain, "FB-1", consents=EMAIL_CONSENT)
    _, sent = send(
        dealer,
        customer_id=customer_id,
        purpose="transactional",
        text="Ваш автомобиль готов",
        channel="sms",
        idempotency_key="fb:1",
    )
    work_sms_queue(stack)
    # The sandbox's delivery report, delivered three times, is one `delivered`
    assert work_feedback(stack, times=3) == 1
    message = history(dealer, customer_id, sent["id"])
    assert message["status"] == "delivered"
    assert [h["status"] for h in message["history"]] == ["queued", "sent", "delivered"]


def test_ses_events_move_an_email_forward_only_and_a_hard_bounce_suppresses_the_address(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    business_clock.move_to(next_msk(time(12)))
    tenant_id = dealer.tenant.tenant_id
    customer_id = customer(
        dealer, drain, "FB-2", consents=EMAIL_CONSENT, emails=["Nina@Example.com"]
    )
    _, first = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        text="Пора на ТО",
        channel="email",
        idempotency_key="fb:2",
    )
    work_email_queue(stack)
    purge_feedback(stack)  # the sandbox's own report: this test plays SES instead
    [mail] = [m for m in outbox(tenant_id) if m["meta"]["message_id"] == first["id"]]
    provider_id = mail["id"]
    # Out of order: the click arrives before the delivery and the open
    publish_ses(stack, ses_event(tenant_id, provider_id, "Click", link="https://x.example"))
    publish_ses(
        stack, ses_event(tenant_id, provider_id, "Delivery", recipients=["nina@example.com"])
    )
    publish_ses(
        stack,
        ses_event(
            tenant_id, provider_id, "Open", userAgent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"
        ),
    )
    assert work_feedback(stack, times=2) == 3
    message = history(dealer, customer_id, first["id"])
    assert message["status"] == "clicked"
    assert sorted(h["status"] for h in message["history"]) == sorted(
        ["queued", "sent", "delivered", "opened", "clicked"]
    )
    # A hard bounce of the next email fails it, marks the address bounced, suppresses it
    _, second = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        text="Напоминание",
        channel="email",
        idempotency_key="fb:3",
    )
    work_email_queue(stack)
    purge_feedback(stack)
    [mail2] = [m for m in outbox(tenant_id) if m["meta"]["message_id"] == second["id"]]
    bounce = {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": "nina@example.com"}],
    }
    publish_ses(stack, ses_event(tenant_id, mail2["id"], "Bounce", **bounce))
    assert work_feedback(stack) == 1
    failed = history(dealer, customer_id, second["id"])
    assert (failed["status"], failed["reason"]) == ("failed", "bounced")
    profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    assert profile["emails"] == [{"value": "nina@example.com", "status": "bounced"}]
    # An event naming another tenant finds no message of that tenant and changes nothing (a
    # fresh one is handed back for a retry, in case its message is still being saved)
    publish_ses(stack, ses_event("ten_other", provider_id, "Bounce", **bounce))
    assert work_feedback(stack, failures=1) == 1
    assert history(dealer, customer_id, first["id"])["status"] == "clicked"


def test_an_ses_event_reconciles_an_email_whose_worker_died_after_ses_took_it(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    from functions.channels.app import handler as channel_worker
    from trigly.channels.ses import message_place
    from trigly.messaging.message import StoredMessage
    from trigly.store import messages as store

    business_clock.move_to(next_msk(time(12)))
    tenant_id = dealer.tenant.tenant_id
    customer_id = customer(
        dealer, drain, "FB-4", consents=EMAIL_CONSENT, emails=["rec@example.com"]
    )
    _, sent = send(
        dealer,
        customer_id=customer_id,
        purpose="transactional",
        text="Запись подтверждена",
        channel="email",
        idempotency_key="fb:4",
    )
    # Given a worker that claimed the message, had SES take it and died before saving: the
    # redelivered queue message finds the claim and ends the message `failed: unknown_outcome`
    [message_ref] = [r for r in _email_queue_refs(stack)]
    assert store.claim_for_sending(message_ref, clock.now())
    work_queue(stack, "ChannelEmailQueue", channel_worker)
    assert history(dealer, customer_id, sent["id"])["reason"] == "unknown_outcome"
    loaded = store.load(message_ref)
    assert loaded is not None
    message = StoredMessage.model_validate_json(loaded[0])
    # When SES reports the mail delivered, naming our headers (SES events carry them)
    event = ses_event(tenant_id, "0100-ses-lost", "Delivery", recipients=["rec@example.com"])
    event["mail"]["headers"] = [
        {"name": "X-Trigly-Message-Id", "value": sent["id"]},
        {"name": "X-Trigly-Message-Ref", "value": f"{customer_id} {message_place(message)}"},
    ]
    publish_ses(stack, event)
    assert work_feedback(stack) == 1
    # Then the message is reconciled: delivered, and later events find it by SES's id
    assert history(dealer, customer_id, sent["id"])["status"] == "delivered"
    publish_ses(stack, ses_event(tenant_id, "0100-ses-lost", "Click", link="https://x"))
    assert work_feedback(stack) == 1
    assert history(dealer, customer_id, sent["id"])["status"] == "clicked"
    # A hint naming a message that is not in doubt changes nothing
    forged = ses_event(tenant_id, "0100-other", "Delivery")
    forged["mail"]["headers"] = event["mail"]["headers"]
    publish_ses(stack, forged)
    assert work_feedback(stack, failures=1) == 1


def _email_queue_refs(stack: DeployedStack) -> list[Any]:
    """Peek at the email queue's messages (left for the worker: visibility reset)."""
    from trigly.store.messages import MessageRef

    sqs = boto3.client("sqs")
    url = stack.queues["ChannelEmailQueue"].url
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in got:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [MessageRef(**json.loads(m["Body"])) for m in got]
