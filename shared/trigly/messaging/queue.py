"""Queueing a stored message for its channel's worker (SQS): one queue per channel, the body
names the message (`delivery.deliver` reads it back), never its content."""

import json

from trigly.events.types import Channel
from trigly.platform import aws
from trigly.platform.settings import get_settings
from trigly.store.messages import MessageRef


def enqueue(ref: MessageRef, channel: Channel) -> None:
    body = json.dumps({"tenant_id": ref.tenant_id, "customer_id": ref.customer_id, "sk": ref.sk})
    queue_url = get_settings().channel_queue_urls[channel.value]
    aws.sqs().send_message(QueueUrl=queue_url, MessageBody=body)
