"""SES event publishing on the local stack: moto's SES accepts mail but publishes no events for
a configuration set, so after each invocation the stack publishes a `Delivery` event (the shape
SES's SNS event destination sends) for every new email to the template's EmailEventsTopic. It
reaches FeedbackQueue through the topic's subscription and the feedback worker applies it, the
same path as on AWS — a local email ends `delivered` like a sandbox SMS."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from typing import Any

from trigly.platform import clock


class SesEventPublisher:
    def __init__(self, sns: Any, topic_arn: str, account_id: str, region: str) -> None:
        self.sns, self.topic_arn = sns, topic_arn
        self.account_id, self.region = account_id, region
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def publish_new(self) -> int:
        from moto.backends import get_backend

        backend = get_backend("ses")[self.account_id][self.region]
        published = 0
        for sent in list(backend.sent_messages):
            message_id = getattr(sent, "id", None)
            raw = getattr(sent, "raw_data", None)
            with self._lock:
                if message_id is None or raw is None or message_id in self._seen:
                    continue
                self._seen.add(message_id)
            headers = email.message_from_bytes(raw.encode("utf-8"), policy=email.policy.default)
            tenant = headers.get("X-Trigly-Tenant-Id")
            if not tenant:
                continue  # not a Trigly message
            now = clock.isoformat(clock.now())
            event = {
                "eventType": "Delivery",
                "mail": {
                    "timestamp": now,
                    "messageId": message_id,
                    "source": str(headers.get("From", "")),
                    "destination": list(sent.destinations),
                    "tags": {"tenant": [str(tenant)]},
                },
                "delivery": {"timestamp": now, "recipients": list(sent.destinations)},
            }
            self.sns.publish(TopicArn=self.topic_arn, Message=json.dumps(event))
            published += 1
        return published
