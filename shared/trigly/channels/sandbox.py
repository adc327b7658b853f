"""The sandbox provider: messages are recorded in the tenant's outbox instead of being sent.

Sandbox mode is a tenant setting (messaging settings `sandbox`, CONTRACT §3/§5): on for the
local stack's demo tenants and test tenants, off for every other tenant, whose channels without
a provider are skipped instead (never a pretended delivery). The outbox keeps each entry 400
days of business time (a TTL); the local stack shows it at `GET /_local/outbox`.
"""

import json
from datetime import datetime

from trigly.channels.provider import Accepted
from trigly.messaging.message import StoredMessage
from trigly.platform import clock
from trigly.platform.clock import isoformat
from trigly.store import messages as store


class SandboxProvider:
    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        now = clock.now()
        provider_id = f"sbx_{message.message_id}"
        entry: dict[str, object] = {
            "id": provider_id,
            "channel": message.channel.value if message.channel else None,
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            **({"html": html} if (html := message.html()) is not None else {}),
            "customer_id": message.customer_id,
            "sent_at": isoformat(now),
            "meta": {
                **message.meta,
                "message_id": message.message_id,
                "purpose": message.purpose.value,
                "kind": message.kind,
                "links": message.links,
            },
        }
        store.record_outbox(
            tenant_id, now, message.message_id, json.dumps(entry, ensure_ascii=False)
        )
        if message.channel is not None:
            # Like a real provider, the sandbox reports delivery through the feedback path.
            report_delivery(tenant_id, message.channel.value, provider_id, now)
        return Accepted(provider_message_id=provider_id, at=now)


def report_delivery(tenant_id: str, channel: str, provider_id: str, at: datetime) -> None:
    """Queue a `delivered` report for the feedback worker (messaging/feedback.py)."""
    from trigly.platform import aws
    from trigly.platform.settings import get_settings

    queue_url = get_settings().feedback_queue_url
    if not queue_url:
        return
    report = {
        "source": "sandbox",
        "tenant_id": tenant_id,
        "channel": channel,
        "provider_message_id": provider_id,
        "status": "delivered",
        "at": at.isoformat(),  # full precision: never before the `sent` it follows
    }
    aws.sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(report))


def outbox(tenant_id: str) -> list[dict[str, object]]:
    """What the sandbox delivered for a tenant and still keeps, newest first."""
    return [json.loads(doc) for doc in store.outbox(tenant_id, clock.now())]
