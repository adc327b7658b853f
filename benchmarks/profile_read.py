"""The 360° read: `GET /v1/customers/{id}` through `functions.api.app.handler`, as API Gateway
would call it, for a customer with a realistic history: DynamoDB calls (goal: exactly one Query;
at most two when the history is longer than a page), read capacity and time.

On the template deployed into an in-process moto (as `benchmarks.ingest_cost` does), with a
tenant, an API key and a DMS connector, the history is sent through the webhook and applied by
the ingest handler (the real write path, so the items are the ones production writes):

- a private customer: 3 cars (a new car bought here, a used one bought here, one bought
  elsewhere with a Japanese frame number), each with its OSAGO policy, 50 closed service orders
  over seven years, 3 service appointments, 2 test drives, a showroom visit, a parts purchase
  and the consent ledger of the DMS record;
- a fleet customer whose history is longer than one page of the 360° read (30 cars, 420
  visits): the profile, then `GET /v1/customers/{id}/history?cursor=...` for the rest.

Each read is metered once (`benchmarks.meter`: calls, capacity priced from the items), then
timed unmetered (median of `READS` reads in a warm container); the time inside botocore calls
(moto, in process: not what DynamoDB would take) is shown apart from the time in our code.

    .venv/bin/python -m benchmarks.profile_read
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from benchmarks.ingest_cost import (
    Dms,
    Event,
    IngestPoller,
    Person,
    emulated_stack,
    event,
    service_order,
    sold,
    upserted,
)
from benchmarks.meter import Meter, install

READS = 20  # timed reads per request, after one untimed warm-up
QUERY_GOAL, PAGED_QUERY_GOAL = 1, 2

# ------------------------------------------------------------------------------ the histories


def _fleet_vin(p: Person, k: int) -> str:
    return f"XW8AN2NE{k:02d}H{p.n:06d}"


def private_customer(p: Person) -> list[Event]:
    """3 cars, 50 visits, 3 appointments, 2 test drives, a showroom visit, a parts purchase."""
    frame = f"NZE141-{p.n:07d}"
    cars = [p.vin, p.new_vin(1), frame]
    events = [
        upserted(p, "s0", "2019-04-02T12:40:00+03:00"),
        sold(p, "car-0", cars[0], "2019-04-10T15:30:00+03:00"),
        sold(
            p,
            "car-1",
            cars[1],
            "2021-06-01T13:00:00+03:00",
            make="Hyundai",
            model="Creta",
            trim="Lifestyle",
            year=2018,
            condition="used",
            mileage_km=61_000,
            price=1_390_000,
            financing=None,
        ),
        event(
            p.id("car-2"),
            "vehicle.registered",
            "2020-09-01T10:00:00+03:00",
            customer_external_id=p.external_id,
            vin=frame,
            make="Toyota",
            model="Corolla Axio",
            year=2010,
            mileage_km=154_000,
            purchased_on="2020-08-15",
            plate="М456ОР116",
        ),
    ]
    for k, vin in enumerate(cars):
        events.append(
            event(
                p.id(f"osago-{k}"),
                "insurance.policy",
                "2026-03-01T10:00:00+03:00",
                policy_id=f"XXX-{p.n:07d}{k:03d}",
                customer_external_id=p.external_id,
                vin=vin,
                kind="osago",
                ends_on="2027-02-28",
            )
        )
    first, km = date(2019, 10, 1), [7_000, 64_000, 158_000]
    for v in range(50):
        car = v % 3
        km[car] += 4_800
        closed = first + timedelta(days=51 * v)
        events.append(service_order(p, f"ro-{v}", cars[car], f"{closed}T15:00:00+03:00", km[car]))
    for k, (status, starts) in enumerate(
        [("completed", "2026-05-12"), ("cancelled", "2026-09-03"), ("booked", "2026-12-03")]
    ):
        events.append(
            event(
                p.id(f"apt-{k}"),
                "service_appointment.changed",
                "2026-11-18T10:00:00+03:00",
                appointment_id=f"APT-{p.n}-{k}",
                customer_external_id=p.external_id,
                vin=cars[k],
                status=status,
                starts_at=f"{starts}T11:00:00+03:00",
                location_id="kzn-pobedy",
                source="call_center",
            )
        )
    for k, (model, status, starts) in enumerate(
        [("Kia Sportage", "completed", "2026-10-04"), ("Kia K5", "booked", "2026-11-28")]
    ):
        events.append(
            event(
                p.id(f"td-{k}"),
                "test_drive.changed",
                "2026-11-18T10:00:00+03:00",
                booking_id=f"TD-{p.n}-{k}",
                customer_external_id=p.external_id,
                model=model,
                status=status,
                starts_at=f"{starts}T12:30:00+03:00",
                location_id="kzn-pobedy",
            )
        )
    events += [
        event(
            p.id("showroom"),
            "showroom.visited",
            "2026-10-04T16:10:00+03:00",
            visit_id=f"V-{p.n}",
            customer_external_id=p.external_id,
            at="2026-10-04T16:10:00+03:00",
            interest={"model": "Kia Sportage", "condition": "new", "budget": 3_500_000},
            outcome="thinking",
            reason="credit",
        ),
        event(
            p.id("parts"),
            "parts.purchased",
            "2025-11-02T17:45:00+03:00",
            order_id=f"PS-{p.n}",
            customer_external_id=p.external_id,
            at="2025-11-02T17:45:00+03:00",
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
    ]
    return events


FLEET_CARS, FLEET_VISITS = 30, 420


def fleet_customer(p: Person) -> list[Event]:
    """A corporate fleet: 30 cars bought here in 2022, 14 visits each since (420 in all)."""
    events = [upserted(p, "s0", "2022-01-20T12:40:00+03:00", first_name="ООО «Такси-Сервис»")]
    for k in range(FLEET_CARS):
        events.append(
            sold(
                p,
                f"car-{k}",
                _fleet_vin(p, k),
                "2022-02-01T12:00:00+03:00",
                make="Hyundai",
                model="Solaris",
                trim="Active",
                financing={"type": "lease", "term_months": 36, "ends_on": "2025-02-01"},
            )
        )
    for v in range(FLEET_VISITS):
        k, round_ = v % FLEET_CARS, v // FLEET_CARS
        closed = date(2022, 4, 1) + timedelta(days=_fleet_day(round_, k))
        km = 12_000 * (round_ + 1) + 37 * k
        events.append(service_order(p, f"ro-{v}", _fleet_vin(p, k), f"{closed}T15:00:00+03:00", km))
    return events


def _fleet_day(round_: int, car: int) -> int:
    """Days after the first fleet service: every car every ~2 months, spread over a week."""
    return 12 * 5 * round_ + car % 7


# ------------------------------------------------------------------------------ measuring


@dataclass
class Read:
    """One API request, metered once and timed `READS` times."""

    name: str
    path: str
    query: dict[str, str] | None
    meter: Meter
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    response_bytes: int = 0
    handler_ms: list[float] = field(default_factory=list)
    aws_ms: list[float] = field(default_factory=list)

    def calls(self, operation: str) -> int:
        return sum(
            1 for c in self.meter.calls if c.service == "dynamodb" and c.operation == operation
        )

    @property
    def queries(self) -> int:
        return self.calls("Query")

    @property
    def query_items(self) -> int:
        return sum(
            ch.items
            for c in self.meter.calls
            if c.service == "dynamodb" and c.operation == "Query"
            for ch in c.charges
        )


@dataclass
class Scenario:
    name: str
    reads: list[Read]
    items_in_table: int
    goal: int  # Query calls allowed for the whole history
    exact: bool  # the goal is exactly `goal` Query calls (else at most)

    @property
    def queries(self) -> int:
        return sum(r.queries for r in self.reads)

    @property
    def verdict(self) -> str:
        met = self.queries == self.goal if self.exact else 0 < self.queries <= self.goal
        return "met" if met else "MISSED"


@dataclass
class ProfileRead:
    scenarios: list[Scenario]
    first: Read  # the first request of a fresh API container
    seconds: float = 0.0


class _AwsClock:
    """Wall time spent inside botocore API calls (boto3's and PynamoDB's clients alike)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        clock = self

        def timed(client: Any, operation: str, params: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                clock.seconds += time.perf_counter() - started

        botocore.client.BaseClient._make_api_call = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def _get(api_key: str, path: str, query: dict[str, str] | None) -> tuple[int, str]:
    from functions.api.app import handler
    from tests.support import FakeLambdaContext, http_event

    request = http_event(
        "GET",
        path,
        route_key="ANY /v1/{proxy+}",
        query=query,
        headers={"authorization": f"Bearer {api_key}"},
    )
    response = handler(request, FakeLambdaContext())
    return int(response["statusCode"]), str(response.get("body") or "")


def measure(read: Read, api_key: str, reads: int = READS) -> Read:
    with read.meter:
        read.status, text = _get(api_key, read.path, read.query)
    if read.status != 200:
        raise RuntimeError(f"{read.name}: {read.status} {text[:300]}")
    read.body = json.loads(text)
    read.response_bytes = len(text.encode())
    clock = _AwsClock()
    with clock.running():
        for _ in range(reads):
            clock.seconds = 0.0
            started = time.perf_counter()
            status, _ = _get(api_key, read.path, read.query)
            read.handler_ms.append((time.perf_counter() - started) * 1000)
            read.aws_ms.append(clock.seconds * 1000)
            if status != 200:
                raise RuntimeError(f"{read.name}: {status}")
    return read


def _customer_id(external_id: str, api_key: str) -> str:
    status, text = _get(api_key, "/v1/customers", {"external_id": external_id})
    found = json.loads(text)["items"] if status == 200 else []
    if len(found) != 1:
        raise RuntimeError(f"customer {external_id}: {status} {text[:200]}")
    return str(found[0]["id"])


def _table_items(stack: Any) -> int:
    import boto3

    from benchmarks.meter import unmetered

    with unmetered():
        name = stack.physical_ids["MainTable"]
        return int(boto3.client("dynamodb").describe_table(TableName=name)["Table"]["ItemCount"])


def run(reads: int = READS) -> ProfileRead:
    started = time.perf_counter()
    install()
    with emulated_stack() as stack:
        from benchmarks.ingest_cost import table_names
        from trigly.platform import tenancy

        names = table_names(stack)
        tenant = tenancy.create_tenant("Автомир")
        api_key = tenancy.issue_api_key(tenant.tenant_id, "bench").api_key
        connector = tenancy.create_connector(tenant.tenant_id, "DMS")
        dms = Dms(connector.connector_id, connector.secret)
        poller = IngestPoller(stack)
        private, fleet = Person(7), Person(8)
        history = private_customer(private) + fleet_customer(fleet)
        for start in range(0, len(history), 200):
            receipt = dms.post(history[start : start + 200])
            if receipt["rejected"] or receipt["duplicates"]:
                raise RuntimeError(f"history not accepted: {receipt['rejected'][:2]}")
        poller.drain(None)
        items = _table_items(stack)

        from tests.support import reset_process_caches

        reset_process_caches()  # the next request is a fresh container's first
        customer = _customer_id(private.external_id, api_key)
        reset_process_caches()
        path = f"/v1/customers/{customer}"
        first = measure(Read("first read in a container", path, None, Meter(names)), api_key, 0)

        profile = measure(Read("GET /v1/customers/{id}", path, None, Meter(names)), api_key, reads)
        if profile.body.get("history_cursor") is not None:
            raise RuntimeError("the private customer's history should fit one page")
        scenarios = [
            Scenario(
                "private customer: 3 cars, 50 visits, 3 appointments, 2 test drives,"
                " a showroom visit, a parts purchase",
                [profile],
                items,
                QUERY_GOAL,
                exact=True,
            )
        ]

        fleet_id = _customer_id(fleet.external_id, api_key)
        fleet_path = f"/v1/customers/{fleet_id}"
        head = measure(Read("GET /v1/customers/{id}", fleet_path, None, Meter(names)), api_key)
        cursor = head.body.get("history_cursor")
        if not cursor:
            raise RuntimeError("the fleet's history should need a second page")
        rest = measure(
            Read(
                "GET /v1/customers/{id}/history?cursor=...",
                f"{fleet_path}/history",
                {"cursor": cursor},
                Meter(names),
            ),
            api_key,
        )
        if rest.body.get("cursor") is not None:
            raise RuntimeError("the fleet's history should end on the second page")
        scenarios.append(
            Scenario(
                f"fleet customer: {FLEET_CARS} cars, {FLEET_VISITS} visits (longer than a page)",
                [head, rest],
                items,
                PAGED_QUERY_GOAL,
                exact=False,
            )
        )
    return ProfileRead(scenarios, first, time.perf_counter() - started)


# ------------------------------------------------------------------------------- reporting


def _other_calls(read: Read) -> str:
    counts: dict[str, int] = {}
    for c in read.meter.calls:
        if not (c.service == "dynamodb" and c.operation == "Query"):
            label = c.operation if c.service == "dynamodb" else f"{c.service}.{c.operation}"
            counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} {label}" for label, n in sorted(counts.items())) or "none"


def _sections(body: dict[str, Any]) -> str:
    shown = []
    for key in ("vehicles", "past_vehicles", "visits", "appointments", "test_drives"):
        if isinstance(body.get(key), list):
            shown.append(f"{len(body[key])} {key}")
    return ", ".join(shown)


def _read_lines(read: Read) -> list[str]:
    totals = read.meter.totals()
    lines = [
        f"    {read.name}",
        f"      DynamoDB: {read.queries} Query ({read.query_items} items read),"
        f" other calls: {_other_calls(read)}; {totals.rru:.1f} RRU",
        f"      response: {read.response_bytes / 1024:.1f} KB ({_sections(read.body)})",
    ]
    if read.handler_ms:
        handler = statistics.median(read.handler_ms)
        aws = statistics.median(read.aws_ms)
        lines.append(
            f"      time, median of {len(read.handler_ms)} warm reads: {handler:.1f} ms in the"
            f" handler = {aws:.1f} ms in AWS calls (moto) + {handler - aws:.1f} ms our code"
        )
    return lines


def report(result: ProfileRead) -> str:
    lines = [
        "360° read: GET /v1/customers/{id} through functions.api.app.handler"
        f" (goal: exactly {QUERY_GOAL} Query; <= {PAGED_QUERY_GOAL} with paging)"
    ]
    for s in result.scenarios:
        lines.append(f"  {s.name}")
        for read in s.reads:
            lines += _read_lines(read)
        goal = f"exactly {s.goal}" if s.exact else f"<= {s.goal}"
        lines.append(
            f"    Query calls for the whole history: {s.queries} (goal: {goal}): {s.verdict}"
        )
    first = result.first
    lines.append(
        f"  first request of a fresh API container (private customer): {first.queries} Query,"
        f" other calls: {_other_calls(first)}; {first.meter.totals().rru:.1f} RRU"
    )
    scans = sum(r.meter.totals().scans for s in result.scenarios for r in s.reads)
    lines.append(f"  Scan: {'!!! ' + str(scans) + ' !!!' if scans else 'none'}")
    lines.append(
        f"  (moto's Query walks every item of the table, here {result.scenarios[0].items_in_table};"
        " DynamoDB's does not: the AWS share of the time is not DynamoDB's latency)"
    )
    return "\n".join(lines)


def details(result: ProfileRead) -> str:
    blocks = []
    for s in result.scenarios:
        for read in s.reads:
            blocks.append(read.meter.report(1, f"{s.name.split(':')[0]}, {read.name}"))
    return "\n\n".join(blocks)


def main() -> ProfileRead:
    result = run()
    print(report(result))
    print()
    print(details(result))
    print(f"\n(profile_read ran in {result.seconds:.1f} s)")
    return result


if __name__ == "__main__":
    main()
