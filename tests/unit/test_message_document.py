"""The stored message document: what it leaves out, what a fallback look needs, what it costs."""

import base64
import hashlib
import json
from datetime import timedelta

from benchmarks.meter import item_size
from trigly.events.types import Channel
from trigly.messaging.intent import (
    HistoryEntry,
    MessagePurpose,
    MessageState,
    MessageStatus,
    SendIntent,
    record,
)
from trigly.messaging.message import StoredMessage
from trigly.platform import clock
from trigly.store.models import MessageItem

IDS = "ten_01m9ae35m09exghyya4v2n7z4a", "cus_01m9ae38p3dr8p2pae2za6fmkp"


def _signed_link(purpose: str) -> str:
    """Shaped like a signed customer link (CONTRACT §4, platform.tokens): its claims as
    base64url JSON, then a signature, neither of which compresses much."""
    claims = {"t": IDS[0], "c": IDS[1], "p": purpose, "ch": "sms", "m": "msg_01m9fjwy9jk0nw6y"}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    signature = base64.urlsafe_b64encode(hashlib.sha256(payload.encode()).digest()[:16])
    return f"/l/0.{payload}.{signature.decode().rstrip('=')}"


def _marketing_sms(**intent: object) -> StoredMessage:
    now = clock.now()
    asked = SendIntent.model_validate(
        {
            "customer_id": IDS[1],
            "purpose": "marketing",
            "text": "Нина, ваш автомобиль готов: https://dealer.example/ready",
            "channels": ["sms"],
            "only_listed_channels": True,
            "kind": "one_off",
            "idempotency_key": "bench:marketing SMS:0",
            **intent,
        }
    )
    unsubscribe = _signed_link("unsubscribe")
    state = MessageState.queued(now)
    for status in (MessageStatus.SENT, MessageStatus.DELIVERED):
        state, _ = record(state, HistoryEntry(status=status, at=now + timedelta(seconds=1)))
    return StoredMessage(
        message_id="msg_01m9fjwy9jk0nw6y424be778td",
        customer_id=IDS[1],
        idempotency_key=asked.idempotency_key,
        kind=asked.kind,
        purpose=MessagePurpose.MARKETING,
        created_at=now,
        channel=Channel.SMS,
        to="+79160000000",
        body=f"{asked.text}\n\nОтписаться: {unsubscribe}",
        state=state,
        intent=asked.model_dump(mode="json", exclude_defaults=True),
        links=[
            {"purpose": "unsubscribe", "url": unsubscribe},
            {"purpose": "preferences", "url": _signed_link("preferences")},
        ],
        provider_message_id="sbx_msg_01m9fjwy9jk0nw6y424be778td",
        sent_at=now,
        cap_counted=False,
    )


def test_the_document_leaves_out_defaults_and_reads_back_the_same() -> None:
    message = _marketing_sms()
    document = message.document()
    assert StoredMessage.model_validate_json(document) == message
    assert "null" not in document and '"buttons"' not in document
    assert SendIntent.model_validate(message.intent).when_held.value == "queue_until_allowed"


def test_a_delivered_marketing_sms_with_its_links_is_one_write_unit() -> None:
    message = _marketing_sms()
    item = MessageItem(f"T#{IDS[0]}#C#{IDS[1]}", "MSG#8203106789070#msg_01m9fjwy9jk0nw6y424be778td")
    item.doc = message.document()
    item.version = 3
    item.claimed_at = clock.isoformat(message.created_at)
    size = item_size(item.serialize())
    assert size <= 1024
    # Every default spelled out (message and intent), as stored before: at the KB's edge (the
    # benchmark's marketing SMS crossed it: 2 WRU for each status write after the first).
    asked = SendIntent.model_validate(message.intent).model_dump(mode="json")
    item.doc = message.model_copy(update={"intent": asked}).model_dump_json()
    assert item_size(item.serialize()) - size >= 100


def test_only_a_channel_not_yet_used_makes_a_fallback_worth_a_look() -> None:
    named = _marketing_sms()
    assert not named.may_fall_back()  # "channel": "sms" and the SMS went
    assert _marketing_sms(channels=["sms", "email"]).may_fall_back()
    assert _marketing_sms(only_listed_channels=False).may_fall_back()  # the tenant's cascade
    tried = _marketing_sms(channels=["email", "sms"]).model_copy(update={"tried": [Channel.EMAIL]})
    assert not tried.may_fall_back()
