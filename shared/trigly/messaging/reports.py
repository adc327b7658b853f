"""Providers' delivery reports, read into `feedback.ProviderEvent`s (pure parsing, no I/O).

- **SES** event publishing (configuration set → SNS → SQS): `eventType` `Send` (sent), `Delivery`,
  `Bounce` (`bounceType` `Permanent` is a hard bounce), `Complaint`, `Open`, `Click`; identity
  notifications (`notificationType`) have the same body. The tenant is the `tenant` message tag
  the SES provider sets; the provider id is `mail.messageId`.
- **SMS.ru** callback: a form POST with `data[0]`, `data[1]`… each `sms_status\\n{sms_id}\\n
  {status code}\\n{unix time}`; 102 sent, 103 delivered, 104 expired, 105 deleted by the
  operator, 106 phone failure, 107 unknown reason, 108 rejected, 110 read (Viber), 150 no route.
  The receiver must answer `100`. The callback is unsigned: its URL carries a per-tenant secret.
- **SMSC.ru** status handler: form fields `id`, `phone`, `status`, `time`, `ts`, `err`;
  status 1 delivered, 2 read, 4 link opened, 3 expired, 20 not deliverable, 22 wrong number,
  23 prohibited, 24 no funds, 25 unavailable number, 0 handed to the operator.
- **WhatsApp** Cloud API status webhook: `entry[].changes[].value.statuses[]` with `id` (the
  `wamid`), `status` `sent`/`delivered`/`read`/`failed`, `timestamp` (unix), `errors[]`.
"""

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from trigly.events.types import Channel
from trigly.messaging.feedback import ProviderEvent
from trigly.messaging.guardrails import SuppressionKind
from trigly.messaging.intent import MessageStatus, Reason
from trigly.messaging.tracking import likely_machine_open

# --- SES -----------------------------------------------------------------------------------------


def _ses_time(text: str | None, fallback: datetime) -> datetime:
    if not text:
        return fallback
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ses_events(  # noqa: PLR0911  # one return per SES event type
    document: Mapping[str, Any], *, received_at: datetime
) -> list[ProviderEvent]:
    """One SES event (as SNS delivers it: the envelope's `Message`, or raw) → our facts."""
    kind = document.get("eventType") or document.get("notificationType")
    mail = document.get("mail") or {}
    tags = mail.get("tags") or {}
    tenant = (tags.get("tenant") or [None])[0]
    message_id = mail.get("messageId")
    if not kind or not tenant or not message_id:
        return []
    sent_at = _ses_time(mail.get("timestamp"), received_at)

    hint = _ses_hint(mail)

    def event(status: MessageStatus, at: datetime, **more: Any) -> ProviderEvent:
        return ProviderEvent(tenant, Channel.EMAIL, message_id, status, at, hint=hint, **more)

    if kind == "Send":
        return [event(MessageStatus.SENT, sent_at)]

    if kind in {"Delivery"}:
        detail = document.get("delivery") or {}
        return [event(MessageStatus.DELIVERED, _ses_time(detail.get("timestamp"), received_at))]
    if kind == "Bounce":
        detail = document.get("bounce") or {}
        at = _ses_time(detail.get("timestamp"), received_at)
        if detail.get("bounceType") == "Permanent":
            return [
                event(
                    MessageStatus.FAILED,
                    at,
                    reason=Reason.BOUNCED,
                    suppress=SuppressionKind.BOUNCED,
                )
            ]
        return []  # a soft bounce: SES retries; a later Delivery or Bounce says how it ended
    if kind == "Complaint":
        detail = document.get("complaint") or {}
        at = _ses_time(detail.get("timestamp"), received_at)
        # The mail arrived (and was marked as spam): delivered, and never again to this address.
        return [
            event(MessageStatus.DELIVERED, at, suppress=SuppressionKind.COMPLAINED),
        ]
    if kind == "Open":
        detail = document.get("open") or {}
        at = _ses_time(detail.get("timestamp"), received_at)
        machine = likely_machine_open(detail.get("userAgent"), sent_at, at)
        return [event(MessageStatus.OPENED, at, machine=machine)]
    if kind == "Click":
        detail = document.get("click") or {}
        return [event(MessageStatus.CLICKED, _ses_time(detail.get("timestamp"), received_at))]
    return []  # Reject, DeliveryDelay, Rendering Failure: nothing the status shows


def _ses_hint(mail: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(customer, sort key, message id) from the X-Trigly-* headers SES includes in events."""
    headers = {
        str(h.get("name", "")).lower(): str(h.get("value", ""))
        for h in mail.get("headers") or []
        if isinstance(h, Mapping)
    }
    place = headers.get("x-trigly-message-ref", "").split(" ")
    message_id = headers.get("x-trigly-message-id")
    if len(place) != 2 or not message_id:  # customer and sort key
        return None
    return place[0], place[1], message_id


def unwrap_sns(body: str) -> Any:
    """An SQS body from an SNS subscription: the envelope's `Message`, or the raw message."""
    document = json.loads(body)
    if isinstance(document, dict) and document.get("Type") == "Notification":
        return json.loads(document["Message"])
    return document


# --- SMS.ru --------------------------------------------------------------------------------------

_SMSRU = {
    102: (MessageStatus.SENT, None, None),
    103: (MessageStatus.DELIVERED, None, None),
    104: (MessageStatus.FAILED, Reason.UNDELIVERED, None),  # expired
    105: (MessageStatus.FAILED, Reason.UNDELIVERED, None),  # deleted by the operator
    106: (MessageStatus.FAILED, Reason.UNDELIVERED, SuppressionKind.CARRIER_REFUSAL),
    107: (MessageStatus.FAILED, Reason.UNDELIVERED, None),
    108: (MessageStatus.FAILED, Reason.UNDELIVERED, SuppressionKind.CARRIER_REFUSAL),
    110: (MessageStatus.OPENED, None, None),  # read (Viber)
    150: (MessageStatus.FAILED, Reason.UNDELIVERED, SuppressionKind.CARRIER_REFUSAL),
}


def _from_unix(text: str, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(float(text)), UTC)
    except (TypeError, ValueError, OverflowError):
        return fallback


def smsru_events(
    tenant_id: str, form: Mapping[str, list[str]], *, received_at: datetime
) -> list[ProviderEvent]:
    """`data[N]` fields of an SMS.ru callback (a `callback_check` ping yields nothing)."""
    events = []
    for name, values in sorted(form.items()):
        if not name.startswith("data"):
            continue
        for value in values:
            lines = [line.strip() for line in value.strip().splitlines()]
            if len(lines) < 3 or lines[0] != "sms_status":
                continue
            try:
                code = int(lines[2])
            except ValueError:
                continue
            mapped = _SMSRU.get(code)
            if mapped is None:
                continue
            status, reason, suppress = mapped
            at = _from_unix(lines[3], received_at) if len(lines) > 3 else received_at
            events.append(
                ProviderEvent(
                    tenant_id, Channel.SMS, lines[1], status, at, reason=reason, suppress=suppress
                )
            )
    return events


# --- SMSC.ru -------------------------------------------------------------------------------------

_SMSC = {
    1: (MessageStatus.DELIVERED, None, None),
    2: (MessageStatus.OPENED, None, None),
    4: (MessageStatus.CLICKED, None, None),
    3: (MessageStatus.FAILED, Reason.UNDELIVERED, None),
    20: (MessageStatus.FAILED, Reason.UNDELIVERED, None),
    22: (MessageStatus.FAILED, Reason.BOUNCED, SuppressionKind.CARRIER_REFUSAL),
    23: (MessageStatus.FAILED, Reason.UNDELIVERED, SuppressionKind.CARRIER_REFUSAL),
    24: (MessageStatus.FAILED, Reason.UNDELIVERED, None),
    25: (MessageStatus.FAILED, Reason.UNDELIVERED, SuppressionKind.CARRIER_REFUSAL),
}


def smsc_events(
    tenant_id: str, form: Mapping[str, list[str]], *, received_at: datetime
) -> list[ProviderEvent]:
    def first(name: str) -> str | None:
        values = form.get(name) or []
        return values[0] if values else None

    message_id, status_text = first("id"), first("status")
    if not message_id or status_text is None:
        return []
    try:
        mapped = _SMSC.get(int(status_text))
    except ValueError:
        return []
    if mapped is None:
        return []
    status, reason, suppress = mapped
    at = _from_unix(first("ts") or first("time") or "", received_at)
    return [
        ProviderEvent(
            tenant_id, Channel.SMS, message_id, status, at, reason=reason, suppress=suppress
        )
    ]


# --- WhatsApp ------------------------------------------------------------------------------------

_WHATSAPP = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.OPENED,
    "failed": MessageStatus.FAILED,
}
# Cloud API error codes that say the number cannot receive WhatsApp messages.
_WHATSAPP_UNREACHABLE = {131026, 131021}


def _statuses(document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for entry in document.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            yield from value.get("statuses") or []


def whatsapp_events(
    tenant_id: str, document: Mapping[str, Any], *, received_at: datetime
) -> list[ProviderEvent]:
    events = []
    for item in _statuses(document):
        status = _WHATSAPP.get(str(item.get("status")))
        message_id = item.get("id")
        if status is None or not message_id:
            continue
        at = _from_unix(str(item.get("timestamp", "")), received_at)
        reason = suppress = None
        if status is MessageStatus.FAILED:
            codes = {e.get("code") for e in item.get("errors") or []}
            reason = Reason.UNDELIVERED
            if codes & _WHATSAPP_UNREACHABLE:
                suppress = SuppressionKind.CARRIER_REFUSAL
        events.append(
            ProviderEvent(
                tenant_id,
                Channel.WHATSAPP,
                str(message_id),
                status,
                at,
                reason=reason,
                suppress=suppress,
            )
        )
    return events


# --- our own reports (the sandbox) ---------------------------------------------------------------


def internal_event(document: Mapping[str, Any]) -> ProviderEvent:
    return ProviderEvent(
        tenant_id=str(document["tenant_id"]),
        channel=Channel(document["channel"]),
        provider_message_id=str(document["provider_message_id"]),
        status=MessageStatus(document["status"]),
        at=datetime.fromisoformat(str(document["at"])),
        reason=Reason(document["reason"]) if document.get("reason") else None,
    )


def queued_events(body: str, *, received_at: datetime) -> list[ProviderEvent]:
    """What one feedback-queue message says: an SES event (raw or in its SNS envelope) or a
    report of our own (`source`)."""
    document = unwrap_sns(body)
    if not isinstance(document, dict):
        return []
    if "source" in document and "provider_message_id" in document:
        return [internal_event(document)]
    return ses_events(document, received_at=received_at)
