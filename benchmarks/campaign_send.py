"""A campaign to N recipients: AWS requests and DynamoDB capacity per message, and how long it
takes at the throttle.

The template is deployed into an in-process moto (`benchmarks.ingest_cost.emulated_stack`);
customers come through the webhook and ingest handlers and the projection into the analytics
view (unmetered); a segment of everyone is the campaign's audience. Metered, each the Lambda
handler with the event AWS gives it:

1. `POST /v1/campaigns` (the API);
2. the journey worker on the journey queue: the campaign's looks (start: the audience stored
   as pages; release; completion) and its pages (each recipient through the one send path,
   under its key `campaign/{campaign}/{customer}`);
3. the channel worker on the SMS queue (the sandbox provider stands in for SMS.ru);
4. the feedback worker (the delivery reports).

The campaign holds out 10 % and splits the rest 50/50 between two variants. Every recipient is
checked to have exactly one message (zero duplicates). Wall time at the throttle is
`audience / throttle_per_minute` minutes (the pace is the throttle's by design); the
emulator's milliseconds per message say whether workers keep up with it.

    .venv/bin/python -m benchmarks.campaign_send [recipients=300] [throttle_per_minute=1000]
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from benchmarks.ingest_cost import IngestPoller, emulated_stack, forget_metrics, table_names
from benchmarks.message_cost import _customers, _work, sandbox_tenant
from benchmarks.meter import Meter

RECIPIENTS = 300
THROTTLE = 1000
FULL = 100_000


def _api(method: str, path: str, key: str, body: dict[str, Any] | None = None) -> Any:
    from functions.api.app import handler
    from tests.support import FakeLambdaContext, http_event

    event = http_event(
        method,
        path,
        route_key="ANY /v1/{proxy+}",
        headers={"authorization": f"Bearer {key}"},
        body=json.dumps(body).encode() if body is not None else None,
    )
    response = handler(event, FakeLambdaContext())
    forget_metrics()
    if response["statusCode"] >= 300:
        raise RuntimeError(f"{path} answered {response['statusCode']}: {response['body']}")
    return json.loads(response["body"])


STEPS = ("create (API)", "fan-out (journey worker)", "channel worker", "feedback worker")


def measure(n: int, throttle: int | None) -> dict[str, Any]:
    with emulated_stack() as stack:
        from functions.analytics.app import handler as projection
        from functions.channels.app import handler as channel_worker
        from functions.feedback.app import handler as feedback_worker
        from functions.journeys.app import handler as journey_worker
        from trigly.channels.sandbox import outbox

        bench = sandbox_tenant("Bench campaign")
        business, key, tenant_id = bench.business, bench.api_key, bench.tenant_id
        customers = _customers(bench.dms, IngestPoller(stack), n)
        names = table_names(stack)
        # The customers' rows in the analytics view (unmetered), and a segment of everyone
        _work(stack, "AnalyticsQueue", projection, Meter(names))
        segment = _api("PUT", "/v1/segments/all", key, {"name": "Все", "conditions": {"all": []}})
        if segment["count"] != len(customers):
            raise RuntimeError(f"segment has {segment['count']} of {len(customers)} customers")
        _api("PUT", "/v1/templates/promo_a", key, {"text": "Скидка 10% на ТО. erid {{ erid }}"})
        _api("PUT", "/v1/templates/promo_b", key, {"text": "Ваш автомобиль ждёт ТО -10%"})
        meters = {step: Meter(names) for step in STEPS}
        started = time.perf_counter()
        body = {
            "name": "Бенчмарк",
            "segment_id": "all",
            "purpose": "marketing",
            "channels": ["sms"],
            "variants": [
                {"id": "A", "template_id": "promo_a", "weight": 50},
                {"id": "B", "template_id": "promo_b", "weight": 50},
            ],
            "holdout_percent": 10,
            "erid": "2VtzqwXyZ1",
            **({"throttle_per_minute": throttle} if throttle else {}),
        }
        with meters["create (API)"]:
            campaign_id = _api("POST", "/v1/campaigns", key, body)["id"]
        looks = 0
        while True:
            fanned = _work(stack, "JourneyQueue", journey_worker, meters[STEPS[1]])
            sent = _work(stack, "ChannelSmsQueue", channel_worker, meters[STEPS[2]])
            _work(stack, "FeedbackQueue", feedback_worker, meters[STEPS[3]])
            view = _api("GET", f"/v1/campaigns/{campaign_id}", key)
            if view["status"] == "sent":
                break
            if not fanned and not sent:
                # The throttle's next page: its delayed look is wall-clock SQS delay; the clock
                # moves a minute and the look runs now (as the hourly tick's would).
                from trigly.campaigns import sending

                business.advance(timedelta(minutes=1))
                with meters[STEPS[1]]:
                    sending.look(tenant_id, campaign_id)
                forget_metrics()
                looks += 1
        seconds = time.perf_counter() - started
        got = Counter(
            m["customer_id"]
            for m in outbox(tenant_id)
            if m["meta"].get("campaign_id") == campaign_id
        )
        reader = Meter(names)
        with reader:
            _api("GET", f"/v1/campaigns/{campaign_id}", key)
        return {
            "view": view,
            "meters": meters,
            "reader": reader,
            "seconds": seconds,
            "duplicates": sum(c - 1 for c in got.values()),
            "recipients": len(got),
            "minutes_moved": looks,
        }


def run(n: int = RECIPIENTS, throttle: int | None = THROTTLE) -> str:
    result = measure(n, throttle)
    view = result["view"]
    counts = view["counts"]
    messages = counts["sent"] + sum(counts["suppressed"].values())
    lines = [
        f"campaign to {n} recipients (holdout 10 %, variants A/B 50/50, throttle "
        f"{throttle or 'none'}/min): {counts['sent']} sent, {counts['holdout']} held out, "
        f"{result['duplicates']} duplicates; {result['seconds']:.1f} s emulated"
        f" ({result['seconds'] / max(1, messages) * 1000:.0f} ms per message)",
        f" counts: {json.dumps(counts, ensure_ascii=False)}",
    ]
    totals = {"calls": 0.0, "rru": 0.0, "wru": 0.0}
    for name, meter in result["meters"].items():
        lines.append(meter.report(per=n, title=f" {name}", unit="recipient"))
        per = meter.totals().per(n)
        for k in totals:
            totals[k] += per[k]
    lines.append(
        f" ALL-IN per recipient: {totals['calls']:.2f} AWS requests, {totals['rru']:.2f} RRU,"
        f" {totals['wru']:.2f} WRU"
    )
    read = result["reader"].totals()
    lines.append(
        f" GET /v1/campaigns/{{id}}: {read.calls} AWS requests, {read.rru:.1f} RRU"
        " (counter items: 4 shards × (variants + 1), whatever the audience)"
    )
    if throttle:
        lines.append(
            f" at the throttle: {n} recipients in {n / throttle:.1f} min (business time moved"
            f" {result['minutes_moved']} min); {FULL:,} recipients: {FULL / throttle:.0f} min"
            f" = {FULL / throttle / 60:.1f} h, by extrapolation (the pace is the throttle's)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    recipients = int(sys.argv[1]) if len(sys.argv) > 1 else RECIPIENTS
    pace = int(sys.argv[2]) if len(sys.argv) > 2 else THROTTLE
    print(run(recipients, pace or None))
