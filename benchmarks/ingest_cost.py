"""What one inbound event costs in AWS calls and DynamoDB capacity, end to end, for every event
type of CONTRACT §2 (every applier of `trigly.ingest.apply.APPLIERS`).

The template is deployed into an in-process moto (`infra.deploy.deploy()`), a tenant and a
connector are created through `trigly.platform.tenancy`, and then, per event:

- the webhook handler is called with signed API Gateway v2 requests (one event a request, and
  batches of 100 events);
- the ingest handler is given the ingest queue's messages as SQS batches of the template's
  batch size, as Lambda's poller would (the poller's own ReceiveMessage/DeleteMessageBatch are
  not the handler's and are not counted).

`customer.upserted`, one event a request and 100 a request: (a) a new customer, (b) an update
of an existing one (new event id, changed fields), (c) an exact duplicate (the same event ids
resent: the webhook answers `duplicates`), and (d) a redelivered queue message (SQS is
at-least-once: the ingest handler applies the same message again).

Every type (`SITUATIONS`): a realistic event for a customer and car that already exist (the
scene: the DMS record, a car bought here, its OSAGO policy, two visits; sent through the same
path beforehand, unmetered), and the first-sight cases where they differ (a car or a person
not seen before, a known anonymous visitor, a long history, a big order...). Each situation is
measured on its own customers, one event a request, and reported per event with webhook and
ingest apart, each DynamoDB call labelled with the kind of item it addressed (`item_kind`), and
any Query or Scan on the path flagged. The issue's goal is checked for `service_order.closed`.

Capacity is priced from the items by `benchmarks.meter`, never from moto.

    .venv/bin/python -m benchmarks.ingest_cost
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from benchmarks.meter import Call, Meter, install

if TYPE_CHECKING:
    from infra.deploy import DeployedStack

SINGLE_REQUESTS = 20  # requests of one event each, averaged
BATCH = 100  # events in one webhook request
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


# ------------------------------------------------------------------------ the emulated stack


@contextlib.contextmanager
def emulated_stack() -> Iterator[DeployedStack]:
    """The template deployed into an in-process moto, its environment set as the handlers see it
    (the same steps as tests/integration/conftest.py)."""
    from moto import mock_aws

    from infra.deploy import deploy
    from tests.support import reset_process_caches

    saved = dict(os.environ)
    os.environ.update(ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            # moto logs a line per resource type its CloudFormation skips; not news here.
            with _quiet("moto"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                deployed = deploy()
            os.environ.update(deployed.environment())
            os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the report, not the product's logs
            reset_process_caches()
            _quiet_product_logs()
            yield deployed
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_process_caches()


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    quieted = logging.getLogger(logger_name)
    level = quieted.level
    quieted.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        quieted.setLevel(level)


def forget_metrics() -> None:
    """With POWERTOOLS_METRICS_DISABLED, Powertools keeps each invocation's metrics and prints
    them as EMF once a metric holds 100 values; a benchmark calling the handlers thousands of
    times drops them after each call instead."""
    with contextlib.suppress(ImportError, AttributeError):
        from trigly.platform.observability import metrics

        metrics.clear_metrics()


def _quiet_product_logs() -> None:
    with contextlib.suppress(ImportError, AttributeError):
        from trigly.platform.observability import logger

        logger.setLevel(logging.WARNING)


def table_names(stack: DeployedStack) -> dict[str, str]:
    """Physical table name → its logical id in template.yaml, for readable reports."""
    resources = stack.cfn_template.get("Resources", {})
    return {
        stack.physical_ids[logical]: logical
        for logical, resource in resources.items()
        if resource.get("Type") == "AWS::DynamoDB::Table" and logical in stack.physical_ids
    }


# ---------------------------------------------------------------------------- the DMS side


def customer_record(event_id: str, n: int, *, version: int) -> dict[str, Any]:
    """A DMS's full customer record, as `customer.upserted` carries it (CONTRACT §1a).

    Version 2 is a typical update: a changed city and a second phone; a DMS resends the whole
    record, consents included.
    """
    phones = [f"+7 912 {n // 10000:03d} {n % 10000 // 100:02d} {n % 100:02d}"]
    if version > 1:
        phones.append(f"8 (903) {n // 10000:03d}-{n % 10000 // 100:02d}-{n % 100:02d}")
    return {
        "id": event_id,
        "type": "customer.upserted",
        "occurred_at": f"2026-11-{19 + version:02d}T10:15:00+03:00",
        "data": {
            "external_id": f"DMS-{n:06d}",
            "first_name": "Иван",
            "last_name": "Петров",
            "middle_name": "Сергеевич",
            "phones": phones,
            "emails": [f"client{n}@example.ru"],
            "birth_date": "1985-04-12",
            "city": "Казань" if version == 1 else "Москва",
            "region": "RU-TA" if version == 1 else "RU-MOW",
            "preferred_channel": "sms",
            "consents": {
                "sms": {
                    "marketing": True,
                    "service": True,
                    "at": "2026-11-01T12:00:00+03:00",
                    "source": "showroom form",
                    "text_version": "v3",
                }
            },
        },
    }


@dataclass
class Dms:
    """Posts signed webhooks to the webhook handler, as a DMS through API Gateway would."""

    connector_id: str
    secret: str

    def post(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        from functions.webhook.app import handler
        from tests.support import FakeLambdaContext, http_event, signed_headers

        document: object = events[0] if len(events) == 1 else {"events": events}
        body = json.dumps(document, ensure_ascii=False).encode()
        request = http_event(
            "POST",
            f"/v1/webhooks/{self.connector_id}",
            route_key="POST /v1/webhooks/{connector_id}",
            path_parameters={"connector_id": self.connector_id},
            headers=signed_headers(self.secret, body),
            body=body,
        )
        response = handler(request, FakeLambdaContext())
        forget_metrics()
        if response["statusCode"] != 202:
            raise RuntimeError(f"webhook answered {response['statusCode']}: {response['body']}")
        receipt: dict[str, Any] = json.loads(response["body"])
        return receipt


@dataclass
class IngestPoller:
    """Hands the ingest queue to the ingest handler in SQS batches, like Lambda's poller."""

    stack: DeployedStack
    delivered: list[str] = field(default_factory=list)  # bodies of the last drain

    @property
    def batch_size(self) -> int:
        for mapping in self.stack.queue_mappings:
            if mapping.function == "IngestFunction":
                return mapping.batch_size
        return 10

    def drain(self, m: Meter | None) -> int:
        """Apply everything queued, metering only the handler (unless `m` is None, e.g. to
        set up state); returns the events applied."""
        import boto3

        sqs = boto3.client("sqs")
        queue = self.stack.queues["IngestQueue"]
        self.delivered = []
        while True:
            batch: list[dict[str, Any]] = []
            while len(batch) < self.batch_size:
                wanted = min(10, self.batch_size - len(batch))
                got = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=wanted)
                if not got.get("Messages"):
                    break
                batch.extend(got["Messages"])
            if not batch:
                # Events, not messages: a message holds several (trigly.ingest.queue).
                return sum(len(json.loads(body)["events"]) for body in self.delivered)
            self.apply([msg["Body"] for msg in batch], m)
            for start in range(0, len(batch), 10):
                sqs.delete_message_batch(
                    QueueUrl=queue.url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": msg["ReceiptHandle"]}
                        for i, msg in enumerate(batch[start : start + 10])
                    ],
                )
            self.delivered.extend(msg["Body"] for msg in batch)

    def apply(self, bodies: list[str], m: Meter | None) -> None:
        from functions.ingest.app import handler
        from tests.support import FakeLambdaContext, sqs_event

        for start in range(0, len(bodies), self.batch_size):
            event = sqs_event(
                bodies[start : start + self.batch_size], self.stack.queues["IngestQueue"].arn
            )
            with m if m is not None else contextlib.nullcontext():
                result = handler(event, FakeLambdaContext())
            forget_metrics()
            if result.get("batchItemFailures"):
                raise RuntimeError(f"ingest failed records: {result['batchItemFailures']}")


# ------------------------------------------------------------------------------ the cases


@dataclass
class Case:
    case: str
    batch: int  # events per webhook request
    events: int
    webhook: Meter
    ingest: Meter
    seconds: float = 0.0

    def per_event(self, part: str) -> dict[str, float]:
        meters = {"webhook": [self.webhook], "ingest": [self.ingest]}
        chosen = meters.get(part, [self.webhook, self.ingest])
        totals = [m.totals() for m in chosen]
        n = self.events
        return {
            "calls": sum(t.calls for t in totals) / n,
            "rru": sum(t.rru for t in totals) / n,
            "wru": sum(t.wru for t in totals) / n,
            "scans": sum(t.scans for t in totals),
        }


@dataclass
class IngestCost:
    cases: list[Case]
    first_request: Case  # the first webhook + ingest of a fresh container
    names: dict[str, str]
    types: list[TypeCase] = field(default_factory=list)  # every event type, by situation
    seconds: float = 0.0

    @property
    def scans(self) -> int:
        meters = [self.first_request.webhook, self.first_request.ingest]
        meters += [m for c in [*self.cases, *self.types] for m in (c.webhook, c.ingest)]
        return sum(m.totals().scans for m in meters)


def _post_all(dms: Dms, events: list[dict[str, Any]], batch: int, m: Meter) -> dict[str, int]:
    outcome = {"accepted": 0, "duplicates": 0, "rejected": 0}
    for start in range(0, len(events), batch):
        with m:
            receipt = dms.post(events[start : start + batch])
        outcome["accepted"] += receipt["accepted"]
        outcome["duplicates"] += receipt["duplicates"]
        outcome["rejected"] += len(receipt["rejected"])
    return outcome


def _expect(outcome: dict[str, int], **expected: int) -> None:
    if any(outcome[k] != v for k, v in expected.items()):
        raise RuntimeError(f"webhook outcome {outcome}, expected {expected}")


def _run_batch(
    dms: Dms, poller: IngestPoller, batch: int, first: int, names: dict[str, str]
) -> list[Case]:
    n = SINGLE_REQUESTS if batch == 1 else BATCH
    numbers = range(first, first + n)
    cases: list[Case] = []

    def case(name: str, events: list[dict[str, Any]], **expected: int) -> Case:
        started = time.perf_counter()
        webhook, ingest = Meter(names), Meter(names)
        _expect(_post_all(dms, events, batch, webhook), **expected)
        applied = poller.drain(ingest)
        if applied != expected.get("accepted", 0):
            raise RuntimeError(f"{name}: {applied} events applied, expected {expected}")
        if applied and not ingest.totals().dynamodb_calls:
            # The ingest path reaches DynamoDB only through PynamoDB's own botocore clients.
            raise RuntimeError("the meter saw no DynamoDB call of the ingest handler")
        return Case(name, batch, n, webhook, ingest, time.perf_counter() - started)

    created = [customer_record(f"b{batch}-new-{i}", i, version=1) for i in numbers]
    cases.append(case("(a) new customer", created, accepted=n, duplicates=0, rejected=0))
    updated = [customer_record(f"b{batch}-upd-{i}", i, version=2) for i in numbers]
    cases.append(case("(b) update", updated, accepted=n, duplicates=0, rejected=0))
    redelivered = list(poller.delivered)
    cases.append(case("(c) exact duplicate", updated, accepted=0, duplicates=n, rejected=0))
    started = time.perf_counter()
    again = Meter(names)
    poller.apply(redelivered, again)
    cases.append(
        Case(
            "(d) queue redelivery",
            batch,
            n,
            Meter(names),
            again,
            time.perf_counter() - started,
        )
    )
    return cases


# ------------------------------------------------------------------- what each call touched


def _global_kind(pk: str) -> str:
    """Keys outside every tenant: the directory, credentials, the due buckets' markers."""
    if pk == "TENANTS":
        return "tenant directory"
    if pk.startswith("DUEMARK#"):  # store.due_hours, store.due
        return "due watermark" if pk == "DUEMARK#WATERMARK" else "due bucket marker"
    return pk.split("#", 1)[0].lower().replace("apikey", "API key")


def item_kind(pk: str, sk: str | None = None) -> str:
    """What kind of item a key addresses (for reports), from the key design in trigly.store.keys;
    `sk` None names a whole collection (a Query)."""
    lookups = {
        "#EVT#": "event claim",
        "#XID#anon#": "lookup by anonymous id",
        "#XID#": "lookup by DMS/source id",
        "#PHONE#": "lookup by phone",
        "#EMAIL#": "lookup by email",
    }
    for marker, kind in lookups.items():
        if marker in pk:
            return kind
    if not pk.startswith("T#"):
        return _global_kind(pk)
    if pk.endswith("#STOCK"):
        return "stock collection" if sk is None else "stock car"
    owner = "customer" if "#C#" in pk else "car" if "#V#" in pk else "tenant"
    if sk is None:
        return f"{owner} collection"
    if sk == "#PROFILE":
        return "customer profile"
    if owner == "car" and sk == "CAR":
        return "car record"
    if owner == "tenant" and sk == "TENANT":
        return "tenant"
    return f"{owner} {sk.split('#', 1)[0]}#" if "#" in sk else f"{owner} {sk}"


def _key(item: Mapping[str, Any]) -> tuple[str, str | None]:
    pk, sk = item.get("pk", {}), item.get("sk", {})
    return str(pk.get("S", "")), (str(sk["S"]) if "S" in sk else None)


def _read_label(params: Mapping[str, Any]) -> str:
    """The collection a Query reads; for an index, its partition without tenant and time
    (`due index T#{tenant}#LIFE#{time}`)."""
    condition = str(params.get("KeyConditionExpression", ""))
    values = params.get("ExpressionAttributeValues", {})
    first = re.search(r":[A-Za-z0-9_]+", condition)
    pk = str(values.get(first.group(0), {}).get("S", "")) if first else ""
    if "IndexName" not in params:
        return item_kind(pk, None)
    partition = re.sub(r"^T#[^#]+", "T#{tenant}", pk)
    # A due bucket's shard (`DUE#{hour}#{shard}`) goes with its time: one label for the hour.
    partition = re.sub(r"#[0-9][0-9T:-]+(#[0-9]+)?$", "#{time}", partition)
    return f"{params['IndexName']} index {partition}"


def touched(operation: str, params: Mapping[str, Any]) -> str:
    """The kinds of item one DynamoDB request addresses, e.g. `car record` or `customer VISIT#`."""
    if operation in {"Query", "Scan"}:
        return _read_label(params)
    keys: list[tuple[str, str | None]] = []
    if operation in {"GetItem", "UpdateItem", "DeleteItem"}:
        keys = [_key(params["Key"])]
    elif operation == "PutItem":
        keys = [_key(params["Item"])]
    elif operation == "BatchWriteItem":
        for requests in params["RequestItems"].values():
            for request in requests:
                body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
                keys.append(_key(body))
    elif operation == "BatchGetItem":
        keys = [_key(k) for request in params["RequestItems"].values() for k in request["Keys"]]
    elif operation in {"TransactWriteItems", "TransactGetItems"}:
        for action in params["TransactItems"]:
            [body] = action.values()
            keys.append(_key(body.get("Item") or body["Key"]))
    kinds = list(dict.fromkeys(item_kind(pk, sk) for pk, sk in keys))
    return ", ".join(kinds) if kinds else "-"


_labelled: list[LabelledMeter] = []
_hooked = False


def _on_dynamodb_request(params: Any, model: Any, **_: Any) -> None:
    if not _labelled:
        return
    try:
        label = touched(model.name, params)
    except (KeyError, TypeError, ValueError):
        label = "?"
    for m in _labelled:
        m.seen.append(label)


def _hook_requests() -> None:
    """Watch every DynamoDB request's keys, on botocore sessions and clients now and later."""
    global _hooked  # noqa: PLW0603  # once per process, like the meter's own hooks
    if _hooked:
        return
    import gc

    import botocore.client
    import botocore.handlers
    import botocore.session

    event, unique = "before-parameter-build.dynamodb.*", "trigly-bench-item-kinds"
    for obj in gc.get_objects():
        if isinstance(obj, botocore.session.Session):
            obj.get_component("event_emitter").register(event, _on_dynamodb_request, unique)
        elif isinstance(obj, botocore.client.BaseClient):
            obj.meta.events.register(event, _on_dynamodb_request, unique)
    botocore.handlers.BUILTIN_HANDLERS.append((event, _on_dynamodb_request))
    _hooked = True


class LabelledMeter(Meter):
    """A meter that also notes which kind of item each DynamoDB call addressed.

    The first DynamoDB request seen after the previous recorded call is the metered one: the
    meter's own side requests (which price a call) come after it and before it is recorded.
    """

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        super().__init__(names)
        self.kinds: list[str] = []  # one per call in self.calls ("" for other services)
        self.seen: list[str] = []

    def __enter__(self) -> LabelledMeter:
        _hook_requests()
        super().__enter__()
        _labelled.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _labelled.remove(self)
        super().__exit__(*exc)

    def record(self, call: Call) -> None:
        super().record(call)
        self.kinds.append(
            (self.seen[0] if self.seen else "?") if call.service == "dynamodb" else ""
        )
        self.seen.clear()

    def breakdown(self, per: int = 1, title: str = "") -> str:
        """Per operation, table and item kind (figures divided by `per`)."""
        rows: dict[tuple[str, str], list[float]] = {}
        errors: dict[tuple[str, str], int] = defaultdict(int)
        for call, kind in zip(self.calls, self.kinds, strict=True):
            tables = ", ".join(sorted({self._name(c.table) for c in call.charges if c.table}))
            label = f"{call.service}.{call.operation}" + (f" [{tables}]" if tables else "")
            key = (label, kind)
            row = rows.setdefault(key, [0, 0.0, 0.0, 0.0, 0])
            row[0] += 1
            row[1] += sum(c.rru for c in call.charges)
            row[2] += sum(c.wru for c in call.charges)
            row[3] += sum(c.index_wru for c in call.charges)
            row[4] = max(row[4], max((c.largest for c in call.charges), default=0))
            if call.error:
                errors[key] += 1
        lines = [title] if title else []
        lines.append(
            f"  {'operation [table]':<34} {'item':<28} {'calls':>6} {'RRU':>6} {'WRU':>6}"
            f" {'GSI WRU':>7} {'max B':>6}"
        )
        for (label, kind), (calls, rru, wru, gsi, largest) in sorted(rows.items()):
            failed = errors.get((label, kind))
            lines.append(
                f"  {label:<34} {kind:<28} {calls / per:>6.2f} {rru / per:>6.2f} {wru / per:>6.2f}"
                f" {gsi / per:>7.2f} {int(largest) or '':>6}"
                + (f"   ({failed / per:.2f} failed conditionally)" if failed else "")
            )
        t = self.totals()
        lines.append(
            f"  {'TOTAL':<34} {'':<28} {t.calls / per:>6.2f} {t.rru / per:>6.2f}"
            f" {(t.wru - t.index_wru) / per:>6.2f} {t.index_wru / per:>7.2f}"
        )
        return "\n".join(lines)


# ----------------------------------------------------------------------- every event type

PER_TYPE = 5  # events measured per type and situation: one a request, each for its own customer
SETUP_REQUEST = 200  # events per (unmetered) webhook request that sets the scene
MEASURED_AT = "2026-11-20T10:15:00+03:00"
Event = dict[str, Any]


def event(event_id: str, type_: str, occurred_at: str, **data: Any) -> Event:
    """A contract event; a field given as None is left out (the DMS does not send it)."""
    fields = {k: v for k, v in data.items() if v is not None}
    return {"id": event_id, "type": type_, "occurred_at": occurred_at, "data": fields}


@dataclass(frozen=True)
class Person:
    """A customer of the DMS who owns one car (`vin`); `n` makes every id and contact unique."""

    n: int

    @property
    def external_id(self) -> str:
        return f"C-{self.n:06d}"

    @property
    def phone(self) -> str:  # as a DMS operator typed it
        n = self.n
        return f"8 (916) {n // 10000 % 1000:03d}-{n % 10000 // 100:02d}-{n % 100:02d}"

    @property
    def email(self) -> str:
        return f"anna.volkova.{self.n}@mail.ru"

    @property
    def vin(self) -> str:
        return f"XWEPH81ADK{self.n:07d}"

    def new_vin(self, k: int = 1) -> str:
        """A car no event has named yet."""
        return f"Z94C{k}41BBNR{self.n:06d}"

    @property
    def anonymous_id(self) -> str:
        return f"web-{self.n:08x}"

    def id(self, tag: str) -> str:
        return f"e{self.n}-{tag}"


CONSENTS = {
    "sms": {
        "marketing": True,
        "service": True,
        "at": "2023-03-10T12:35:00+03:00",
        "source": "dms_form",
        "text_version": "pd-consent-2023-01",
    },
    "email": {
        "marketing": False,
        "service": True,
        "at": "2023-03-10T12:35:00+03:00",
        "source": "dms_form",
        "text_version": "pd-consent-2023-01",
    },
}


def upserted(p: Person, tag: str, at: str = "2023-03-10T12:40:00+03:00", **changes: Any) -> Event:
    """The DMS's full record of the person, as every sync resends it."""
    data = {
        "external_id": p.external_id,
        "first_name": "Анна",
        "last_name": "Волкова",
        "middle_name": "Игоревна",
        "phones": [p.phone],
        "emails": [p.email],
        "birth_date": "1988-04-17",
        "city": "Казань",
        "region": "RU-TA",
        "timezone": "Europe/Moscow",
        "preferred_channel": "sms",
        "consents": CONSENTS,
        "location_id": "kzn-pobedy",
        **changes,
    }
    return event(p.id(tag), "customer.upserted", at, **data)


def sold(p: Person, tag: str, vin: str, at: str, **changes: Any) -> Event:
    year = int(at[:4])
    data = {
        "deal_id": f"D-{p.id(tag)}",
        "customer_external_id": p.external_id,
        "vin": vin,
        "make": "Kia",
        "model": "Rio",
        "trim": "Prestige",
        "year": year,
        "sold_at": at,
        "price": 1_899_900.00,
        "currency": "RUB",
        "condition": "new",
        "mileage_km": 12,
        "financing": {
            "type": "loan",
            "term_months": 36,
            "monthly_payment": 48_750.50,
            "ends_on": f"{year + 3}{at[4:10]}",
        },
        "location_id": "kzn-pobedy",
        "salesperson": "Алексей Кузнецов",
        "plate": "А123ВС116",
        **changes,
    }
    return event(p.id(tag), "vehicle.sold", at, **data)


def service_order(p: Person, tag: str, vin: str, closed_at: str, km: int, **changes: Any) -> Event:
    """A closed repair order as a DMS sends it: maintenance, a check, a declined repair, parts."""
    data = {
        "order_id": f"RO-{p.id(tag)}",
        "customer_external_id": p.external_id,
        "vin": vin,
        "opened_at": closed_at[:11] + "09:02:00" + closed_at[19:],
        "closed_at": closed_at,
        "mileage_km": km,
        "jobs": [
            {"code": "TO-3", "name": "ТО-3 (регламентное)", "kind": "maintenance", "amount": 6500},
            {"name": "Диагностика подвески", "kind": "diagnostics", "amount": 1200},
            {
                "name": "Замена тормозных колодок передних",
                "kind": "repair",
                "amount": 4200,
                "declined": True,
            },
        ],
        "parts": [
            {"sku": "26300-35505", "name": "Фильтр масляный", "qty": 1, "amount": 890},
            {"sku": "05100-00451", "name": "Масло моторное 5W-30", "qty": 4.5, "amount": 3960.75},
            {"name": "Фильтр салонный", "qty": 1, "amount": 1150},
        ],
        "total_amount": 13_700.75,
        "currency": "RUB",
        "location_id": "kzn-pobedy",
        "advisor": "Ирина Волкова",
        "plate": "А123ВС116",
        **changes,
    }
    return event(p.id(tag), "service_order.closed", closed_at, **data)


BIG_ORDER = {
    "jobs": [
        {"code": "TO-4", "name": "ТО-4 (60 000 км)", "kind": "maintenance", "amount": 9800},
        {"code": "SP-01", "name": "Замена свечей зажигания", "kind": "maintenance", "amount": 1800},
        {
            "code": "BF-01",
            "name": "Замена тормозной жидкости",
            "kind": "maintenance",
            "amount": 1500,
        },
        {"name": "Диагностика ходовой части", "kind": "diagnostics", "amount": 1200},
        {"name": "Регулировка углов установки колёс", "kind": "tires", "amount": 2500},
        {"name": "Замена передних тормозных колодок", "kind": "repair", "amount": 2400},
        {"name": "Мойка и чистка салона", "kind": "other", "amount": 1500},
        {
            "name": "Замена задних амортизаторов",
            "kind": "repair",
            "amount": 6800,
            "declined": True,
        },
    ],
    "parts": [
        {"sku": "26300-35505", "name": "Фильтр масляный", "qty": 1, "amount": 890},
        {"sku": "05100-00451", "name": "Масло моторное 5W-30", "qty": 4.5, "amount": 3960.75},
        {"sku": "28113-H8100", "name": "Фильтр воздушный", "qty": 1, "amount": 1240},
        {"sku": "97133-H8000", "name": "Фильтр салонный", "qty": 1, "amount": 1150},
        {"sku": "18855-10060", "name": "Свеча зажигания", "qty": 4, "amount": 2760},
        {"sku": "01100-00130", "name": "Жидкость тормозная DOT-4, 1 л", "qty": 1, "amount": 780},
        {"sku": "58101-H8A00", "name": "Колодки тормозные передние", "qty": 1, "amount": 4350},
        {"sku": "21513-23001", "name": "Шайба сливной пробки", "qty": 1, "amount": 60},
        {"sku": "98350-H8000", "name": "Щётка стеклоочистителя", "qty": 2, "amount": 1380},
        {"name": "Очиститель дроссельной заслонки", "qty": 1, "amount": 540},
    ],
    "total_amount": 37_910.75,
    "loyalty_points_redeemed": 500,
}


def known(p: Person, visits: int = 2) -> list[Event]:
    """A customer with history: the record, a car bought here, its OSAGO policy, `visits` visits
    (yearly since 2023; a long history goes back to a car bought in 2012, a visit every 100
    days). Everything happens before the measured events."""
    long = visits > 3
    bought = "2012-03-15T15:30:00+03:00" if long else "2023-03-15T15:30:00+03:00"
    events = [
        upserted(p, "s0"),
        sold(p, "s1", p.vin, bought),
        event(
            p.id("s2"),
            "insurance.policy",
            "2023-03-15T16:00:00+03:00",
            policy_id=f"XXX-{p.n:010d}",
            customer_external_id=p.external_id,
            vin=p.vin,
            kind="osago",
            ends_on="2027-03-14",
        ),
    ]
    first = date(2012 if long else 2023, 9, 20)
    for v in range(visits):
        day = first + timedelta(days=(100 if long else 365) * v)
        km = 7_500 + (2_800 if long else 15_000) * v
        events.append(service_order(p, f"s3-{v}", p.vin, f"{day}T15:00:00+03:00", km))
    return events


def web_visit(p: Person, tag: str, at: str, **who: Any) -> Event:
    return event(
        p.id(tag),
        "web.activity",
        at,
        **(who or {"anonymous_id": p.anonymous_id}),
        at=at,
        page="configurator",
        model="Kia Sportage",
        url="https://kia-kazan.ru/sportage/configurator?utm_source=yandex",
    )


def browsing(p: Person) -> list[Event]:
    """An anonymous visitor's earlier pages on the dealer's site."""
    return [web_visit(p, f"s-web-{d}", f"2026-11-1{d}T21:14:00+03:00") for d in range(3)]


def appointment(p: Person, tag: str, status: str, at: str = MEASURED_AT) -> Event:
    return event(
        p.id(tag),
        "service_appointment.changed",
        at,
        appointment_id=f"APT-{p.n}",
        customer_external_id=p.external_id,
        vin=p.vin,
        status=status,
        starts_at="2026-12-03T11:00:00+03:00",
        location_id="kzn-pobedy",
        source="call_center",
    )


def test_drive(p: Person, tag: str, **who: Any) -> Event:
    return event(
        p.id(tag),
        "test_drive.changed",
        MEASURED_AT,
        booking_id=f"TD-{p.n}",
        **who,
        model="Kia Sportage",
        status="booked",
        starts_at="2026-11-28T12:30:00+03:00",
        location_id="kzn-pobedy",
    )


def lead(p: Person, tag: str, **extra: Any) -> Event:
    return event(
        p.id(tag),
        "lead.created",
        MEASURED_AT,
        lead_id=f"L-{p.n}",
        contact={"name": "Анна", "phone": p.phone, "email": p.email},
        source="form",
        interest={"model": "Kia Sportage", "condition": "new", "budget": 3_500_000},
        utm={"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "sportage"},
        **extra,
    )


def stock(p: Person, tag: str, status: str) -> Event:
    return event(
        p.id(tag),
        "inventory.changed",
        MEASURED_AT if status != "in_stock" else "2026-11-01T09:00:00+03:00",
        stock_id=f"STK-{p.n}",
        vin=p.new_vin(5),
        make="Hyundai",
        model="Solaris",
        trim="Elegance",
        year=2023,
        condition="used",
        mileage_km=38_500,
        price=1_450_000,
        status=status,
        location_id="kzn-pobedy",
    )


def car_order(p: Person, tag: str, status: str, at: str = MEASURED_AT) -> Event:
    return event(
        p.id(tag),
        "order.status_changed",
        at,
        order_id=f"FO-{p.n}",
        customer_external_id=p.external_id,
        status=status,
        eta="2026-12-15T12:00:00+03:00",
    )


Scene = Callable[[Person, Person], list[Event]]
Measured = Callable[[Person, Person], Event]


def _nothing(p: Person, q: Person) -> list[Event]:
    return []


def _known(p: Person, q: Person) -> list[Event]:
    return known(p)


@dataclass(frozen=True)
class Situation:
    """One realistic event of a type, and what Trigly already holds when it arrives (`scene`,
    applied unmetered before). `p` is the event's person, `q` another person if needed."""

    type: str
    situation: str
    measured: Measured
    scene: Scene = _known
    goal: bool = False  # the goal applies to this one
    redelivered: bool = False  # also measure the same queue messages applied a second time


AT = MEASURED_AT
SITUATIONS: list[Situation] = [
    Situation("customer.upserted", "new customer", lambda p, q: upserted(p, "m", AT), _nothing),
    Situation(
        "customer.upserted",
        "known customer, record changed (city, 2nd phone)",
        lambda p, q: upserted(
            p, "m", AT, city="Москва", region="RU-MOW", phones=[p.phone, "+7 903 555 01 02"]
        ),
    ),
    Situation(
        "customer.upserted",
        "known customer, same record resent (full sync)",
        lambda p, q: upserted(p, "m", AT),
    ),
    Situation(
        "customer.upserted",
        "new customer, anonymous_id of a known visitor",
        lambda p, q: upserted(p, "m", AT, anonymous_id=p.anonymous_id),
        lambda p, q: browsing(p),
    ),
    Situation(
        "customer.consent_changed",
        "known customer opts out of SMS marketing",
        lambda p, q: event(
            p.id("m"),
            "customer.consent_changed",
            AT,
            customer_external_id=p.external_id,
            channel="sms",
            purpose="marketing",
            granted=False,
            at=AT,
            source="call_center",
        ),
    ),
    Situation(
        "vehicle.sold",
        "known customer, new car (first sight of the car)",
        lambda p, q: sold(p, "m", p.new_vin(1), AT),
    ),
    Situation(
        "vehicle.sold",
        "known customer, new car, own car traded in",
        lambda p, q: sold(p, "m", p.new_vin(1), AT, trade_in_vin=p.vin),
    ),
    Situation(
        "vehicle.sold",
        "known customer, used car of another customer",
        lambda p, q: sold(p, "m", q.vin, AT, condition="used", mileage_km=48_200, financing=None),
        lambda p, q: known(p) + known(q),
    ),
    Situation(
        "vehicle.sold",
        "first sight of customer and car",
        lambda p, q: sold(p, "m", p.new_vin(1), AT),
        _nothing,
    ),
    Situation(
        "vehicle.registered",
        "known customer, car bought elsewhere (new to us)",
        lambda p, q: event(
            p.id("m"),
            "vehicle.registered",
            AT,
            customer_external_id=p.external_id,
            vin=f"NZE141-{p.n:07d}",
            make="Toyota",
            model="Corolla Axio",
            year=2010,
            mileage_km=187_400,
            purchased_on="2023-06-15",
            plate="М456ОР116",
        ),
    ),
    Situation(
        "vehicle.odometer",
        "known car (telematics)",
        lambda p, q: event(
            p.id("m"),
            "vehicle.odometer",
            AT,
            vin=p.vin,
            mileage_km=41_310,
            at=AT,
            source="telematics",
        ),
    ),
    Situation(
        "vehicle.odometer",
        "first sight of the car",
        lambda p, q: event(
            p.id("m"),
            "vehicle.odometer",
            AT,
            vin=p.new_vin(2),
            mileage_km=64_210,
            at=AT,
            source="manual",
        ),
        _nothing,
    ),
    Situation(
        "service_order.closed",
        "known customer and car",
        lambda p, q: service_order(p, "m", p.vin, AT, 41_300),
        goal=True,
        redelivered=True,
    ),
    Situation(
        "service_order.closed",
        "known customer and car, 8 jobs and 10 parts",
        lambda p, q: service_order(p, "m", p.vin, AT, 41_300, **BIG_ORDER),
    ),
    Situation(
        "service_order.closed",
        "known customer and car, 50 earlier visits",
        lambda p, q: service_order(p, "m", p.vin, AT, 147_000),
        lambda p, q: known(p, visits=50),
    ),
    Situation(
        "service_order.closed",
        "known customer, first sight of the car",
        lambda p, q: service_order(p, "m", p.new_vin(3), AT, 92_000),
    ),
    Situation(
        "service_order.closed",
        "first sight of customer and car",
        lambda p, q: service_order(p, "m", p.new_vin(3), AT, 92_000),
        _nothing,
    ),
    Situation(
        "insurance.policy",
        "known customer and car (KASKO)",
        lambda p, q: event(
            p.id("m"),
            "insurance.policy",
            AT,
            policy_id=f"KASKO-{p.n}",
            customer_external_id=p.external_id,
            vin=p.vin,
            kind="kasko",
            ends_on="2027-11-19",
        ),
    ),
    Situation(
        "inventory.changed", "new stock car", lambda p, q: stock(p, "m", "in_stock"), _nothing
    ),
    Situation(
        "inventory.changed",
        "stock car reserved",
        lambda p, q: stock(p, "m", "reserved"),
        lambda p, q: [stock(p, "s", "in_stock")],
    ),
    Situation(
        "service_appointment.changed",
        "known customer books",
        lambda p, q: appointment(p, "m", "booked"),
    ),
    Situation(
        "service_appointment.changed",
        "known booking cancelled",
        lambda p, q: appointment(p, "m", "cancelled"),
        lambda p, q: [*known(p), appointment(p, "s", "booked", "2026-11-18T10:00:00+03:00")],
    ),
    Situation(
        "test_drive.changed",
        "known customer (DMS id) books",
        lambda p, q: test_drive(p, "m", customer_external_id=p.external_id),
    ),
    Situation(
        "test_drive.changed",
        "new person by contact (website)",
        lambda p, q: test_drive(p, "m", contact={"name": "Анна", "phone": p.phone}),
        _nothing,
    ),
    Situation(
        "test_drive.changed",
        "by contact: phone of a known customer",
        lambda p, q: test_drive(p, "m", contact={"name": "Анна", "phone": p.phone}),
    ),
    Situation(
        "showroom.visited",
        "known customer",
        lambda p, q: event(
            p.id("m"),
            "showroom.visited",
            AT,
            visit_id=f"V-{p.n}",
            customer_external_id=p.external_id,
            at=AT,
            interest={"model": "Kia Sportage", "condition": "new", "budget": 3_500_000},
            outcome="left",
            reason="credit",
        ),
    ),
    Situation("lead.created", "new person (phone, email)", lambda p, q: lead(p, "m"), _nothing),
    Situation("lead.created", "phone of a known customer", lambda p, q: lead(p, "m")),
    Situation(
        "lead.created",
        "new person, anonymous_id of a known visitor",
        lambda p, q: lead(p, "m", anonymous_id=p.anonymous_id),
        lambda p, q: browsing(p),
    ),
    Situation(
        "parts.purchased",
        "known customer",
        lambda p, q: event(
            p.id("m"),
            "parts.purchased",
            AT,
            order_id=f"PS-{p.n}",
            customer_external_id=p.external_id,
            at=AT,
            items=[
                {
                    "sku": "NOK-T430174",
                    "name": "Шина Nokian Hakkapeliitta 10 205/55 R16",
                    "category": "tyres",
                    "qty": 4,
                    "amount": 43_960,
                }
            ],
            total_amount=43_960,
            location_id="kzn-pobedy",
        ),
    ),
    Situation(
        "web.activity",
        "known customer (DMS id)",
        lambda p, q: web_visit(p, "m", AT, customer_external_id=p.external_id),
    ),
    Situation(
        "web.activity", "first page of a new visitor", lambda p, q: web_visit(p, "m", AT), _nothing
    ),
    Situation(
        "web.activity",
        "visitor seen before",
        lambda p, q: web_visit(p, "m", AT),
        lambda p, q: browsing(p)[:1],
    ),
    Situation(
        "call.tracked",
        "caller is a known customer",
        lambda p, q: event(
            p.id("m"),
            "call.tracked",
            AT,
            call_id=f"CT-{p.n}",
            tracking_number="+7 843 150-00-11",
            caller_phone=p.phone,
            at=AT,
            duration_s=184,
            answered=True,
        ),
    ),
    Situation(
        "call.tracked",
        "unknown caller",
        lambda p, q: event(
            p.id("m"),
            "call.tracked",
            AT,
            call_id=f"CT-{p.n}",
            tracking_number="+7 843 150-00-11",
            caller_phone=p.phone,
            at=AT,
            duration_s=184,
            answered=True,
        ),
        _nothing,
    ),
    Situation(
        "order.status_changed", "known customer orders", lambda p, q: car_order(p, "m", "ordered")
    ),
    Situation(
        "order.status_changed",
        "known order shipped",
        lambda p, q: car_order(p, "m", "shipped"),
        lambda p, q: [*known(p), car_order(p, "s", "ordered", "2026-10-01T12:00:00+03:00")],
    ),
]


@dataclass
class TypeCase(Case):
    type: str = ""
    situation: str = ""
    goal: bool = False

    def operations(self, operation: str) -> float:
        """DynamoDB calls of this operation per event, webhook and ingest together."""
        calls = [*self.webhook.calls, *self.ingest.calls]
        found = sum(1 for c in calls if c.service == "dynamodb" and c.operation == operation)
        return found / self.events


def _set_scene(dms: Dms, poller: IngestPoller, events: list[Event]) -> None:
    for start in range(0, len(events), SETUP_REQUEST):
        receipt = dms.post(events[start : start + SETUP_REQUEST])
        if receipt["rejected"] or receipt["duplicates"]:
            raise RuntimeError(f"setting the scene: {receipt}")
    poller.drain(None)


def run_types(
    dms: Dms, poller: IngestPoller, names: dict[str, str], first: int = 100_000
) -> list[TypeCase]:
    """Every situation of every type: the scenes set at once (unmetered), then each situation's
    events sent one a request and applied, metered."""
    from trigly.ingest.apply import APPLIERS

    missing = set(APPLIERS) - {s.type for s in SITUATIONS}
    if missing:
        raise RuntimeError(f"event types without a situation here: {sorted(missing)}")
    people = [
        [
            (Person(first + 2 * (PER_TYPE * i + k)), Person(first + 2 * (PER_TYPE * i + k) + 1))
            for k in range(PER_TYPE)
        ]
        for i in range(len(SITUATIONS))
    ]
    scene = [
        e
        for s, pairs in zip(SITUATIONS, people, strict=True)
        for p, q in pairs
        for e in s.scene(p, q)
    ]
    _set_scene(dms, poller, scene)
    cases = []
    for s, pairs in zip(SITUATIONS, people, strict=True):
        started = time.perf_counter()
        webhook, ingest = LabelledMeter(names), LabelledMeter(names)
        bodies: list[str] = []
        for p, q in pairs:
            _expect(_post_all(dms, [s.measured(p, q)], 1, webhook), accepted=1, rejected=0)
            if poller.drain(ingest) != 1:
                raise RuntimeError(f"{s.type}, {s.situation}: the event was not applied")
            bodies += poller.delivered
        cases.append(
            TypeCase(
                f"{s.type}: {s.situation}",
                1,
                PER_TYPE,
                webhook,
                ingest,
                time.perf_counter() - started,
                type=s.type,
                situation=s.situation,
                goal=s.goal,
            )
        )
        if s.redelivered:
            started, again = time.perf_counter(), LabelledMeter(names)
            poller.apply(bodies, again)
            seconds = time.perf_counter() - started
            situation = f"{s.situation}, same queue message again"
            cases.append(
                TypeCase(
                    f"{s.type}: {situation}",
                    1,
                    PER_TYPE,
                    LabelledMeter(names),
                    again,
                    seconds,
                    type=s.type,
                    situation=situation,
                )
            )
    return cases


def run() -> IngestCost:
    started = time.perf_counter()
    install()  # before any client exists, so every botocore session is hooked from birth
    with emulated_stack() as stack:
        from trigly.platform import tenancy

        names = table_names(stack)
        tenant = tenancy.create_tenant("Автомир")
        connector = tenancy.create_connector(tenant.tenant_id, "DMS")
        dms = Dms(connector.connector_id, connector.secret)
        poller = IngestPoller(stack)

        # The first request of a fresh container also fills its caches (tenant settings).
        first = Case("first request of a container", 1, 1, Meter(names), Meter(names))
        _expect(
            _post_all(dms, [customer_record("warm-1", 999_999, version=1)], 1, first.webhook),
            accepted=1,
        )
        poller.drain(first.ingest)

        cases = _run_batch(dms, poller, 1, 0, names) + _run_batch(dms, poller, BATCH, 1000, names)
        types = run_types(dms, poller, names)
    return IngestCost(cases, first, names, types, time.perf_counter() - started)


# ------------------------------------------------------------------------------- reporting


def _fmt(figures: dict[str, float]) -> str:
    return f"{figures['calls']:>6.2f} {figures['rru']:>6.2f} {figures['wru']:>6.2f}"


GOAL_RRU, GOAL_WRU = 2.0, 6.0  # the goal for `service_order.closed`, end to end


def _upserted_table(result: IngestCost) -> list[str]:
    head = f"{'calls':>6} {'RRU':>6} {'WRU':>6}"
    lines = [
        "Per customer.upserted event (DynamoDB capacity priced from the items; WRU includes"
        " GSI writes)",
        f"  {'case':<22} {'batch':>5}   webhook {head}   ingest {head}   total {head}",
    ]
    for c in result.cases:
        lines.append(
            f"  {c.case:<22} {c.batch:>5}   {'':>7} {_fmt(c.per_event('webhook'))}"
            f"   {'':>6} {_fmt(c.per_event('ingest'))}   {'':>5} {_fmt(c.per_event('all'))}"
        )
    f = result.first_request
    lines.append(
        f"  {'first in a container':<22} {1:>5}   {'':>7} {_fmt(f.per_event('webhook'))}"
        f"   {'':>6} {_fmt(f.per_event('ingest'))}   {'':>5} {_fmt(f.per_event('all'))}"
    )
    return lines


def _group(figures: dict[str, float]) -> str:
    return f"{figures['calls']:>5.2f} {figures['rru']:>5.2f} {figures['wru']:>5.2f}"


def types_table(types: list[TypeCase]) -> list[str]:
    """Every type and situation: webhook, ingest and total per event; Query and Scan per event."""
    group = f"{'calls':>5} {'RRU':>5} {'WRU':>5}"
    lines = [
        f"Per event of every inbound type (CONTRACT §2), {PER_TYPE} events a situation, one a"
        " request, each for its own customer",
        f"  {'':<50} {'webhook':^17}   {'ingest':^17}   {'total':^17}".rstrip(),
        f"  {'type / situation':<50} {group}   {group}   {group}   {'Query':>5} {'Scan':>4}",
    ]
    shown = None
    for c in types:
        if c.type != shown:
            lines.append(f"  {c.type}")
            shown = c.type
        queries, scans = c.operations("Query"), c.operations("Scan")
        flag = "  !!" if queries or scans else ""
        lines.append(
            f"    {c.situation:<48} {_group(c.per_event('webhook'))}"
            f"   {_group(c.per_event('ingest'))}   {_group(c.per_event('all'))}"
            f"   {queries:>5.2f} {scans:>4.2f}{flag}{'  <- goal' if c.goal else ''}"
        )
    return lines


def goals(result: IngestCost) -> list[str]:
    """The issue's goals, each met or missed, from the figures."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = ["Goals (per event, end to end: webhook + ingest, the idempotency claim included)"]
    for c in (c for c in result.types if c.goal):
        total = c.per_event("all")
        lines.append(f"  {c.type}, {c.situation}, one event a request:")
        for unit, goal in (("RRU", GOAL_RRU), ("WRU", GOAL_WRU)):
            value = total[unit.lower()]
            lines.append(f"    {unit} {value:.2f} (goal <= {goal:g}): {verdict(value <= goal)}")
    scans = result.scans
    lines.append(
        f"  Scan on an ingest path (goal: none): {verdict(not scans)}"
        + (f" - {scans} Scan call(s)" if scans else " - every call addressed items by key")
    )
    queried = [c for c in result.types if c.operations("Query")]
    if queried:
        lines.append("  Query on an ingest path (calls per event):")
        lines += [f"    {c.operations('Query'):.2f}  {c.type}: {c.situation}" for c in queried]
    else:
        lines.append("  Query on an ingest path: none")
    return lines


def summary(result: IngestCost) -> str:
    lines = _upserted_table(result)
    scans = result.scans
    verdict = (
        f"!!! {scans} Scan call(s) !!!" if scans else "none (every call addressed items by key)"
    )
    lines.append(f"  Scan: {verdict}")
    if result.types:
        lines += ["", *types_table(result.types), "", *goals(result)]
    return "\n".join(lines)


def details(result: IngestCost) -> str:
    blocks = []
    for c in [*result.cases, result.first_request]:
        if c.webhook.calls:
            blocks.append(
                c.webhook.report(c.events, f"{c.case}, batch of {c.batch}: webhook handler")
            )
        blocks.append(c.ingest.report(c.events, f"{c.case}, batch of {c.batch}: ingest handler"))
    if result.types:
        goal = next((c for c in result.types if c.goal), result.types[0])
        blocks.append(
            goal.webhook.breakdown(
                goal.events,
                f"Every type, one event a request: webhook handler (per event, {goal.type})",
            )
        )
    for c in result.types:
        meter = c.ingest
        title = f"{c.type}: {c.situation}: ingest handler (per event)"
        if isinstance(meter, LabelledMeter):
            blocks.append(meter.breakdown(c.events, title))
        else:
            blocks.append(meter.report(c.events, title))
    return "\n\n".join(blocks)


def main() -> IngestCost:
    started = time.perf_counter()
    result = run()
    print(summary(result))
    print()
    print(details(result))
    print(f"\n(ingest_cost ran in {time.perf_counter() - started:.1f} s)")
    return result


if __name__ == "__main__":
    main()
