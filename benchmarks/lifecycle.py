"""The daily lifecycle job and the journey tick at scale: what they read per due item, what they
send, and what the journey worker then costs per started run and per executed step.

On the template deployed into an in-process moto (as `benchmarks.ingest_cost` does):

- one tenant (Europe/Moscow) with a service location; one prototype customer with a 2023 Kia
  Rio (bought here, serviced twice) sent through the webhook and applied by the ingest handler,
  so its items are the ones production writes, and its maintenance reminder fires on the
  measured day (`car_schedule` put it on the `due` index under `T#{tenant}#LIFE#{day}`);
- `--cars` cars (default 100,000), cloned from the prototype with their own VIN, customer id,
  phone and e-mail and written in bulk (BatchWriteItem, unmetered): every car's date triggers
  (the prototype's trigger items and its car record, which carries the maintenance reminder;
  dates moved), 1 % of them due on the measured day and the rest spread over the next 365 days;
  for the due cars also the customer's collection (profile, the car's view, sale, two visits,
  the consent ledger) and the lookups.

Then, metered by `benchmarks.meter` (every request, its operation, capacity from the items):

1. the hourly tick at 10:02 local time (a cold container: tenant cache empty; `hourly_tick`, as
   the handler calls it): the watermark, the hour buckets' markers, and one job queued per tenant
   whose morning came; then the worker's part of the tenant's job (`queue_due_triggers`: the
   daily job) reads the tenant's due partitions and queues one message per due trigger;
2. the journey worker (`functions.journeys.app.handler`, batches of the template's size) over
   `--sample` of those messages (default 200): one started run each, the reminder sent;
3. the other due customers' runs are cloned from the sample's (so the hour's buckets hold every
   run the morning started, each in its customer's shard, as on AWS), the clock moves 7 days on
   (a punctual tick, unmetered, just before the runs wake), and the tick queues the runs whose
   `wait_for` timed out (the `DUE#{hour}#{shard}` buckets, shared with held messages);
4. the worker over the sample's runs again: timeout, nudge sent, the next wait.

Asserted on every run: no DynamoDB Scan in any phase, and the daily job reads at most 1.2 items
per due item (`READ_GOAL`). moto's Query walks the whole table, so the wall times here are the
emulator's; the AWS projection (`projection()`) is computed from the request counts instead.

    .venv/bin/python -m benchmarks.lifecycle --cars 100000 --sample 40  # documented: ~22 min
    .venv/bin/python -m benchmarks.lifecycle --cars 10000 --sample 50   # make bench's: ~3 min

Emulator time grows with the table (every Query the worker makes walks all ~5 items per car),
not the per-run figures: a larger sample at 100,000 cars costs ~11 s of moto per worker message.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any

from benchmarks.ingest_cost import (
    Dms,
    IngestPoller,
    LabelledMeter,
    Person,
    emulated_stack,
    forget_metrics,
    service_order,
    sold,
    table_names,
    upserted,
)
from benchmarks.meter import install

if TYPE_CHECKING:
    from infra.deploy import DeployedStack

CARS = 100_000
DUE_SHARE = 0.01
SAMPLE = 200
READ_GOAL = 1.2  # items the daily job reads per due item (issue 6)
# The measured day is tomorrow (business time only moves forward, so no fixed date); 10:00 in
# Moscow is 07:00 UTC.
DAY = datetime.now(UTC).date() + timedelta(days=1)
MORNING = datetime.combine(DAY, clock_time(7, 2), UTC)
SETUP_AT = datetime.combine(DAY, clock_time(4, 0), UTC)
LOCATION = "kzn-pobedy"
PROTOTYPE = Person(1)
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}

# ------------------------------------------------------------------------------ measuring


@dataclass
class Phase:
    """One metered piece of work: its requests, the units it stands for, its wall time."""

    name: str
    meter: LabelledMeter
    units: int = 0  # due items, started runs, runs advanced...
    steps: int = 0  # step transitions the engine recorded (worker phases)
    seconds: float = 0.0  # wall time (moto in process)
    aws_seconds: float = 0.0  # of which inside botocore calls
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return len(self.meter.calls)

    def ops(self, service: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for call in self.meter.calls:
            if service is None or call.service == service:
                name = f"{call.service}.{call.operation}"
                counts[name] = counts.get(name, 0) + 1
        return counts

    @property
    def scans(self) -> int:
        return self.meter.totals().scans

    @property
    def items_read(self) -> int:
        return sum(
            charge.items
            for call in self.meter.calls
            if call.service == "dynamodb" and call.operation in READS
            for charge in call.charges
        )

    def messages(self, operation: str) -> int:
        return sum(c.messages for c in self.meter.calls if c.operation == operation)

    @property
    def queued(self) -> int:
        """Journey and channel messages sent (SendMessage / SendMessageBatch entries)."""
        return sum(
            c.messages
            for c in self.meter.calls
            if c.service == "sqs" and c.operation in {"SendMessage", "SendMessageBatch"}
        )


class AwsTimer:
    """Wall time spent inside botocore API calls (moto in process + botocore's own work)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.depth = 0

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        timer = self

        def timed(client: Any, operation: str, params: Any) -> Any:
            # The meter's side requests run inside the call they price: time the outer one.
            timer.depth += 1
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                timer.depth -= 1
                if not timer.depth:
                    timer.seconds += time.perf_counter() - started

        botocore.client.BaseClient._make_api_call = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextlib.contextmanager
def measuring(phase: Phase) -> Iterator[Phase]:
    timer = AwsTimer()
    started = time.perf_counter()
    with timer.running(), phase.meter:
        yield phase
    phase.seconds += time.perf_counter() - started
    phase.aws_seconds += timer.seconds


# ------------------------------------------------------------------------------ the data


@dataclass(frozen=True)
class Car:
    """Clone `n` of the prototype: its own car, customer and contacts."""

    n: int

    @property
    def vin(self) -> str:
        return f"XWEPH81ADK{1_000_000 + self.n:07d}"

    @property
    def customer_id(self) -> str:
        return f"cus_0bench{self.n:016d}"

    @property
    def phone(self) -> str:
        return f"+7916{1_000_000 + self.n:07d}"

    @property
    def email(self) -> str:
        return f"anna.volkova.b{self.n}@mail.ru"

    @property
    def external_id(self) -> str:
        return f"C-B{self.n:07d}"


@dataclass(frozen=True)
class Prototype:
    """The items production wrote for the prototype customer and car (low-level form)."""

    customer_id: str
    collection: list[dict[str, Any]]  # the customer's items
    car: list[dict[str, Any]]  # the car's items but its triggers
    # On the due index: trigger items and the car record, whose maintenance reminder fires on DAY.
    triggers: list[dict[str, Any]]
    lookups: list[dict[str, Any]]

    def substitutions(self, car: Car) -> list[tuple[str, str]]:
        p = PROTOTYPE
        return [
            (self.customer_id, car.customer_id),
            (p.vin, car.vin),
            (p.email, car.email),
            (p.external_id, car.external_id),
            ("+79160000001", car.phone),
        ]


def _replace(text: str, subs: list[tuple[str, str]]) -> str:
    for old, new in subs:
        text = text.replace(old, new)
    return text


def _clone_value(value: Mapping[str, Any], subs: list[tuple[str, str]]) -> dict[str, Any]:
    [(kind, data)] = value.items()
    if kind == "S":
        return {"S": _replace(data, subs)}
    if kind == "SS":
        return {"SS": [_replace(s, subs) for s in data]}
    if kind == "B":  # CompressedText: the JSON document, zlib-compressed (maybe with a dictionary)
        from trigly.store import dictionaries

        text = _replace(dictionaries.decompress(data), subs)
        return {"B": dictionaries.compress(text, dictionaries.dictionary_of(data))}
    return dict(value)


def clone(item: Mapping[str, Any], subs: list[tuple[str, str]]) -> dict[str, Any]:
    return {name: _clone_value(value, subs) for name, value in item.items()}


def _shift(day: str, by: timedelta) -> str:
    return (date.fromisoformat(day) + by).isoformat()


def trigger_for(
    item: Mapping[str, Any], subs: list[tuple[str, str]], tenant_id: str, by: timedelta
) -> dict[str, Any]:
    """A prototype's trigger for another car, `by` days later (every date in it moved)."""
    from trigly.store.dictionaries import compress, decompress, dictionary_of
    from trigly.store.journeys import trigger_partition

    cloned = clone(item, subs)
    # A trigger item's document is the start; a car record (compressed) carries its start.
    compressed = "B" in cloned["doc"]
    doc = json.loads(decompress(cloned["doc"]["B"]) if compressed else cloned["doc"]["S"])
    start = doc["due_start"] if compressed else doc
    fire_on = date.fromisoformat(start["fire_on"]) + by
    start["fire_on"], start["due_on"] = fire_on.isoformat(), _shift(start["due_on"], by)
    details = start.get("details", {})
    if isinstance(details.get("due_on"), str):
        details["due_on"] = _shift(details["due_on"], by)
    for name, day in list((details.get("window") or {}).items()):
        details["window"][name] = _shift(day, by)
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    if compressed:
        cloned["doc"] = {"B": compress(text, dictionary_of(cloned["doc"]["B"]))}
    else:
        cloned["doc"] = {"S": text}
    cloned["due_pk"] = {"S": trigger_partition(tenant_id, fire_on)}
    return cloned


def prototype_events() -> list[dict[str, Any]]:
    """A customer with SMS consent and a 2023 Kia Rio bought here, serviced a year ago less 14
    days: its time-based maintenance is due in 14 days, so the reminder fires on DAY."""
    from dateutil.relativedelta import relativedelta

    p = PROTOTYPE
    last = DAY + timedelta(days=14) - relativedelta(months=12)
    return [
        upserted(p, "s0"),
        sold(p, "s1", p.vin, "2023-03-15T15:30:00+03:00"),
        service_order(p, "s2", p.vin, f"{last - relativedelta(months=12)}T15:00:00+03:00", 15_000),
        service_order(p, "s3", p.vin, f"{last}T15:00:00+03:00", 30_000),
    ]


def _query(table: str, pk: str) -> list[dict[str, Any]]:
    import boto3

    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
    }
    while True:
        page = client.query(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def load_prototype(table: str, tenant_id: str, connector_id: str) -> Prototype:
    from trigly.store import keys
    from trigly.store.vehicles import CAR_SK

    p = PROTOTYPE
    [xid] = _query(table, keys.external_id(tenant_id, connector_id, p.external_id))
    customer_id = xid["customer_ids"]["SS"][0]
    car_items = _query(table, keys.vehicle(tenant_id, p.vin))
    # The date triggers: trigger items, and the car record carrying the maintenance reminder.
    triggers = [i for i in car_items if "due_pk" in i]
    fires = {i["sk"]["S"]: i["due_pk"]["S"].rsplit("#", 1)[-1] for i in triggers}
    if fires.get(CAR_SK) != DAY.isoformat() or min(fires.values()) < str(DAY):
        raise RuntimeError(f"the prototype's maintenance reminder does not fire on {DAY}: {fires}")
    if [sk for sk, day in fires.items() if day == DAY.isoformat()] != [CAR_SK]:
        raise RuntimeError(f"more than the maintenance reminder fires on {DAY}: {fires}")
    lookups = [xid]
    lookups += _query(table, keys.phone(tenant_id, "+79160000001"))
    lookups += _query(table, keys.email(tenant_id, p.email))
    return Prototype(
        customer_id=customer_id,
        collection=_query(table, keys.customer(tenant_id, customer_id)),
        car=[i for i in car_items if "due_pk" not in i and not i["sk"]["S"].startswith("DUE#")],
        triggers=triggers,
        lookups=lookups,
    )


def batch_write(table: str, items: Iterator[dict[str, Any]]) -> int:
    """BatchWriteItem, 25 items a request (unmetered set-up)."""
    import boto3

    client = boto3.client("dynamodb")
    written, batch = 0, list[dict[str, Any]]()

    def flush() -> None:
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in batch]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    for item in items:
        batch.append(item)
        if len(batch) == 25:
            flush()
            written += len(batch)
            batch = []
    if batch:
        flush()
        written += len(batch)
    return written


def due_cars(cars: int) -> list[Car]:
    """Every 100th car (1 %) is due on DAY."""
    step = round(1 / DUE_SHARE)
    return [Car(n) for n in range(0, cars, step)]


def bulk_load(table: str, tenant_id: str, proto: Prototype, cars: int) -> int:
    """Every car's triggers (as many as the prototype's: one per date-triggered journey). A due
    car's are the prototype's own dates (its maintenance reminder fires on DAY, the others
    later); every other car's are moved 1-365 days on, so nothing else fires on DAY."""
    due = {c.n for c in due_cars(cars)}

    def items() -> Iterator[dict[str, Any]]:
        for n in range(cars):
            car = Car(n)
            subs = proto.substitutions(car)
            by = timedelta(days=0 if n in due else 1 + n % 365)
            for trigger in proto.triggers:
                yield trigger_for(trigger, subs, tenant_id, by)
            if n in due:
                for item in [*proto.collection, *proto.car, *proto.lookups]:
                    yield clone(item, subs)

    return batch_write(table, items())


# ------------------------------------------------------------------------------ the phases


@dataclass
class Lifecycle:
    cars: int
    due: int
    sample: int
    table_items: int
    setup_seconds: float
    job: Phase
    morning: Phase  # the tick at the tenant's 10:00 (queues its day's job)
    start: Phase
    tick: Phase
    advance: Phase
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def receive_all(queue_url: str) -> list[dict[str, Any]]:
    """Everything waiting in a queue (as Lambda's poller would take it; unmetered)."""
    import boto3

    sqs = boto3.client("sqs")
    got: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return got
        got += [dict(m) for m in batch]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )


def purge(stack: DeployedStack, *names: str) -> None:
    """Empty queues whose consumers are out of this benchmark (the channel workers)."""
    import boto3

    sqs = boto3.client("sqs")
    for name in names:
        with contextlib.suppress(Exception):
            sqs.purge_queue(QueueUrl=stack.queues[name].url)


def work(stack: DeployedStack, bodies: list[str], phase: Phase) -> None:
    """The journey worker over `bodies`, in batches of the template's size, metered."""
    from functions.journeys.app import handler
    from tests.support import FakeLambdaContext, sqs_event

    size = next((m.batch_size for m in stack.queue_mappings if m.function == "JourneyFunction"), 10)
    arn = stack.queues["JourneyQueue"].arn
    for start in range(0, len(bodies), size):
        with measuring(phase):
            result = handler(sqs_event(bodies[start : start + size], arn), FakeLambdaContext())
        forget_metrics()
        if result.get("batchItemFailures"):
            raise RuntimeError(f"journey worker failed records: {result['batchItemFailures']}")


def cold_scheduler() -> None:
    """An hourly function's container is usually new: nothing cached."""
    from trigly.journeys import catalog
    from trigly.platform import tenancy

    tenancy._tenant_cache.clear()
    catalog._cache.forget()


def runs_of(tenant_id: str, cars: list[Car]) -> dict[str, Any]:
    """The sample's runs (unmetered): customer id → Enrollment."""
    from trigly.journeys.engine import Enrollment
    from trigly.store import journeys as store

    runs = {}
    for car in cars:
        ref = store.RunRef.of(
            tenant_id, car.customer_id, "maintenance_reminder", f"{car.vin}:maintenance:3"
        )
        loaded = store.load_run(ref)
        if loaded is not None:
            runs[car.customer_id] = Enrollment.model_validate_json(loaded[0])
    return runs


def clone_runs(table: str, tenant_id: str, model: Car, others: list[Car]) -> int:
    """The run the worker wrote for `model`, for each of `others` (their morning's runs), on the
    `due` index in their own customer's shard (its bucket marked, as the store does)."""
    from trigly.store import due_hours, keys

    items = [
        i
        for i in _query(table, keys.customer(tenant_id, model.customer_id))
        if i["sk"]["S"].startswith("JRN#")
    ]

    def cloned(car: Car, item: dict[str, Any]) -> dict[str, Any]:
        copy = clone(item, [(model.customer_id, car.customer_id), (model.vin, car.vin)])
        if "due_sk" in copy:
            moment = datetime.fromisoformat(copy["due_sk"]["S"].split("#", 1)[0])
            due_pk, due_sk = due_hours.place(moment, tenant_id, car.customer_id, copy["sk"]["S"])
            copy["due_pk"], copy["due_sk"] = {"S": due_pk}, {"S": due_sk}
        return copy

    return batch_write(table, (cloned(c, i) for c in others for i in items))


def run(cars: int = CARS, sample: int = SAMPLE) -> Lifecycle:
    install()
    started = time.perf_counter()
    with emulated_stack() as stack:
        from trigly.journeys.due import queue_due_triggers
        from trigly.locations.model import LocationDetails
        from trigly.locations.service import create_location
        from trigly.messaging.settings import change_settings
        from trigly.platform import clock, tenancy
        from trigly.scheduling.tick import hourly_tick

        names = table_names(stack)
        table = stack.physical_ids["MainTable"]
        business = clock.AdjustableClock(SETUP_AT)
        clock.use(business)
        try:
            tenant = tenancy.create_tenant("Автомир")
            # Sandbox mode: the messages record to the outbox, as on the local stack.
            change_settings(tenant.tenant_id, {"sandbox": True})
            connector = tenancy.create_connector(tenant.tenant_id, "DMS")
            hours = [{"weekday": d, "opens": "08:00", "closes": "20:00"} for d in range(6)]
            create_location(
                tenant.tenant_id,
                LocationDetails.model_validate(
                    {
                        "name": "Автомир Казань, сервис",
                        "kind": "service_station",
                        "timezone": "Europe/Moscow",
                        "region": "RU-TA",
                        "city": "Казань",
                        "address": "Казань, пр. Победы, 141",
                        "phone": "+78432000000",
                        "capacity": {"posts": 6, "hours": hours},
                    }
                ),
                LOCATION,
            )
            Dms(connector.connector_id, connector.secret).post(prototype_events())
            IngestPoller(stack).drain(None)
            proto = load_prototype(table, tenant.tenant_id, connector.connector_id)
            # The prototype itself would be one more due car: take its triggers off the index.
            batch_write(
                table, ({k: v for k, v in t.items() if k[:3] != "due"} for t in proto.triggers)
            )
            written = bulk_load(table, tenant.tenant_id, proto, cars)
            setup_seconds = time.perf_counter() - started
            due = due_cars(cars)

            # The prototype's domain events reached the journey queue through the bus: not ours.
            receive_all(stack.queues["JourneyQueue"].url)

            # 1. the hourly tick at 10:02 in Moscow
            business.move_to(MORNING)
            cold_scheduler()
            morning = Phase("tick (morning)", LabelledMeter(names))
            job = Phase("daily job", LabelledMeter(names))
            # The tick queues one job per tenant whose morning came; the worker reads the
            # tenant's due partitions and queues one message per due trigger.
            with measuring(morning):
                morning.units = hourly_tick(clock.now()).tenant_days
            days = [json.loads(m["Body"]) for m in receive_all(stack.queues["JourneyQueue"].url)]
            with measuring(job):
                job.units = sum(
                    queue_due_triggers(b["tenant_id"], [date.fromisoformat(d) for d in b["days"]])
                    for b in days
                )
            queued = receive_all(stack.queues["JourneyQueue"].url)

            # 2. the worker starts the sample's runs
            triggers = [json.loads(m["Body"]) for m in queued]
            chosen = {c.vin for c in due[:sample]}
            started_bodies = [
                json.dumps(t) for t in triggers if t.get("owner_pk", "")[-17:] in chosen
            ]
            start = Phase("worker: start from trigger", LabelledMeter(names))
            start.units = len(started_bodies)
            work(stack, started_bodies, start)
            sampled = due[:sample]
            after_start = runs_of(tenant.tenant_id, sampled)
            start.steps = sum(len(r.history) for r in after_start.values())
            start.extra["runs"] = len(after_start)
            purge(stack, *[q for q in stack.queues if q.startswith("Channel")])

            # 3. the rest of the morning's runs, then the tick when their wait ends
            clone_runs(table, tenant.tenant_id, sampled[0], due[sample:])
            wakes = [r.due_at for r in after_start.values() if r.due_at is not None]
            business.move_to(min(wakes) - timedelta(minutes=1))
            hourly_tick(clock.now())  # the punctual tick before they wake (unmetered)
            receive_all(stack.queues["JourneyQueue"].url)
            business.move_to(max(wakes) + timedelta(minutes=1))
            cold_scheduler()
            tick = Phase("journey tick", LabelledMeter(names))
            with measuring(tick):
                tick.units = hourly_tick(clock.now()).runs
            ran = receive_all(stack.queues["JourneyQueue"].url)

            # 4. the worker advances the sample's runs
            mine = {c.customer_id for c in sampled}
            run_bodies = [
                m["Body"] for m in ran if json.loads(m["Body"]).get("customer_id") in mine
            ]
            advance = Phase("worker: advance due run", LabelledMeter(names))
            advance.units = len(run_bodies)
            work(stack, run_bodies, advance)
            after_tick = runs_of(tenant.tenant_id, sampled)
            advance.steps = sum(
                len(r.history) - len(after_start[c].history) for c, r in after_tick.items()
            )
            table_items = written + 30  # the tenant, the prototype and its set-up
        finally:
            clock.use(clock.SystemClock())

    result = Lifecycle(
        cars=cars,
        due=len(due),
        sample=len(sampled),
        table_items=table_items,
        setup_seconds=setup_seconds,
        job=job,
        morning=morning,
        start=start,
        tick=tick,
        advance=advance,
        seconds=time.perf_counter() - started,
    )
    result.problems = check(result)
    return result


def check(result: Lifecycle) -> list[str]:
    """The goals asserted on every run (the report says which failed)."""
    problems = []
    for phase in (result.morning, result.job, result.start, result.tick):
        if phase.scans:
            problems.append(f"{phase.name}: {phase.scans} Scan call(s)")
    if result.advance.scans:
        problems.append(f"{result.advance.name}: {result.advance.scans} Scan call(s)")
    if result.morning.units != 1:
        problems.append(f"the morning's tick queued {result.morning.units} tenant days, not 1")
    due_now = result.due  # the prototype's own trigger was taken off in set-up
    if result.job.units != due_now:
        problems.append(f"daily job queued {result.job.units} triggers, {due_now} were due")
    if result.job.items_read > READ_GOAL * max(due_now, 1):
        problems.append(
            f"daily job read {result.job.items_read} items for {due_now} due"
            f" ({result.job.items_read / max(due_now, 1):.2f} per due item, goal <= {READ_GOAL})"
        )
    if result.start.extra.get("runs", 0) != result.sample:
        problems.append(f"{result.start.extra.get('runs')} runs started of {result.sample}")
    if result.tick.units != due_now:
        problems.append(f"the tick queued {result.tick.units} runs, {due_now} were due")
    if result.advance.units != result.sample:
        problems.append(f"{result.advance.units} of the sample's {result.sample} runs advanced")
    return problems


# ------------------------------------------------------------------------------ the AWS view

# us-east-1 list prices (aws.amazon.com/dynamodb/pricing/on-demand, /sqs/pricing,
# /lambda/pricing, /eventbridge/pricing), in effect since 1 Nov 2024 (DynamoDB's on-demand cut);
# the same figures as the import projection in docs/benchmarks.md.
PRICE_RRU = 0.125 / 1e6
PRICE_WRU = 0.625 / 1e6
PRICE_SQS = 0.40 / 1e6  # standard queue, per request (a batch of 10 under 64 KB is one)
PRICE_EVENTS = 1.00 / 1e6  # EventBridge, per custom event
PRICE_GB_S = 0.0000133334  # Lambda arm64
PRICE_INVOKE = 0.20 / 1e6
MEMORY_GB = 0.5  # template.yaml: Globals 512 MB; SchedulerFunction, JourneyFunction keep it
CPU_SLOWDOWN = 1769 / 512  # Lambda gives a full vCPU at 1,769 MB: 512 MB ≈ 0.29 vCPU
# In-region latency assumed per request (p50-ish; DynamoDB's "single-digit ms").
LATENCY = {"dynamodb": 0.005, "sqs": 0.010, "events": 0.015}
QUERY_PAGE_LATENCY = 0.050  # a 1 MB Query page
PROJECTED_CARS = 1_000_000
WORKER_CONCURRENCY = 20  # template.yaml: JourneyQueue mapping, ScalingConfig.MaximumConcurrency
WORKER_BATCH = 10
SCHEDULER_TIMEOUT = 300  # template.yaml: SchedulerFunction Timeout
WORKER_TIMEOUT = 60


def _aws_seconds(phase: Phase, service: str | None = None) -> float:
    """What the phase's requests (of one service) would take in region, one after another."""
    total = 0.0
    for call in phase.meter.calls:
        if service is not None and call.service != service:
            continue
        if call.service == "dynamodb" and call.operation == "Query":
            total += QUERY_PAGE_LATENCY
        else:
            total += LATENCY.get(call.service, 0.015)
    return total


def _cpu_seconds(phase: Phase) -> float:
    """Our code's share of the emulated run (wall minus botocore), scaled to a 512 MB Lambda."""
    return max(phase.seconds - phase.aws_seconds, 0.0) * CPU_SLOWDOWN


@dataclass(frozen=True)
class Projection:
    due: int
    job_seconds: float  # the daily job of one tenant with all the cars
    tick_seconds: float
    start_message_seconds: float
    advance_message_seconds: float
    drain_seconds: float  # the worker through the morning's messages at its concurrency
    batch_seconds: float  # one batch of 10 (the worker's timeout is per batch)
    cost: dict[str, float]  # per day, by part

    @property
    def per_day(self) -> float:
        return sum(self.cost.values())


def _cost(phase: Phase, units: float, seconds_per_unit: float) -> float:
    """Dollars for `units` of the phase's unit (requests, capacity, Lambda time)."""
    per = max(phase.units, 1)
    t = phase.meter.totals()
    sqs = sum(1 for c in phase.meter.calls if c.service == "sqs") / per
    events = sum(c.messages or 1 for c in phase.meter.calls if c.service == "events") / per
    return units * (
        t.rru / per * PRICE_RRU
        + t.wru / per * PRICE_WRU
        + sqs * PRICE_SQS
        + events * PRICE_EVENTS
        + seconds_per_unit * MEMORY_GB * PRICE_GB_S
    )


def projection(result: Lifecycle, cars: int = PROJECTED_CARS) -> Projection:
    """One morning of a tenant with `cars` cars (1 % due), and the tick a week later that
    nudges every run nobody booked (an upper bound: all of them)."""
    due = round(cars * DUE_SHARE)
    job, tick = result.job, result.tick
    scale = due / max(job.units, 1)
    # Sequential work in one invocation: the job's requests grow with the due items.
    job_seconds = (_aws_seconds(job) + _cpu_seconds(job)) * scale
    # The tick's DynamoDB requests are per hour, not per run (the watermark, the markers, one
    # Query page per shard: 10,000 runs' keys are < 1 MB a shard); its queueing grows with them.
    tick_seconds = _aws_seconds(tick, "dynamodb") + (
        _aws_seconds(tick, "sqs") + _cpu_seconds(tick)
    ) * due / max(tick.units, 1)
    start = (_aws_seconds(result.start) + _cpu_seconds(result.start)) / max(result.start.units, 1)
    advance = (_aws_seconds(result.advance) + _cpu_seconds(result.advance)) / max(
        result.advance.units, 1
    )
    drain = due * start / WORKER_CONCURRENCY
    # The poller's own SQS requests: a ReceiveMessage and a DeleteMessageBatch per batch.
    poller = 2 * due / WORKER_BATCH * PRICE_SQS
    invokes = due / WORKER_BATCH * PRICE_INVOKE
    cost = {
        "daily job": _cost(job, due, job_seconds / due),
        "worker: start runs": _cost(result.start, due, start) + poller + invokes,
        "journey tick": _cost(tick, due, tick_seconds / due),
        "worker: advance runs": _cost(result.advance, due, advance) + poller + invokes,
    }
    return Projection(
        due=due,
        job_seconds=job_seconds,
        tick_seconds=tick_seconds,
        start_message_seconds=start,
        advance_message_seconds=advance,
        drain_seconds=drain,
        batch_seconds=WORKER_BATCH * max(start, advance),
        cost=cost,
    )


# ------------------------------------------------------------------------------ the report


def _ops(phase: Phase) -> str:
    per = max(phase.units, 1)
    return ", ".join(
        f"{name.split('.', 1)[1]} {count / per:.3g}" for name, count in sorted(phase.ops().items())
    )


def _row(phase: Phase, unit: str) -> str:
    per = max(phase.units, 1)
    t = phase.meter.totals()
    ours = max(phase.seconds - phase.aws_seconds, 0.0)
    return (
        f"  {phase.name:<26} {phase.units:>6} {unit:<8} {phase.calls / per:>6.2f}"
        f" {t.dynamodb_calls / per:>6.2f} {phase.items_read / per:>6.2f} {t.rru / per:>6.2f}"
        f" {t.wru / per:>6.2f} {phase.queued / per:>5.2f} {t.scans:>4}"
        f" {phase.seconds:>8.1f} {phase.aws_seconds:>7.1f} {ours * 1000 / per:>7.1f}"
    )


def _per_step(calls: float, rru: float, wru: float, steps: float) -> str:
    steps = max(steps, 1)
    return f"{calls / steps:.2f} requests, {rru / steps:.2f} RRU, {wru / steps:.2f} WRU"


def report(result: Lifecycle) -> str:
    job, start, tick, advance = result.job, result.start, result.tick, result.advance
    due_now = max(job.units, 1)
    lines = [
        f"Lifecycle job and journey tick: {result.cars:,} cars of one tenant, {result.due:,} due"
        f" today (1 %); worker sample {result.sample}",
        f"  table: {result.table_items:,} items written in set-up (every car's date triggers;"
        " the due customers' collections, cars and lookups)",
        f"  set-up {result.setup_seconds:.0f} s, all {result.seconds:.0f} s"
        " (wall time in moto, whose Query walks the whole table)",
        "",
        f"  {'per unit':<26} {'units':>6} {'':<8} {'calls':>6} {'DDB':>6} {'items':>6}"
        f" {'RRU':>6} {'WRU':>6} {'SQS':>5} {'Scan':>4}"
        f" {'wall s':>8} {'aws s':>7} {'ours ms':>7}",
    ]
    lines += [
        _row(result.morning, "tenant"),
        _row(job, "due"),
        _row(start, "run"),
        _row(tick, "due run"),
        _row(advance, "run"),
        "  (calls: AWS requests; DDB: of which DynamoDB; items: items read; SQS: messages"
        " queued; wall s: the phase in all, in moto; aws s: of which inside botocore calls;"
        " ours ms: the rest per unit, i.e. our code on this machine)",
        "",
    ]
    for phase in (job, start, tick, advance):
        lines.append(f"  {phase.name}, requests per unit: {_ops(phase)}")
    st, at = start.meter.totals(), advance.meter.totals()
    tick_share = advance.units / max(tick.units, 1)  # the tick's requests for these runs
    tt = tick.meter.totals()
    lines += [
        "",
        f"  daily job: {job.items_read / due_now:.3f} items read per due item"
        f" (goal <= {READ_GOAL}), {job.calls / due_now:.3f} AWS requests per due item,"
        f" {job.queued / due_now:.2f} SQS messages per due item",
        f"  worker, start from trigger: {start.steps / max(start.units, 1):.1f} step transitions"
        " per run; per transition " + _per_step(start.calls, st.rru, st.wru, start.steps),
        f"  journey tick + worker, advance: {advance.steps / max(advance.units, 1):.1f} step"
        " transitions per run; per transition "
        + _per_step(
            tick.calls * tick_share + advance.calls,
            tt.rru * tick_share + at.rru,
            tt.wru * tick_share + at.wru,
            advance.steps,
        )
        + f" ({tick.calls / max(tick.units, 1):.3f} requests of the tick per run)",
    ]
    p = projection(result)
    lines += [
        "",
        f"AWS projection: {PROJECTED_CARS:,} cars of one tenant, {p.due:,} due a day"
        " (latency assumed per request: DynamoDB 5 ms, a 1 MB Query page 50 ms, SQS 10 ms;"
        f" our code's CPU as measured here x {CPU_SLOWDOWN:.1f} for 512 MB)",
        f"  daily job: {p.job_seconds:.0f} s in one journey-worker message (the tenant's day;"
        f" the worker's timeout {WORKER_TIMEOUT} s)",
        f"  journey tick a week later: {p.tick_seconds:.0f} s (the scheduler's timeout"
        f" {SCHEDULER_TIMEOUT} s)",
        f"  worker: {p.start_message_seconds * 1000:.0f} ms per started run,"
        f" {p.advance_message_seconds * 1000:.0f} ms per advanced run; a batch of {WORKER_BATCH}"
        f" {p.batch_seconds:.1f} s (timeout {WORKER_TIMEOUT} s); the morning's {p.due:,} runs"
        f" drain in {p.drain_seconds / 60:.1f} min at concurrency {WORKER_CONCURRENCY}",
        "  cost per day (DynamoDB on demand, SQS incl. the poller, Lambda arm GB-s):"
        + "".join(f"\n    {name:<24} ${value:.4f}" for name, value in p.cost.items()),
        f"    {'total':<24} ${p.per_day:.4f} a day, ${p.per_day * 30:.2f} a month",
    ]
    if result.problems:
        lines += ["", "  GOALS NOT MET:"] + [f"    {problem}" for problem in result.problems]
    else:
        lines += [
            "",
            f"  goals: no Scan in any phase; daily job items per due item <= {READ_GOAL}: met",
        ]
    return "\n".join(lines)


def details(result: Lifecycle) -> str:
    """The meter's per-operation tables of each phase, per unit."""
    parts = []
    for phase, unit in (
        (result.job, "due item"),
        (result.start, "started run"),
        (result.tick, "due run"),
        (result.advance, "advanced run"),
    ):
        per = max(phase.units, 1)
        parts.append(phase.meter.breakdown(per=per, title=f"{phase.name}, per {unit}"))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> Lifecycle:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lifecycle", description=__doc__)
    parser.add_argument("--cars", type=int, default=CARS, help=f"cars (default {CARS:,})")
    parser.add_argument(
        "--sample", type=int, default=SAMPLE, help=f"runs the worker handles (default {SAMPLE})"
    )
    args = parser.parse_args(argv)
    result = run(args.cars, args.sample)
    print(report(result), end="\n\n")
    print(details(result))
    if result.problems:
        raise SystemExit(1)
    return result


if __name__ == "__main__":
    main()
