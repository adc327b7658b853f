"""Delivering one outbound event to one connector's URL, signed per Standard Webhooks.

Retries: a failed delivery is made visible again after a growing delay (30 s, 1 min, 2 min, …,
capped at an hour); after 30 receives — a little over 24 hours — SQS moves it to the DLQ, which
alarms. The `webhook-id` is the event id, so a receiver that saw it already can drop it.
The URL is the tenant's: it is called through `trigly.platform.egress` (https, public addresses
only, checked at every connection).
"""

from datetime import timedelta

import httpx
from standardwebhooks import Webhook

from trigly.outbound.queue import OutboundDelivery
from trigly.platform import aws, clock, egress, tenancy
from trigly.platform.observability import logger
from trigly.platform.settings import get_settings

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)


class DeliveryFailed(Exception):
    """The receiver did not take the event; it will be retried."""


def retry_delay(receive_count: int) -> timedelta:
    return min(FIRST_RETRY * (1 << min(max(0, receive_count - 1), 16)), MAX_RETRY)


def deliver_message(body: str, *, receipt_handle: str, receive_count: int) -> None:
    delivery = OutboundDelivery.model_validate_json(body)
    connector = tenancy.find_connector(delivery.connector_id)
    if connector is None or not connector.outbound_url or connector.tenant_id != delivery.tenant_id:
        logger.info("outbound connector gone", extra={"connector_id": delivery.connector_id})
        return
    secrets = connector.signing_secrets(clock.wall_now())
    payload = delivery.event.model_dump_json()
    signature = Webhook(secrets[0]).sign(delivery.event.id, clock.wall_now(), payload)
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.event.id,
        "webhook-timestamp": str(int(clock.wall_now().timestamp())),
        "webhook-signature": signature,
    }
    status: int | str
    try:
        # The tenant chose this URL: the egress client connects only to public addresses.
        response = egress.client().post(
            connector.outbound_url, content=payload.encode(), headers=headers, timeout=TIMEOUT
        )
        delivered = 200 <= response.status_code < 300
        status = response.status_code
    except httpx.HTTPError as exc:
        delivered, status = False, type(exc).__name__
    extra = {
        "connector_id": connector.connector_id,
        "event_id": delivery.event.id,
        "status": status,
    }
    if delivered:
        logger.info("outbound delivered", extra=extra)
        return
    age = clock.now() - delivery.queued_at
    logger.warning("outbound delivery failed", extra={**extra, "attempt": receive_count})
    if age < GIVE_UP_AFTER:
        delay = int(retry_delay(receive_count).total_seconds())
        aws.sqs().change_message_visibility(
            QueueUrl=get_settings().outbound_queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=delay,
        )
    raise DeliveryFailed(delivery.event.id)
