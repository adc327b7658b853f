"""The local outbox: what sandbox providers record, and mail read back from moto's SES."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.outbox import Outbox

ACCOUNT, REGION = "123456789012", "us-east-1"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def ses() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ses", region_name=REGION)
        client.verify_email_identity(EmailAddress="service@dealer.example")
        yield client


def test_recorded_messages_list_newest_first_with_filters() -> None:
    # Given three messages recorded by sandbox providers at different business times
    outbox = Outbox(now=lambda: NOW)
    outbox.record(channel="sms", to="+79123456789", body="a", customer_id="c1", sent_at=NOW)
    outbox.record(
        channel="sms", to="+79123456789", body="b", customer_id="c1", sent_at=NOW + timedelta(1)
    )
    outbox.record(channel="telegram", to="4242", body="c", customer_id="c2")
    # When they are listed, all and filtered
    everything = [m.body for m in outbox.messages()]
    to_phone = [m.body for m in outbox.messages(to="+79123456789")]
    telegram = [m.body for m in outbox.messages(channel="telegram", customer_id="c2")]
    # Then newest come first, and filters narrow the list
    assert everything == ["b", "c", "a"]
    assert to_phone == ["b", "a"]
    assert telegram == ["c"]


def test_message_json_has_the_contracts_fields() -> None:
    outbox = Outbox(now=lambda: NOW)
    message = outbox.record(
        channel="email",
        to="anna@example.com",
        subject="ТО через неделю",
        body="Здравствуйте",
        customer_id="c1",
        meta={"message_id": "msg_1", "purpose": "service", "kind": "maintenance_reminder"},
    )

    data = message.as_json()

    assert set(data) == {"id", "channel", "to", "subject", "body", "customer_id", "sent_at", "meta"}
    assert data["sent_at"] == "2026-12-01T09:00:00Z"
    assert data["meta"]["kind"] == "maintenance_reminder"


def test_ses_simple_email_is_collected_with_business_time(ses: Any) -> None:
    # Given a product sends an email through SES
    ses.send_email(
        Source="service@dealer.example",
        Destination={"ToAddresses": ["anna@example.com"]},
        Message={"Subject": {"Data": "Запись"}, "Body": {"Text": {"Data": "Вы записаны"}}},
    )
    outbox = Outbox(now=lambda: NOW)
    # When the outbox collects from moto's SES (twice: nothing is collected twice)
    assert outbox.collect_ses(ACCOUNT, REGION) == 1
    assert outbox.collect_ses(ACCOUNT, REGION) == 0
    # Then it lists the email with its subject, text and the business time of collection
    [message] = outbox.messages(channel="email")
    assert (message.to, message.subject, message.body) == (
        "anna@example.com",
        "Запись",
        "Вы записаны",
    )
    assert message.sent_at == NOW


def test_ses_raw_email_body_is_its_decoded_text_part(ses: Any) -> None:
    # Given a MIME email with a text and an HTML part, non-ASCII, as the product renders it
    mime = EmailMessage()
    mime["Subject"] = "Пора на ТО"
    mime["From"] = "service@dealer.example"
    mime["To"] = "ivan@example.ru"
    mime.set_content("Иван, пора на ТО-3.\nЗапись: https://example/l/abc")
    mime.add_alternative("<p>Иван, пора на <b>ТО-3</b>.</p>", subtype="html")
    response = ses.send_raw_email(
        Source="service@dealer.example",
        Destinations=["ivan@example.ru"],
        RawMessage={"Data": mime.as_bytes()},
    )
    outbox = Outbox(now=lambda: NOW)
    outbox.collect_ses(ACCOUNT, REGION)
    # And the email provider annotated it with our ids
    outbox.annotate(response["MessageId"], customer_id="cus_1", kind="maintenance_reminder")

    [message] = outbox.messages(to="ivan@example.ru")

    assert message.subject == "Пора на ТО"
    assert message.body.strip() == "Иван, пора на ТО-3.\nЗапись: https://example/l/abc"
    assert message.customer_id == "cus_1"
    assert message.meta["kind"] == "maintenance_reminder"


def test_pages_follow_the_cursor_and_new_messages_never_shift_them() -> None:
    from infra.local.outbox import BadCursor
    from trigly.platform import clock

    start = clock.now()
    outbox = Outbox(now=lambda: start + timedelta(hours=1))
    for n in range(5):
        outbox.record(channel="sms", to="+79123456789", body=f"m{n}", sent_at=start)
    # When the outbox is read two at a time
    first = outbox.page(limit=2)
    # (a message arriving between pages is newer than every page already read)
    outbox.record(channel="sms", to="+79123456789", body="late", sent_at=start)
    second = outbox.page(limit=2, cursor=first.cursor)
    third = outbox.page(limit=2, cursor=second.cursor)
    # Then every message comes once, newest (latest recorded) first, and the last page says so
    assert [m.body for m in first.messages] == ["m4", "m3"]
    assert [m.body for m in second.messages] == ["m2", "m1"]
    assert [m.body for m in third.messages] == ["m0"]
    assert first.cursor and second.cursor and third.cursor is None
    # No limit: everything at once, no cursor
    everything = outbox.page()
    assert (len(everything.messages), everything.cursor) == (6, None)
    with pytest.raises(BadCursor):
        outbox.page(limit=2, cursor="not-ours")


def test_messages_are_kept_400_days_of_business_time() -> None:
    from trigly.platform import clock

    start = clock.now()
    now = [start]
    outbox = Outbox(now=lambda: now[0])
    outbox.record(channel="sms", to="+79123456789", body="old", sent_at=start)
    # Still listed 400 days later (CONTRACT §5: at least 400 days)...
    now[0] = start + timedelta(days=400) - timedelta(seconds=1)
    assert [m.body for m in outbox.messages()] == ["old"]
    # ...and gone after
    now[0] = start + timedelta(days=400, seconds=1)
    assert outbox.messages() == []
