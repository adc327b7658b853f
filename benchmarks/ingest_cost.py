"""What one `customer.upserted` event costs in AWS calls and DynamoDB capacity, end to end.

The template is deployed into an in-process moto (`infra.deploy.deploy()`), a tenant and a
connector are created through `trigly.platform.tenancy`, and then, per event:

- the webhook handler is called with signed API Gateway v2 requests (one event a request, and
  batches of 100 events);
- the ingest handler is given the ingest queue's messages as SQS batches of the template's
  batch size, as Lambda's poller would (the poller's own ReceiveMessage/DeleteMessageBatch are
  not the handler's and are not counted).

Cases: (a) a new customer, (b) an update of an existing one (new event id, changed fields),
(c) an exact duplicate (the same event ids resent: the webhook answers `duplicates`), and
(d) a redelivered queue message (SQS is at-least-once: the ingest handler applies the same
message again). Capacity is priced from the items by `benchmarks.meter`, never from moto.

    .venv/bin/python -m benchmarks.ingest_cost
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchmarks.meter import Meter, install

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

    def drain(self, m: Meter) -> int:
        """Apply everything queued, metering only the handler; returns the events applied."""
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
                return len(self.delivered)
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

    def apply(self, bodies: list[str], m: Meter) -> None:
        from functions.ingest.app import handler
        from tests.support import FakeLambdaContext, sqs_event

        for start in range(0, len(bodies), self.batch_size):
            event = sqs_event(
                bodies[start : start + self.batch_size], self.stack.queues["IngestQueue"].arn
            )
            with m:
                result = handler(event, FakeLambdaContext())
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

    @property
    def scans(self) -> int:
        meters = [self.first_request.webhook, self.first_request.ingest]
        meters += [m for c in self.cases for m in (c.webhook, c.ingest)]
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


def run() -> IngestCost:
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
    return IngestCost(cases, first, names)


# ------------------------------------------------------------------------------- reporting


def _fmt(figures: dict[str, float]) -> str:
    return f"{figures['calls']:>6.2f} {figures['rru']:>6.2f} {figures['wru']:>6.2f}"


def summary(result: IngestCost) -> str:
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
    scans = result.scans
    verdict = (
        f"!!! {scans} Scan call(s) !!!" if scans else "none (every call addressed items by key)"
    )
    lines.append(f"  Scan: {verdict}")
    return "\n".join(lines)


def details(result: IngestCost) -> str:
    blocks = []
    for c in [*result.cases, result.first_request]:
        if c.webhook.calls:
            blocks.append(
                c.webhook.report(c.events, f"{c.case}, batch of {c.batch}: webhook handler")
            )
        blocks.append(c.ingest.report(c.events, f"{c.case}, batch of {c.batch}: ingest handler"))
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
