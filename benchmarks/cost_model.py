"""What Trigly's AWS infrastructure costs per 10,000 customers per month (SMS/email fees aside).

Measured here, on the template deployed into an in-process moto, with capacity priced from the
items by `benchmarks.meter` (never from moto):

- every inbound event type in the situations of `benchmarks.ingest_cost` (webhook + ingest), and
  the webhook's share of an event in a batched nightly sync;
- a message from `send` to `delivered` (`benchmarks.message_cost`: API, channel worker, feedback);
- the daily job per due item, a journey run's first step and a later step, and an idle hourly
  tick (`benchmarks.lifecycle` on a small table).
- the analytics view (ADR 0022): the projection handler on one customer's notice and on a
  batch of 25, the compaction handler folding one MIN_INTERVAL's daytime projections (22 at
  30 min and a 45-s window), a reader's `open_view` with an
  empty cache (`measure_analytics`); the writers' change notices are in their own units;
- a campaign per recipient (`benchmarks.campaign_send` on 50), priced as a separate line: 2
  campaign messages per customer a month, on top of the month's 4 messages.

Modelled (the assumptions are the constants below, each with its reason): the month of a
10,000-customer dealer (`MONTH`), the Lambda time of a unit from the in-region latency of its
requests plus our code's CPU time, log bytes per invocation, storage, and the fixed costs of a
deployed stack that every tenant shares (alarms, queue pollers, the hourly tick, secrets).
Prices are AWS list prices for us-east-1 (`benchmarks.lifecycle`'s `PRICE_*`); eu-central-1 is
about 20 % dearer for DynamoDB, Lambda and API Gateway.

    .venv/bin/python -m benchmarks.cost_model
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from benchmarks.lifecycle import (
    LATENCY,
    PRICE_EVENTS,
    PRICE_GB_S,
    PRICE_INVOKE,
    PRICE_RRU,
    PRICE_SQS,
    PRICE_WRU,
    QUERY_PAGE_LATENCY,
)
from benchmarks.meter import Meter

GOAL = 1.00  # dollars per 10,000 customers per month (issue 10)
CUSTOMERS = 10_000

# Prices not in benchmarks.lifecycle (us-east-1 list prices).
PRICE_HTTP_API = 1.00 / 1e6  # API Gateway HTTP API, per request (first 300 M)
PRICE_LOGS_GB = 0.50  # CloudWatch Logs ingestion, per GB
PRICE_STORAGE_GB = 0.25  # DynamoDB standard table class, per GB-month
PRICE_PITR_GB = 0.20  # continuous backups, per GB-month
PRICE_S3_PUT = 0.005 / 1000  # also LIST (DeleteObject is free)
PRICE_S3_GET = 0.0004 / 1000  # also HEAD
PRICE_S3_GB = 0.023  # S3 Standard, per GB-month
PRICE_ALARM = 0.10  # a standard-resolution metric alarm, per month
PRICE_SECRET = 0.40  # a Secrets Manager secret, per month
PRICE_SECRET_CALL = 0.05 / 10_000
# A standard-tier Parameter Store parameter (tenants' channel credentials, SecureString under the
# account's aws/ssm key): no charge per parameter, and API calls at standard throughput are free
# (the channel worker reads each at most once per five minutes per container).
PRICE_PARAMETER = 0.0

# Lambda time of a unit = its requests' in-region latency + our code's CPU. The CPU figure is
# the order the cold-start and channel-worker benchmarks show for parsing, validating and
# rendering one event or message at a full vCPU (Lambda gives a full vCPU at 1,769 MB).
CPU_PER_UNIT_S = 0.004
LOG_BYTES_PER_INVOCATION = 400  # Lambda's START/END/REPORT lines
LOG_BYTES_PER_UNIT = 350  # our JSON line per event/message (ids and counts only)
COLD_STARTS_PER_FUNCTION_HOUR = 2  # containers recycled while traffic trickles all day
COLD_START_S = 1.0  # INIT is billed (since August 2025)
CHANNEL_PARAMETERS = 2  # an SMS provider and a Telegram bot, the tenant of this size's usual pair
STORED_BYTES_PER_CUSTOMER = 24_000  # profile, 1.2 cars with ~6 visits each, a year of messages


@dataclass(frozen=True)
class Month:
    """A month of a dealer with 10,000 customers and 12,000 cars (1.2 each).

    The nightly DMS sync sends the day's changes in batches of 500; the website posts its page
    views as they happen, one event a request. Rates: a car is serviced 1.5 times a year and
    the DMS sends its owner's record with each order; 2 appointment events a visit; 5 % of cars
    report mileage weekly by telematics; web activity is ~70 % of events (the dealer-history
    mix); 4 messages per customer, 3 of them from journeys (each a run's step) and 1 from a
    campaign or `POST /v1/messages`; a journey nudge follows half the reminders.
    """

    # (type, situation of benchmarks.ingest_cost) -> events a month
    dms_events: dict[tuple[str, str], int] = field(
        default_factory=lambda: {
            ("service_order.closed", "known customer and car"): 1_500,
            ("customer.upserted", "known customer, same record resent (full sync)"): 1_500,
            ("customer.upserted", "known customer, record changed (city, 2nd phone)"): 300,
            ("customer.upserted", "new customer"): 150,
            ("service_appointment.changed", "known customer books"): 3_000,
            ("vehicle.odometer", "known car (telematics)"): 2_600,
            ("vehicle.sold", "known customer, new car (first sight of the car)"): 150,
            ("insurance.policy", "known customer and car (KASKO)"): 250,
            ("parts.purchased", "known customer"): 400,
            ("test_drive.changed", "known customer (DMS id) books"): 200,
            ("showroom.visited", "known customer"): 200,
            ("inventory.changed", "new stock car"): 300,
            ("customer.consent_changed", "known customer opts out of SMS marketing"): 100,
            ("order.status_changed", "known customer orders"): 100,
        }
    )
    web_events: dict[tuple[str, str], int] = field(
        default_factory=lambda: {
            ("web.activity", "visitor seen before"): 14_000,
            ("web.activity", "known customer (DMS id)"): 5_000,
            ("web.activity", "first page of a new visitor"): 2_000,
            ("lead.created", "new person (phone, email)"): 300,
            ("call.tracked", "caller is a known customer"): 300,
        }
    )
    sync_batch: int = 500
    messages: int = 4 * CUSTOMERS
    journey_share: float = 0.75
    nudge_share: float = 0.5
    days: int = 30
    hours: int = 720
    # The analytics view (ADR 0022). Every invocation that writes customers' collections sends
    # one notice; the projection's queue gathers notices for its batching window (template.yaml,
    # `analytics_window_s`). By day (web activity, API sends: ~1,400 notices a day, one every
    # ~36 s over `active_hours`) a window opened by a notice holds 1 + window / gap of them on
    # average (Poisson arrivals): each window is one projection of that many customers. An API
    # send's `send` and `sent` fall in one window, its `delivered` in another (2 notices a
    # message). The night's DMS sync and the morning's journeys come in bursts whose windows
    # hold many customers (`projection_batch`); a journey message's customer is projected at each
    # of its 3 stages (decided, sent, delivered), each a burst of its own.
    active_hours: int = 14
    projection_batch: int = 25
    bursts_per_day: int = 2  # the night sync's and the morning's
    burst_minutes: int = 30  # each compacted every MIN_INTERVAL while it lasts
    # Readers of the view: the journey worker's daily segment pass, 10 segment counts a day in
    # the dealer's UI, a campaign's audience (`campaigns`); each opens the view cold (priced so:
    # their containers are seldom warm with this tenant's files).
    view_reads: int = 30 + 300 + 2
    # Campaigns, a separate line (not in `messages`): 2 campaign messages per customer a month,
    # as 2 campaigns to everyone, 10 % held out.
    campaigns: int = 2
    campaign_recipients: int = 2 * CUSTOMERS
    campaign_holdout: float = 0.10
    campaign_throttle: int = 1_000  # a minute


MONTH = Month()


@dataclass(frozen=True)
class Usage:
    """AWS usage of one unit of work (an event, a message, a due item, a tick)."""

    rru: float = 0.0
    wru: float = 0.0
    dynamodb: float = 0.0  # requests
    queries: float = 0.0
    sqs: float = 0.0  # requests (a batch of up to 10 is one)
    sqs_messages: float = 0.0  # entries sent
    events: float = 0.0  # EventBridge entries
    s3_puts: float = 0.0  # PUT, LIST and the like (DeleteObject, free, is not counted)
    secret_calls: float = 0.0
    other: float = 0.0
    s3_gets: float = 0.0  # GET and HEAD

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def __mul__(self, k: float) -> Usage:
        return Usage(*(a * k for a in self.values()))

    def values(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)

    @property
    def seconds(self) -> float:
        """In-region time of the requests, one after another."""
        return (
            (self.dynamodb - self.queries) * LATENCY["dynamodb"]
            + self.queries * QUERY_PAGE_LATENCY
            + self.sqs * LATENCY["sqs"]
            + self.events * LATENCY["events"]
            + (self.s3_puts + self.s3_gets + self.secret_calls + self.other) * 0.015
        )

    @property
    def dollars(self) -> float:
        return (
            self.rru * PRICE_RRU
            + self.wru * PRICE_WRU
            + self.sqs * PRICE_SQS
            + self.events * PRICE_EVENTS
            + self.s3_puts * PRICE_S3_PUT
            + self.s3_gets * PRICE_S3_GET
            + self.secret_calls * PRICE_SECRET_CALL
        )


def _s3_class(operation: str) -> str:
    """S3's price class of a request: GET and HEAD; DELETE (free); PUT, LIST and the rest."""
    if operation in {"GetObject", "HeadObject", "HeadBucket"}:
        return "get"
    return "free" if operation.startswith("DeleteObject") else "put"


def usage(meters: Iterable[Meter], per: float) -> Usage:
    """What the meters saw, per unit of work."""
    rru = wru = dynamodb = queries = sqs = sqs_messages = events = s3 = s3_gets = 0.0
    secrets = other = 0.0
    for meter in meters:
        totals = meter.totals()
        rru, wru = rru + totals.rru, wru + totals.wru
        for call in meter.calls:
            if call.service == "dynamodb":
                dynamodb += 1
                queries += call.operation == "Query"
            elif call.service == "sqs":
                sqs += 1
                if call.operation.startswith("SendMessage"):
                    sqs_messages += call.messages or 1
            elif call.service == "events":
                events += call.messages or 1
            elif call.service == "s3":
                s3 += _s3_class(call.operation) == "put"
                s3_gets += _s3_class(call.operation) == "get"
            elif call.service == "secretsmanager":
                secrets += 1
            else:
                other += 1
    measured = Usage(
        rru=rru,
        wru=wru,
        dynamodb=dynamodb,
        queries=queries,
        sqs=sqs,
        sqs_messages=sqs_messages,
        events=events,
        s3_puts=s3,
        secret_calls=secrets,
        other=other,
        s3_gets=s3_gets,
    )
    return measured * (1 / per)


@dataclass(frozen=True)
class Work:
    """A kind of work done `units` times a month by a function, in `invocations` invocations."""

    name: str
    function: str
    units: float
    invocations: float
    each: Usage  # per unit
    http_requests: float = 0.0  # API Gateway requests a month
    cpu_s: float = CPU_PER_UNIT_S  # our code's CPU per unit at a full vCPU

    @property
    def total(self) -> Usage:
        return self.each * self.units

    def lambda_seconds(self, memory_gb: float) -> float:
        """Billed time: the requests one after another, and our CPU at this memory's share of a
        vCPU (a full one at 1,769 MB)."""
        cpu = self.cpu_s * max(1.0, 1.769 / memory_gb)
        return self.units * (self.each.seconds + cpu)


@dataclass(frozen=True)
class Measured:
    """Per-unit usage measured on the emulated stack."""

    events: dict[tuple[str, str], tuple[Usage, Usage]]  # (webhook alone, ingest)
    batched_webhook: Usage  # one event's share of a batched webhook request
    ingest_messages_per_event: float
    message: Usage  # send → delivered, average of the variants
    send_step: Usage  # the API's part of it (a journey's send does this work in the worker)
    due_item: Usage  # the daily job, per due item
    run_start: Usage  # the journey worker starting a run (its send included)
    run_advance: Usage  # the worker advancing a run a week on (its nudge included)
    idle_tick: Usage  # an hourly tick (the one at the tenant's 10:00, which queues its day)
    analytics: Analytics
    campaign: Campaign


@dataclass(frozen=True)
class Analytics:
    """The analytics view's units, measured on customers with a car, a policy and 2 visits."""

    single: Usage  # a projection invocation of one customer's notice
    batch: Usage  # per customer, in a projection of `customers` customers' notices
    customers: int
    compaction: Usage  # a compaction with `since` one-customer projections to fold
    since: int
    compaction_cpu_s: float  # its process CPU (DuckDB, and moto's S3 in process: an upper bound)
    read: Usage  # `open_view` with an empty cache (LIST, GETs of manifest, snapshot, changes)


@dataclass(frozen=True)
class Campaign:
    """A campaign per recipient (`benchmarks.campaign_send`: holdout 10 %, A/B, SMS)."""

    steps: dict[str, Usage]  # per recipient, by step
    recipients: int


def measure_analytics(customers: int = 25, since: int = 22) -> Analytics:
    """The projection and compaction handlers metered with the events AWS gives them, on the
    template deployed into moto; the reader is `open_view` as the API and workers call it."""
    import json
    import shutil
    import time
    from datetime import timedelta

    from benchmarks.ingest_cost import (
        Dms,
        IngestPoller,
        Person,
        emulated_stack,
        forget_metrics,
        known,
        table_names,
    )

    with emulated_stack() as stack:
        import boto3

        from functions.analytics.app import handler as projection
        from functions.compaction.app import handler as compaction
        from tests.support import FakeLambdaContext, sqs_event
        from trigly.analytics import notices, view
        from trigly.platform import clock, tenancy

        business = clock.AdjustableClock()
        clock.use(business)
        tenant = tenancy.create_tenant("Bench analytics").tenant_id
        connector = tenancy.create_connector(tenant, "DMS")
        dms = Dms(connector.connector_id, connector.secret)
        events = [e for i in range(customers) for e in known(Person(7_000 + i))]
        for start in range(0, len(events), 100):
            dms.post(events[start : start + 100])
        IngestPoller(stack).drain(None)
        # The notices the ingest sent name the customers; they are handed over below instead.
        sqs = boto3.client("sqs")
        queue = stack.queues["AnalyticsQueue"]
        ids: set[str] = set()
        while got := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for msg in got:
                ids.update(notices.parse(msg["Body"])[1])
            sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
                ],
            )
        if len(ids) != customers:
            raise RuntimeError(f"notices named {len(ids)} customers, not {customers}")
        names = table_names(stack)
        request = sqs_event(
            [json.dumps({"tenant_id": tenant})], stack.queues["AnalyticsCompactionQueue"].arn
        )

        def call(handler: Any, bodies: list[str], arn: str, m: Meter) -> None:
            with m:
                result = handler(sqs_event(bodies, arn), FakeLambdaContext())
            forget_metrics()
            if result.get("batchItemFailures"):
                raise RuntimeError(f"failed records: {result['batchItemFailures']}")

        def notice(batch: Iterable[str]) -> list[str]:
            return notices.bodies({tenant: set(batch)})

        batch = Meter(names)
        call(projection, notice(ids), queue.arn, batch)
        business.advance(timedelta(minutes=compaction_interval_min() + 1))
        with Meter(names):  # the snapshot every later compaction starts from
            compaction(request, FakeLambdaContext())
        forget_metrics()
        single = Meter(names)
        ordered = sorted(ids)
        for i in range(since):
            call(projection, notice([ordered[i % len(ordered)]]), queue.arn, single)
        business.advance(timedelta(minutes=compaction_interval_min() + 1))
        folding = Meter(names)
        cpu = time.process_time()
        with folding:
            compaction(request, FakeLambdaContext())
        cpu = time.process_time() - cpu
        forget_metrics()
        if not any(c.service == "s3" and c.operation == "PutObject" for c in folding.calls):
            raise RuntimeError("the compaction wrote no snapshot")
        shutil.rmtree(view.CACHE_DIR, ignore_errors=True)
        reader = Meter(names)
        with reader:
            view.open_view(tenant).close()
        return Analytics(
            single=usage([single], since),
            batch=usage([batch], customers),
            customers=customers,
            compaction=usage([folding], 1),
            since=since,
            compaction_cpu_s=cpu,
            read=usage([reader], 1),
        )


def measure_campaign(recipients: int = 50) -> Campaign:
    from benchmarks import campaign_send

    result = campaign_send.measure(recipients, campaign_send.THROTTLE)
    if result["duplicates"]:
        raise RuntimeError(f"campaign sent {result['duplicates']} duplicates")
    return Campaign(
        steps={name: usage([m], recipients) for name, m in result["meters"].items()},
        recipients=recipients,
    )


def measure(messages: int = 20, cars: int = 2_000, sample: int = 20) -> Measured:
    from benchmarks import ingest_cost, lifecycle, message_cost

    ingest = ingest_cost.run()
    events = {
        (case.type, case.situation): (
            usage([case.webhook], case.events),
            usage([case.ingest], case.events),
        )
        for case in ingest.types
    }
    [batched] = [c for c in ingest.cases if c.batch > 1 and c.case.startswith("(b)")]
    webhook = usage([batched.webhook], batched.events)
    sent = message_cost.measure(messages)
    variants = list(sent.steps.values())
    message = sum((usage(steps.values(), sent.messages) for steps in variants), Usage()) * (
        1 / len(variants)
    )
    send_step = sum(
        (usage([steps["send (API)"]], sent.messages) for steps in variants), Usage()
    ) * (1 / len(variants))
    days = lifecycle.run(cars=cars, sample=sample)
    return Measured(
        events=events,
        batched_webhook=webhook,
        ingest_messages_per_event=webhook.sqs_messages,
        message=message,
        send_step=send_step,
        due_item=usage([days.job.meter], max(days.job.units, 1)),
        run_start=usage([days.start.meter], max(days.start.units, 1)),
        run_advance=usage([days.advance.meter], max(days.advance.units, 1)),
        idle_tick=usage([days.morning.meter], 1),
        analytics=measure_analytics(since=projections_per_compaction(MONTH)),
        campaign=measure_campaign(),
    )


def analytics_window_s() -> int:
    """The projection's SQS batching window (template.yaml)."""
    from infra import template

    for subscription in template.sqs_subscriptions(template.load()):
        if subscription.function == "AnalyticsFunction":
            return subscription.batching_window_s
    raise RuntimeError("template.yaml: AnalyticsFunction has no SQS subscription")


def compaction_interval_min() -> float:
    from trigly.analytics.requests import MIN_INTERVAL

    return MIN_INTERVAL.total_seconds() / 60


def daytime_notices(month: Month) -> float:
    """Notices by day: the website's events and each API send's 2 (see `Month`)."""
    web = sum(month.web_events.values())
    other_messages = month.messages * (1 - month.journey_share)
    return web + other_messages * 2


def notices_per_window(month: Month) -> float:
    """Daytime notices a projection takes: the one that opens the window and those within it."""
    gap_s = month.days * month.active_hours * 3600 / daytime_notices(month)
    return 1 + analytics_window_s() / gap_s


def projections_per_compaction(month: Month) -> int:
    """Daytime projections a compaction folds: one MIN_INTERVAL's worth."""
    gap_s = month.days * month.active_hours * 3600 / daytime_notices(month)
    return max(1, round(compaction_interval_min() * 60 / (gap_s * notices_per_window(month))))


def ingest_batch_size() -> int:
    from infra import template

    for subscription in template.sqs_subscriptions(template.load()):
        if subscription.function == "IngestFunction":
            return int(subscription.batch_size)
    raise RuntimeError("template.yaml: IngestFunction has no SQS subscription")


def month_of_work(m: Measured, month: Month = MONTH) -> list[Work]:
    dms = sum(month.dms_events.values())
    web = sum(month.web_events.values())
    ingest_invocations = (dms + web) * m.ingest_messages_per_event / ingest_batch_size()
    works = [
        Work(
            "nightly DMS sync: webhook",
            "WebhookFunction",
            dms,
            dms / month.sync_batch,
            m.batched_webhook,
            http_requests=dms / month.sync_batch,
        ),
        Work(
            "website: webhook",
            "WebhookFunction",
            web,
            web,
            _average([m.events[k][0] for k in month.web_events], month.web_events.values()),
            http_requests=web,
        ),
        Work(
            "ingest",
            "IngestFunction",
            dms + web,
            ingest_invocations,
            _average(
                [m.events[k][1] for k in [*month.dms_events, *month.web_events]],
                [*month.dms_events.values(), *month.web_events.values()],
            ),
        ),
    ]
    journey_messages = month.messages * month.journey_share
    runs = journey_messages / (1 + month.nudge_share)  # each started run sends, half nudge
    nudges = journey_messages - runs
    other_messages = month.messages - journey_messages
    delivery = m.message + m.send_step * -1  # the channel and feedback workers' part
    works += [
        Work("daily job", "SchedulerFunction", runs, month.days, m.due_item),
        Work("journeys: start runs, send", "JourneyFunction", runs, runs / 10, m.run_start),
        Work("journeys: nudges a week on", "JourneyFunction", nudges, nudges / 10, m.run_advance),
        Work(
            "campaign / API sends",
            "ApiFunction",
            other_messages,
            other_messages,
            m.send_step,
            http_requests=other_messages,
        ),
        Work(
            "delivery: channel + feedback workers",
            "ChannelWorkerFunction",
            month.messages,
            2 * month.messages / 10,
            delivery,
        ),
        Work(
            "hourly tick (whole stack, counted in full)",
            "SchedulerFunction",
            month.hours,
            month.hours,
            m.idle_tick,
        ),
    ]
    if abs(daytime_notices(month) - (web + other_messages * 2)) > 1e-6:
        raise RuntimeError("daytime_notices disagrees with the month's sends")
    works += analytics_work(
        m.analytics,
        month,
        daytime=web + other_messages * 2,
        burst=dms + journey_messages * 3,
    )
    return works


def analytics_work(
    a: Analytics, month: Month, *, daytime: float, burst: float, prefix: str = "analytics"
) -> list[Work]:
    """The analytics view's month: `daytime` notices (windows of `notices_per_window`, each one
    projection), `burst` customers projected in batches, the compactions they ask for, the
    readers."""
    # By day every MIN_INTERVAL slot of the active hours is compacted, each folding what
    # `measure_analytics` meters (`projections_per_compaction`); a burst every MIN_INTERVAL
    # while it lasts.
    interval = compaction_interval_min()
    per_burst = max(1, -(-month.burst_minutes // interval))
    compactions = month.days * (
        month.active_hours * 60 / interval + month.bursts_per_day * per_burst
    )
    projections = daytime / notices_per_window(month) if daytime else 0.0
    return [
        Work(
            f"{prefix}: projections by day", "AnalyticsFunction", projections, projections, a.single
        ),
        # The window's further customers: each one more Query in the same projection, priced
        # as a customer of a batch (its share of the batch's PUT and SQS included: an upper bound).
        Work(
            f"{prefix}: more customers in a day window",
            "AnalyticsFunction",
            daytime - projections,
            0,
            a.batch,
        ),
        Work(
            f"{prefix}: projections in bursts",
            "AnalyticsFunction",
            burst,
            burst / month.projection_batch,
            a.batch,
        ),
        Work(
            f"{prefix}: compaction",
            "AnalyticsCompactionFunction",
            compactions,
            compactions,
            a.compaction,
            cpu_s=a.compaction_cpu_s,
        ),
        Work(f"{prefix}: readers (open_view)", "ApiFunction", month.view_reads, 0, a.read),
    ]


def campaign_work(m: Measured, month: Month = MONTH) -> list[Work]:
    """What `month.campaign_recipients` campaign messages add (the analytics view's part too)."""
    steps = m.campaign.steps
    n = month.campaign_recipients
    sent = n * (1 - month.campaign_holdout)
    sending_minutes = month.campaigns * (CUSTOMERS / month.campaign_throttle)
    return [
        Work(  # a campaign's own, whatever its audience
            "campaigns: create (API)",
            "ApiFunction",
            month.campaigns,
            month.campaigns,
            steps["create (API)"] * m.campaign.recipients,
            http_requests=month.campaigns,
        ),
        # A page of min(100, throttle) recipients an invocation, plus the looks between pages
        Work(
            "campaigns: fan-out (journey worker)",
            "JourneyFunction",
            n,
            n / 100 * 2,
            steps["fan-out (journey worker)"],
        ),
        Work(
            "campaigns: channel worker",
            "ChannelWorkerFunction",
            n,
            sent / 10,
            steps["channel worker"],
        ),
        Work(
            "campaigns: feedback worker", "FeedbackFunction", n, sent / 10, steps["feedback worker"]
        ),
        # Each recipient's collection is written at the decision, at `sent` and at `delivered`;
        # the sends come a page a few seconds apart, so the windows hold many customers.
        *analytics_work(
            m.analytics,
            replace(
                month,
                days=1,
                active_hours=0,
                bursts_per_day=0,
                view_reads=month.campaigns,
            ),
            daytime=0,
            burst=3 * n,
            prefix="campaigns: analytics",
        ),
        Work(
            "campaigns: compactions while sending",
            "AnalyticsCompactionFunction",
            sending_minutes / compaction_interval_min(),
            sending_minutes / compaction_interval_min(),
            m.analytics.compaction,
            cpu_s=m.analytics.compaction_cpu_s,
        ),
    ]


def _average(usages: list[Usage], weights: Iterable[int]) -> Usage:
    weights = list(weights)
    total = sum((u * w for u, w in zip(usages, weights, strict=True)), Usage())
    return total * (1 / sum(weights))


@dataclass(frozen=True)
class Bill:
    by_service: dict[str, float]
    by_work: dict[str, float]
    fixed: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.by_service.values())


def bill(works: list[Work], memory_gb: dict[str, float], *, stack: bool = True) -> Bill:
    """The month's dollars; `stack` adds what does not grow with the work (cold starts,
    storage, credentials, the fixed costs) — off for a line added to a month (campaigns)."""
    by_service: dict[str, float] = {}
    by_work: dict[str, float] = {}

    def add(service: str, work: str, dollars: float) -> None:
        by_service[service] = by_service.get(service, 0.0) + dollars
        by_work[work] = by_work.get(work, 0.0) + dollars

    functions_used = set()
    for w in works:
        t = w.total
        functions_used.add(w.function)
        add("DynamoDB requests", w.name, t.rru * PRICE_RRU + t.wru * PRICE_WRU)
        # Lambda's poller receives and deletes each batch it hands a function.
        pollers = 2 * w.invocations if w.function != "WebhookFunction" else 0.0
        if w.function in {"ApiFunction", "SchedulerFunction"}:
            pollers = 0.0
        add("SQS", w.name, (t.sqs + pollers) * PRICE_SQS)
        add("EventBridge", w.name, t.events * PRICE_EVENTS)
        add(
            "S3 (analytics view)" if "analytics" in w.name else "S3, Secrets Manager, SSM",
            w.name,
            t.s3_puts * PRICE_S3_PUT
            + t.s3_gets * PRICE_S3_GET
            + t.secret_calls * PRICE_SECRET_CALL,
        )
        add("API Gateway", w.name, w.http_requests * PRICE_HTTP_API)
        memory = memory_gb[w.function]
        gb_s = w.lambda_seconds(memory) * memory
        add("Lambda", w.name, w.invocations * PRICE_INVOKE + gb_s * PRICE_GB_S)
        log_bytes = w.invocations * LOG_BYTES_PER_INVOCATION + w.units * LOG_BYTES_PER_UNIT
        add("CloudWatch Logs", w.name, log_bytes / 1e9 * PRICE_LOGS_GB)
    if not stack:
        return Bill(by_service, by_work, {})
    cold = len(functions_used) * COLD_STARTS_PER_FUNCTION_HOUR * MONTH.hours * COLD_START_S
    add("Lambda", "cold starts", cold * 0.5 * PRICE_GB_S)
    # Each configured channel's credentials are a standard-tier parameter of the tenant's (free;
    # as Secrets Manager secrets they were $0.40 a month each). Their reads are priced nothing:
    # `usage` counts them with `other`, in the units' latency only.
    add("S3, Secrets Manager, SSM", "channel credentials", CHANNEL_PARAMETERS * PRICE_PARAMETER)
    storage_gb = CUSTOMERS * STORED_BYTES_PER_CUSTOMER / 1e9
    add("DynamoDB storage + PITR", "storage", storage_gb * (PRICE_STORAGE_GB + PRICE_PITR_GB))
    # The view's snapshot: 147 MB of Parquet for 500,000 customers (ADR 0022, synthetic rows
    # that compress worse than real ones), ~300 bytes a customer.
    if any(w.name.startswith("analytics") for w in works):
        add(
            "S3 (analytics view)",
            "analytics: snapshot storage",
            CUSTOMERS * 300 / 1e9 * PRICE_S3_GB,
        )
    fixed = fixed_costs()
    return Bill(by_service, by_work, fixed)


def fixed_costs() -> dict[str, float]:
    """A deployed stack's own monthly costs, shared by every tenant on it."""
    from infra import template

    loaded = template.load()
    alarms = len(template.resources_of_type(loaded, "AWS::CloudWatch::Alarm"))
    queues = len(template.sqs_subscriptions(loaded))
    # An SQS event source mapping long-polls with 5 pollers, ~3 empty receives a minute each.
    polling = queues * 5 * 3 * 60 * MONTH.hours * PRICE_SQS
    secrets = len(template.resources_of_type(loaded, "AWS::SecretsManager::Secret"))
    return {
        f"{alarms} CloudWatch alarms": alarms * PRICE_ALARM,
        f"{queues} queue mappings' idle long polling": polling,
        f"{secrets} stack secrets (link keys, suppression key)": secrets * PRICE_SECRET,
    }


def memory_by_function() -> dict[str, float]:
    from infra import template

    loaded = template.load()
    default = template.function_globals(loaded).get("MemorySize", 128)
    return {
        name: float(properties.get("MemorySize", default)) / 1024
        for name, properties in template.functions(loaded).items()
    }


def report(m: Measured, b: Bill, campaigns: Bill | None = None, without: Bill | None = None) -> str:
    """`without`: the same month without the analytics view (the model before issue 11)."""
    lines = [f"AWS infrastructure per {CUSTOMERS:,} customers per month (us-east-1 list prices)"]
    lines.append(
        "  by service"
        + ("                                      (without the view)" if without else "")
    )
    for service, dollars in sorted(b.by_service.items(), key=lambda kv: -kv[1]):
        before = f"   ${without.by_service.get(service, 0.0):8.4f}" if without else ""
        lines.append(f"    {service:<44} ${dollars:8.4f}{before}")
    verdict = "met" if b.total <= GOAL else "NOT met"
    before = f"   ${without.total:8.4f}" if without else ""
    lines.append(f"    {'TOTAL':<44} ${b.total:8.4f}{before}   (goal ≤ ${GOAL:.2f}: {verdict})")
    lines.append("  by work")
    for work, dollars in sorted(b.by_work.items(), key=lambda kv: -kv[1]):
        lines.append(f"    {work:<44} ${dollars:8.4f}")
    if campaigns is not None:
        month = MONTH
        lines.append(
            f"  campaigns, not in TOTAL: {month.campaign_recipients:,} recipients a month"
            f" ({month.campaign_recipients / CUSTOMERS:g} per customer, {month.campaigns}"
            f" campaigns to everyone, {month.campaign_holdout:.0%} held out)"
        )
        for service, dollars in sorted(campaigns.by_service.items(), key=lambda kv: -kv[1]):
            if dollars >= 0.00005:
                lines.append(f"    {service:<44} ${dollars:8.4f}")
        lines.append(f"    {'campaigns':<44} ${campaigns.total:8.4f}")
        for work, dollars in sorted(campaigns.by_work.items(), key=lambda kv: -kv[1]):
            lines.append(f"      {work:<42} ${dollars:8.4f}")
        both = b.total + campaigns.total
        verdict = "met" if both <= GOAL else "NOT met"
        lines.append(
            f"    {'TOTAL with campaigns':<44} ${both:8.4f}   (goal ≤ ${GOAL:.2f}: {verdict})"
        )
    lines.append("  fixed, per deployed stack (shared by all its tenants)")
    for item, dollars in b.fixed.items():
        lines.append(f"    {item:<44} ${dollars:8.2f}")
    lines.append("  measured units")
    for name, u in (
        ("event, webhook share in a batch of 100", m.batched_webhook),
        ("message send → delivered", m.message),
        ("daily job, per due item", m.due_item),
        ("journey run start (send included)", m.run_start),
        ("journey run a week on (nudge included)", m.run_advance),
        ("idle hourly tick", m.idle_tick),
        ("projection of one customer's notice", m.analytics.single),
        (f"projection, per customer of {m.analytics.customers}", m.analytics.batch),
        (f"compaction, {m.analytics.since} projections since", m.analytics.compaction),
        ("open_view, empty cache", m.analytics.read),
        *((f"campaign recipient: {k}", u) for k, u in m.campaign.steps.items()),
    ):
        lines.append(
            f"    {name:<44} {u.dynamodb:6.2f} DynamoDB, {u.rru:5.2f} RRU, {u.wru:5.2f} WRU,"
            f" {u.sqs:5.2f} SQS, {u.events:4.2f} events, {u.s3_puts:5.2f} S3 PUT/LIST,"
            f" {u.s3_gets:5.2f} S3 GET"
        )
    lines.append(
        f"    compaction CPU (process, moto's S3 included): {m.analytics.compaction_cpu_s:.2f} s"
    )
    return "\n".join(lines)


def main() -> Bill:
    measured = measure()
    memory = memory_by_function()
    works = month_of_work(measured)
    result = bill(works, memory)
    campaigns = bill(campaign_work(measured), memory, stack=False)
    without = bill([w for w in works if not w.name.startswith("analytics")], memory)
    print(report(measured, result, campaigns, without))
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
