"""What one message costs from `send` to `delivered`, in AWS requests and DynamoDB capacity.

The template is deployed into an in-process moto (`benchmarks.ingest_cost.emulated_stack`),
customers are created through the webhook and ingest handlers (unmetered), and then, per
message, three metered steps, each the Lambda handler with the event shape AWS gives it:

1. `POST /v1/messages` through the API handler (claim the key, read the profile, the
   suppression list and the cap's recent messages, decide, render, save, queue);
2. the channel worker on the channel queue's batch (load, claim, provider, save as sent, the
   provider-id lookup); the sandbox provider stands in for SMS.ru and also writes the local
   outbox item and queues its delivery report — both sandbox-only, shown apart;
3. the feedback worker on the feedback queue's batch (find the message by the provider's id,
   record `delivered`).

Variants: a transactional SMS (no links) and a marketing SMS (unsubscribe and preferences
links, the frequency cap's Query). Capacity is priced from the items by `benchmarks.meter`.
Goal (issue 5): ≤ 8 WRU per message all-in.

    .venv/bin/python -m benchmarks.message_cost [messages]
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from benchmarks.ingest_cost import Dms, IngestPoller, emulated_stack, forget_metrics, table_names
from benchmarks.meter import Meter

MESSAGES = 50
GOAL_WRU = 8.0


def _customers(dms: Dms, poller: IngestPoller, n: int) -> list[str]:
    events = [
        {
            "id": f"bench-msg-{i}",
            "type": "customer.upserted",
            "occurred_at": "2026-01-10T10:00:00+03:00",
            "data": {
                "external_id": f"BM-{i}",
                "first_name": "Нина",
                "phones": [f"+7916{i:07d}"],
                "emails": [f"bm{i}@example.com"],
                "region": "RU-MOW",
                "consents": {
                    "sms": {
                        "service": True,
                        "marketing": True,
                        "at": "2026-01-10T10:00:00+03:00",
                        "source": "анкета",
                    }
                },
            },
        }
        for i in range(n)
    ]
    for start in range(0, n, 100):
        dms.post(events[start : start + 100])
    poller.drain(None)
    from trigly.store import customers as store

    return [
        store.find_by_external_id(dms_tenant(dms), dms.connector_id, f"BM-{i}") or ""
        for i in range(n)
    ]


_tenant_of: dict[str, str] = {}


def dms_tenant(dms: Dms) -> str:
    return _tenant_of[dms.connector_id]


@dataclass(frozen=True)
class BenchTenant:
    tenant_id: str
    api_key: str
    dms: Dms
    business: Any  # the AdjustableClock the bench moves


def sandbox_tenant(name: str) -> BenchTenant:
    """A tenant in sandbox mode (messages record to the outbox, as on the local stack) with an
    API key and a DMS connector, on a business clock at noon in Moscow tomorrow (inside every
    sending window)."""
    from trigly.messaging.settings import change_settings
    from trigly.platform import clock, tenancy

    business = clock.AdjustableClock()
    clock.use(business)
    tomorrow = business.now().date() + timedelta(days=1)
    business.move_to(datetime.combine(tomorrow, clock_time(9), UTC))  # 12:00 in Moscow
    tenant = tenancy.create_tenant(name)
    change_settings(tenant.tenant_id, {"sandbox": True})
    key = tenancy.issue_api_key(tenant.tenant_id, "bench").api_key
    connector = tenancy.create_connector(tenant.tenant_id, "DMS")
    _tenant_of[connector.connector_id] = tenant.tenant_id
    return BenchTenant(
        tenant.tenant_id, key, Dms(connector.connector_id, connector.secret), business
    )


def _api(method: str, path: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    from functions.api.app import handler
    from tests.support import FakeLambdaContext, http_event

    event = http_event(
        method,
        path,
        route_key="ANY /v1/{proxy+}",
        headers={"authorization": f"Bearer {key}"},
        body=json.dumps(body).encode(),
    )
    response = handler(event, FakeLambdaContext())
    forget_metrics()
    if response["statusCode"] != 202:
        raise RuntimeError(f"send answered {response['statusCode']}: {response['body']}")
    answer: dict[str, Any] = json.loads(response["body"])
    return answer


def _work(stack: Any, queue_id: str, handler: Any, m: Meter) -> int:
    import boto3

    from tests.support import FakeLambdaContext, sqs_event

    sqs = boto3.client("sqs")
    queue = stack.queues[queue_id]
    done = 0
    while got := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        event = sqs_event([msg["Body"] for msg in got], queue.arn)
        with m:
            result = handler(event, FakeLambdaContext())
        forget_metrics()
        if result.get("batchItemFailures"):
            raise RuntimeError(f"{queue_id}: failed records {result['batchItemFailures']}")
        sqs.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": msg["ReceiptHandle"]} for i, msg in enumerate(got)
            ],
        )
        done += len(got)
    return done


VARIANTS = (("transactional SMS", "transactional"), ("marketing SMS", "marketing"))
STEPS = ("send (API)", "channel worker", "feedback worker")


@dataclass
class MessageCost:
    """Each variant's three metered steps, over `messages` messages each."""

    messages: int
    steps: dict[str, dict[str, Meter]]  # variant -> step -> meter
    seconds: dict[str, float]  # variant -> emulated wall time


def measure(n: int = MESSAGES) -> MessageCost:
    """Send `n` messages of each variant to `n` customers and meter them to `delivered`."""
    steps: dict[str, dict[str, Meter]] = {}
    seconds: dict[str, float] = {}
    with emulated_stack() as stack:
        from functions.channels.app import handler as channel_worker
        from functions.feedback.app import handler as feedback_worker

        bench = sandbox_tenant("Bench messages")
        business, key = bench.business, bench.api_key
        names = table_names(stack)
        customers = _customers(bench.dms, IngestPoller(stack), n)
        for variant, purpose in VARIANTS:
            send, worker, feedback = Meter(names), Meter(names), Meter(names)
            started = time.perf_counter()
            for i, customer_id in enumerate(customers):
                with send:
                    _api(
                        "POST",
                        "/v1/messages",
                        key,
                        {
                            "customer_id": customer_id,
                            "purpose": purpose,
                            "text": "Нина, ваш автомобиль готов: https://dealer.example/ready",
                            "channel": "sms",
                            "idempotency_key": f"bench:{variant}:{i}",
                        },
                    )
            assert _work(stack, "ChannelSmsQueue", channel_worker, worker) == n
            assert _work(stack, "FeedbackQueue", feedback_worker, feedback) == n
            seconds[variant] = time.perf_counter() - started
            business.advance(timedelta(days=2))  # the next variant is not capped by this one
            steps[variant] = dict(zip(STEPS, (send, worker, feedback), strict=True))
    return MessageCost(n, steps, seconds)


def run(n: int = MESSAGES) -> str:
    result = measure(n)
    lines = []
    for variant, meters in result.steps.items():
        totals = [m.totals().per(n) for m in meters.values()]
        wru = sum(t["wru"] for t in totals)
        rru = sum(t["rru"] for t in totals)
        calls = sum(t["calls"] for t in totals)
        lines.append(
            f"{variant}: {n} messages, send → delivered"
            f" ({result.seconds[variant] / n * 1000:.0f} ms each, emulated)"
        )
        for name, m in meters.items():
            lines.append(m.report(per=n, title=f" {name}", unit="message"))
        lines.append(
            f" ALL-IN per message: {calls:.2f} AWS requests, {rru:.2f} RRU, {wru:.2f} WRU"
            f" (goal ≤ {GOAL_WRU:g} WRU: {'met' if wru <= GOAL_WRU else 'NOT met'})"
        )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else MESSAGES))
