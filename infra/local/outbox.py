"""Every message the local stack delivered: sandbox providers record here, SES mail is read back.

`GET /_local/outbox` (CONTRACT §5) lists them newest first, a page at a time when asked
(`limit`, then the `cursor` beside `messages`), and keeps each 400 days of business time like
the product's sandbox outbox (its TTL). Sandbox channel providers (sms, telegram, …) call
`outbox().record(...)`; email goes through moto's SES like on AWS and is collected from moto's
SES backend after each invocation, stamped with the business time of that invocation. An email
provider may `annotate` a sent email with what SES cannot carry (our message id, customer,
purpose, kind, links) by the SES MessageId it got back.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import html
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from trigly.platform import clock

# CONTRACT §5: kept at least 400 days of business time (the product's outbox TTL, the same).
RETENTION = timedelta(days=400)


class BadCursor(ValueError):
    """A cursor this outbox did not hand out."""


@dataclass(frozen=True)
class OutboxPage:
    messages: list[OutboxMessage]
    cursor: str | None  # the next page's, or None on the last


def _cursor(key: tuple[datetime, int]) -> str:
    raw = json.dumps([key[0].isoformat(), key[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, index = json.loads(raw)
        return datetime.fromisoformat(at), int(index)
    except (binascii.Error, ValueError, TypeError) as error:
        raise BadCursor(cursor) from error


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    channel: str
    to: str
    body: str
    sent_at: datetime  # business time
    customer_id: str | None = None
    subject: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "channel": self.channel,
            "to": self.to,
            "body": self.body,
            "customer_id": self.customer_id,
            "sent_at": clock.isoformat(self.sent_at),
            "meta": dict(self.meta),
        }
        if self.subject is not None:
            data["subject"] = self.subject
        return data


def _html_to_text(markup: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", markup)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</h\d>", "\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def plain_text(raw_mime: str) -> tuple[str | None, str]:
    """Subject and decoded text/plain part of a raw email (HTML stripped if it has none)."""
    # From bytes: a str with 8-bit parts decodes to \uXXXX escapes in the email package.
    parsed = email.message_from_bytes(raw_mime.encode("utf-8"), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(preferencelist=("plain", "html"))
    content = part.get_content() if part is not None else ""
    if part is not None and part.get_content_subtype() == "html":
        content = _html_to_text(content)
    return parsed.get("Subject"), str(content)


class Outbox:
    def __init__(self, now: Callable[[], datetime] = clock.now) -> None:
        self._lock = threading.Lock()
        self._messages: list[OutboxMessage] = []
        self._seen_ses: set[str] = set()
        self._from_sandbox: set[str] = set()  # ids mirrored from the product's sandbox outbox
        self._notes: dict[str, dict[str, Any]] = {}
        self._now = now

    def record(
        self,
        *,
        channel: str,
        to: str,
        body: str,
        customer_id: str | None = None,
        subject: str | None = None,
        meta: Mapping[str, Any] | None = None,
        sent_at: datetime | None = None,
        message_id: str | None = None,
    ) -> OutboxMessage:
        message = OutboxMessage(
            id=message_id or f"out_{uuid.uuid4().hex}",
            channel=channel,
            to=to,
            body=body,
            sent_at=sent_at or self._now(),
            customer_id=customer_id,
            subject=subject,
            meta=dict(meta or {}),
        )
        with self._lock:
            self._messages.append(message)
        return message

    def annotate(self, provider_message_id: str, *, customer_id: str | None, **meta: Any) -> None:
        """Attach our ids to an email SES accepted under `provider_message_id`."""
        with self._lock:
            self._notes[provider_message_id] = {"customer_id": customer_id, "meta": meta}
            self._messages = [self._annotated(m) for m in self._messages]

    def _annotated(self, message: OutboxMessage) -> OutboxMessage:
        note = self._notes.get(str(message.meta.get("provider_message_id", message.id)))
        if note is None:
            return message
        return replace(
            message, customer_id=note["customer_id"], meta={**message.meta, **note["meta"]}
        )

    def collect_ses(self, account_id: str, region: str) -> int:
        """Copy mail moto's SES accepted since the last call; returns how many were new."""
        from moto.backends import get_backend

        backend = get_backend("ses")[account_id][region]
        new = 0
        for sent in list(backend.sent_messages):
            message_id = getattr(sent, "id", None)
            if message_id is None or message_id in self._seen_ses:
                continue  # bulk templated sends carry ids, not one id
            self._seen_ses.add(message_id)
            for message in _from_ses(sent, self._now()):
                with self._lock:
                    self._messages.append(self._annotated(message))
                new += 1
        return new

    def messages(
        self, *, to: str | None = None, channel: str | None = None, customer_id: str | None = None
    ) -> list[OutboxMessage]:
        """Every kept message that matches, newest first."""
        return self.page(to=to, channel=channel, customer_id=customer_id).messages

    def page(
        self,
        *,
        to: str | None = None,
        channel: str | None = None,
        customer_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> OutboxPage:
        """Newest first, `limit` at a time (None: all) after `cursor` (`BadCursor` when it is
        not one of ours). The cursor is a position, so messages recorded meanwhile never shift
        a page: they are newer than every page already read."""
        with self._lock:
            listed = list(enumerate(self._messages))
        kept_since = self._now() - RETENTION
        # Newest first; among equal times, the later recorded first.
        chosen = sorted(
            (
                ((m.sent_at, index), m)
                for index, m in listed
                if m.sent_at > kept_since
                and (to is None or m.to == to)
                and (channel is None or m.channel == channel)
                and (customer_id is None or m.customer_id == customer_id)
            ),
            key=lambda pair: pair[0],
            reverse=True,
        )
        if cursor is not None:
            after = _after(cursor)
            chosen = [pair for pair in chosen if pair[0] < after]
        if limit is None or len(chosen) <= limit:
            return OutboxPage([m for _, m in chosen], None)
        shown = chosen[:limit]
        return OutboxPage([m for _, m in shown], _cursor(shown[-1][0]))

    def collect_sandbox(self) -> int:
        """Mirror what the product's sandbox provider recorded (per tenant, in the main table):
        new entries are taken in, and entries gone from the table (an erased customer's) go from
        here too, so the local outbox never shows what erasure removed."""
        from trigly.channels.sandbox import outbox as sandbox_outbox
        from trigly.platform.tenancy import list_tenant_ids

        with self._lock:
            known = {m.id for m in self._messages}
        present: set[str] = set()
        new = 0
        for tenant_id in list_tenant_ids():
            for entry in sandbox_outbox(tenant_id):
                present.add(entry["id"])
                if entry["id"] in known:
                    continue
                self.record(
                    channel=entry["channel"],
                    to=entry["to"],
                    body=entry["body"] or "",
                    customer_id=entry["customer_id"],
                    subject=entry.get("subject"),
                    meta=entry["meta"],
                    sent_at=datetime.fromisoformat(entry["sent_at"]),
                    message_id=entry["id"],
                )
                new += 1
        with self._lock:
            gone = self._from_sandbox - present
            self._messages = [m for m in self._messages if m.id not in gone]
            self._from_sandbox = present
        return new

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


def _from_ses(sent: Any, now: datetime) -> list[OutboxMessage]:
    trigly: dict[str, Any] = {}
    customer_id = None
    if hasattr(sent, "raw_data"):
        subject, body = plain_text(sent.raw_data)
        recipients = list(sent.destinations)
        # Trigly's SES provider names the message in X-Trigly-* headers (channels/ses.py).
        headers = email.message_from_bytes(
            sent.raw_data.encode("utf-8"), policy=email.policy.default
        )
        if headers.get("X-Trigly-Message-Id"):
            customer_id = str(headers.get("X-Trigly-Customer-Id"))
            trigly = {
                "message_id": str(headers.get("X-Trigly-Message-Id")),
                "kind": str(headers.get("X-Trigly-Kind")),
                "purpose": str(headers.get("X-Trigly-Purpose")),
                "links": [],
            }
    elif hasattr(sent, "body"):
        subject, body = sent.subject, str(sent.body or "")
        if re.search(r"<(html|body|p|div|br)\b", body, re.IGNORECASE):
            body = _html_to_text(body)  # moto keeps only the HTML part of a simple email
        recipients = [a for addresses in sent.destinations.values() for a in addresses]
    else:
        subject, recipients = None, []
        body = str(getattr(sent, "template_data", ""))
    # moto adds the To/Cc/Bcc headers of a raw email to its Destinations, as "Name <addr>".
    recipients = list(dict.fromkeys(addr for _, addr in getaddresses(recipients) if addr))
    return [
        OutboxMessage(
            id=sent.id if len(recipients) == 1 else f"{sent.id}-{n}",
            channel="email",
            to=recipient,
            body=body,
            sent_at=now,
            subject=subject,
            customer_id=customer_id,
            meta={"provider": "ses", "provider_message_id": sent.id, **trigly},
        )
        for n, recipient in enumerate(recipients, 1)
    ]


_outbox = Outbox()


def outbox() -> Outbox:
    """The process-wide outbox of the local stack."""
    return _outbox
