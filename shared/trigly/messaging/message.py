"""A message as stored: what was asked, where it goes, what it says, and its history."""

import base64
import zlib
from datetime import datetime
from typing import Any

from pydantic import Field

from trigly.events.types import Channel
from trigly.messaging.intent import MessagePurpose, MessageState, history_json
from trigly.platform.clock import isoformat
from trigly.platform.models import DeferredModel


class StoredMessage(DeferredModel):
    message_id: str
    customer_id: str
    idempotency_key: str
    kind: str
    purpose: MessagePurpose
    created_at: datetime
    channel: Channel | None = None
    to: str | None = None
    subject: str | None = None
    body: str | None = None
    state: MessageState
    intent: dict[str, object] = Field(default_factory=dict)  # kept to re-decide when released
    links: list[dict[str, str]] = Field(default_factory=list)  # [{"purpose", "url"}] (§4)
    meta: dict[str, str] = Field(default_factory=dict)  # the intent's (campaign_id, variant...)
    # What the template defines beyond the text: Telegram's buttons (`{"text", "url"}`) and
    # WhatsApp's approved template filled in (`templates.Rendered.provider_template`).
    buttons: list[dict[str, str]] = Field(default_factory=list)
    provider_template: dict[str, Any] | None = None
    provider_message_id: str | None = None
    # A fallback to the next channel: the message it follows up, and every channel the content
    # already went by (it never goes twice on one).
    fallback_of: str | None = None
    tried: list[Channel] = Field(default_factory=list)
    # A follow-up of a message that reached a provider shares its place under the frequency
    # cap (messaging/caps.py); None in messages stored before: every follow-up shared it.
    cap_counted: bool | None = None
    sent_at: datetime | None = None
    # The open pixel fetched by a mail proxy or scanner (Apple Mail Privacy Protection...): noted,
    # never counted as `opened` (delivery feedback, messaging/feedback.py).
    machine_opened_at: datetime | None = None
    open_pixel: str | None = None  # an email's 1×1 open-tracking image URL
    # An email's HTML part (templates with `html` or `mjml`): stored once in its own item
    # (`has_html`), packed here only in memory, between the decision and its save and in the
    # worker that sends it (a layout's kilobytes would cost on every status write otherwise).
    html_z: str | None = None
    has_html: bool = False

    def cap_shared(self) -> bool:
        """This message already holds a place under the cap, with the message it follows up."""
        return self.cap_counted if self.cap_counted is not None else self.fallback_of is not None

    def html(self) -> str | None:
        return unpack_html(self.html_z) if self.html_z else None

    def document(self) -> str:
        """The stored JSON: fields left at their defaults are omitted (parsing restores them),
        so a message with its links and history stays within one write unit (1 KB)."""
        return self.model_dump_json(exclude_defaults=True)

    def may_fall_back(self) -> bool:
        """Whether a follow-up could go by a channel the content has not used yet: a send
        restricted to its listed channels (`only_listed_channels`) has none left once each of
        them was tried, so it needs no fallback look."""
        if not self.intent.get("only_listed_channels"):
            return True
        listed = self.intent.get("channels")
        used = {*self.tried, self.channel}
        return isinstance(listed, list) and any(Channel(c) not in used for c in listed)


def pack_html(html: str) -> str:
    return base64.b64encode(zlib.compress(html.encode(), 9)).decode("ascii")


def unpack_html(packed: str) -> str:
    return zlib.decompress(base64.b64decode(packed)).decode()


def message_view(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "customer_id": message.customer_id,
        "kind": message.kind,
        "purpose": message.purpose.value,
        "channel": message.channel.value if message.channel else None,
        "status": message.state.status.value,
        "reason": message.state.reason.value if message.state.reason else None,
        "history": history_json(message.state),
        "created_at": isoformat(message.created_at),
        "sent_at": isoformat(message.sent_at) if message.sent_at else None,
        **({"fallback_of": message.fallback_of} if message.fallback_of else {}),
        **(
            {"machine_opened_at": isoformat(message.machine_opened_at)}
            if message.machine_opened_at
            else {}
        ),
    }
