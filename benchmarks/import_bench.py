"""Bulk import: records per second and AWS requests per record, on the emulated stack.

A dealer's dirty customer base is generated (faker ru_RU pools, fixed seed): one CSV row per
customer + car + last visit, Russian headers, `;`-separated, with the usual mess: two phones in a
cell, an invalid phone or email now and then, `DD.MM.YYYY` and broken dates, frame numbers and a
few unreadable VINs, customers repeated on a second car row. Then, on the template deployed into
an in-process moto (as `benchmarks.ingest_cost` does), for the whole file:

1. `dry run`: the CLI's path (`trigly.imports`: reader, Importer) with `dry_run=True`;
2. `import`: the same with a commit: validation, classification, claims, the ingest queue;
3. `apply`: the ingest queue handed to the ingest handler in batches of the template's size,
   as Lambda's poller would (every event is applied to profiles and cars);
4. `re-run`: the same file again (duplicates only).

Times are wall clock for the whole file. AWS requests are counted by `benchmarks.meter` on a
metered sample (the first `--sample` rows, imported for a tenant of their own), because pricing
each call costs side requests; per record = per CSV row.

    .venv/bin/python -m benchmarks.import_bench [--records 100000] [--sample 2000]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.ingest_cost import IngestPoller, emulated_stack, table_names
from benchmarks.meter import Meter, install

if TYPE_CHECKING:
    from trigly.imports.report import ImportReport
    from trigly.platform.tenancy import Tenant

RECORDS = 100_000
SAMPLE = 2_000
SEED = 20261120
HEADER = (
    "Код клиента;ФИО;Телефон;E-mail;Дата рождения;Город;Регион;VIN;Марка;Модель;Год выпуска;"
    "Госномер;Дата покупки;Цена продажи;Дата последнего визита;Пробег"
)
CARS = [
    ("XTA", "Lada", ["Granta", "Vesta", "Largus", "Niva Travel"]),
    ("Z94", "Hyundai", ["Solaris", "Creta", "Tucson"]),
    ("XWE", "Kia", ["Rio", "Sportage", "Ceed"]),
    ("XW8", "Skoda", ["Octavia", "Rapid", "Kodiaq"]),
    ("LVV", "Chery", ["Tiggo 7 Pro", "Tiggo 4"]),
    ("L6T", "Geely", ["Coolray", "Monjaro"]),
]
FRAMES = [
    ("NZE141", "Toyota", "Corolla Axio"),
    ("GP1", "Honda", "Fit"),
    ("ZRE142", "Toyota", "Corolla"),
]
REGIONS = ["Москва", "Московская обл.", "Санкт-Петербург", "Свердловская область", "Татарстан", ""]
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


# ------------------------------------------------------------------------------ the data


def _pools(rng: random.Random) -> dict[str, list[str]]:
    from faker import Faker

    fake = Faker("ru_RU")
    fake.seed_instance(SEED)
    return {
        "male": [
            f"{fake.last_name_male()} {fake.first_name_male()} {fake.middle_name_male()}"
            for _ in range(500)
        ],
        "female": [
            f"{fake.last_name_female()} {fake.first_name_female()} {fake.middle_name_female()}"
            for _ in range(500)
        ],
        "cities": [fake.city_name() for _ in range(200)],
        "domains": ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru"],
    }


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days))


def _vin(rng: random.Random, n: int) -> tuple[str, str, str]:
    roll = rng.random()
    if roll < 0.05:
        prefix, make, model = rng.choice(FRAMES)
        return f"{prefix}-{n:07d}", make, model
    wmi, make, models = rng.choice(CARS)
    body = "".join(rng.choice(VIN_CHARS) for _ in range(7))
    vin = f"{wmi}{body}{n:07d}"
    if roll < 0.06:
        vin = vin[:-2]  # a VIN typed short: the car is refused, the customer is not
    return vin, make, rng.choice(models)


def _phone(rng: random.Random) -> str:
    digits = f"9{rng.randrange(10**9):09d}"
    return rng.choice(
        [
            f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}",
            f"+7 {digits[:3]} {digits[3:]}",
            f"8{digits}",
        ]
    )


def generate_rows(n: int, seed: int = SEED) -> list[str]:
    """`n` CSV rows of a dealer's 13-year-old base (a customer repeated on ~5% of them)."""
    rng = random.Random(seed)
    pools = _pools(rng)
    rows: list[str] = []
    customers: list[str] = []
    for i in range(n):
        if customers and rng.random() < 0.05:
            # The same person on a second car row: their cells exactly as before.
            person = rng.choice(customers)
        else:
            name = rng.choice(pools["male" if rng.random() < 0.6 else "female"])
            phones = _phone(rng)
            if rng.random() < 0.15:
                phones += ", " + _phone(rng)
            if rng.random() < 0.02:
                phones = rng.choice(["12-34", "нет", "8 800"])
            email = f"client{i}@{rng.choice(pools['domains'])}" if rng.random() < 0.6 else ""
            if email and rng.random() < 0.02:
                email = email.replace("@", "")
            born = _day(rng, date(1950, 1, 1), date(2004, 1, 1)).strftime("%d.%m.%Y")
            if rng.random() < 0.02:
                born = "31.02.1980"
            region = rng.choice(REGIONS)
            city = rng.choice(pools["cities"])
            person = f'K-{i:07d};{name};"{phones}";{email};{born};{city};{region}'
            customers.append(person)
        vin, make, model = _vin(rng, i)
        year = rng.randrange(2008, 2026)
        plate = f"А{rng.randrange(100, 999)}ВС{rng.choice(['77', '99', '177', '66'])}"
        bought, price = "", ""
        if rng.random() < 0.4:
            bought = _day(rng, date(max(year, 2013), 1, 1), date(2026, 6, 1)).strftime("%d.%m.%Y")
            price = f"{rng.randrange(600, 6000) * 1000:,}".replace(",", " ") + ",00"
        visit, km = "", ""
        if rng.random() < 0.7:
            visit = _day(rng, date(max(year, 2013), 6, 1), date(2026, 10, 1)).strftime("%d.%m.%Y")
            km = f"{rng.randrange(1, 250) * 1000 + rng.randrange(1000)}"
        rows.append(f'{person};{vin};{make};{model};{year};{plate};{bought};"{price}";{visit};{km}')
    return rows


def write_file(path: Path, rows: list[str]) -> int:
    data = ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")
    path.write_bytes(data)
    return len(data)


# ------------------------------------------------------------------------------- phases


@dataclass
class Phase:
    name: str
    records: int
    seconds: float
    report: dict[str, Any] | None = None
    events: int = 0  # events applied (apply phase)

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


@dataclass
class Metered:
    name: str
    records: int
    meter: Meter

    def per_record(self) -> dict[str, float]:
        return self.meter.totals().per(self.records)


@dataclass
class ImportBench:
    records: int
    file_bytes: int
    events: int
    phases: list[Phase] = field(default_factory=list)
    metered: list[Metered] = field(default_factory=list)


def run_import(
    tenant: Tenant,
    connector_id: str,
    path: Path,
    *,
    dry_run: bool,
    after_batch: Callable[[], object] | None = None,
) -> ImportReport:
    """What `trigly import` does, without the progress bar; `after_batch` runs after each batch
    of at most 500 events (where Lambda's poller would be consuming the ingest queue)."""
    from trigly.imports.report import ImportReport
    from trigly.imports.runner import Importer
    from trigly.imports.source import Reader, open_stream
    from trigly.platform import clock

    def blocks() -> Any:
        with path.open("rb") as file:
            yield from iter(lambda: file.read(1 << 20), b"")

    layout, found = open_stream(blocks(), "csv")
    reader = Reader(layout, timezone=tenant.timezone)
    importer = Importer(
        tenant,
        connector_id,
        dry_run=dry_run,
        report=ImportReport("csv", dry_run),
        received_at=clock.now(),
        columns=reader.columns,
        progress=(lambda _line: after_batch()) if after_batch else None,
    )
    importer.add(reader.rows(found))
    return importer.finish()


def apply_all(stack: Any) -> int:
    """The ingest queue to the ingest handler in batches of its BatchSize, unmetered (the
    throughput phases must not pay for the meter's side requests)."""
    import boto3

    from functions.ingest.app import handler
    from tests.support import FakeLambdaContext, sqs_event

    sqs = boto3.client("sqs")
    queue = stack.queues["IngestQueue"]
    size = IngestPoller(stack).batch_size
    applied = 0
    while True:
        batch: list[dict[str, Any]] = []
        while len(batch) < size:
            got = sqs.receive_message(
                QueueUrl=queue.url, MaxNumberOfMessages=min(10, size - len(batch))
            ).get("Messages", [])
            if not got:
                break
            batch.extend(got)
        if not batch:
            return applied
        result = handler(sqs_event([m["Body"] for m in batch], queue.arn), FakeLambdaContext())
        if result.get("batchItemFailures"):
            raise RuntimeError(f"ingest failed records: {result['batchItemFailures'][:3]}")
        for start in range(0, len(batch), 10):
            sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(batch[start : start + 10])
                ],
            )
        applied += len(batch)


def _timed(name: str, records: int, work: Any) -> Phase:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    phase = Phase(name, records, seconds)
    if hasattr(result, "as_json"):
        phase.report = result.as_json()
    elif isinstance(result, int):
        phase.events = result
    print(f"  {name:<12} {records:>7} records in {seconds:7.1f} s = {phase.per_second:8.1f}/s")
    return phase


class Applier:
    """Applies what the import queued as it goes, timing (and optionally metering) only that.

    moto's SendMessage walks the whole queue, so letting 250,000 events pile up would measure
    moto, not the product; on AWS the ingest function consumes the queue while the import runs.
    """

    def __init__(self, stack: Any, meter: Meter | None = None) -> None:
        self.stack, self.meter, self.seconds, self.events = stack, meter, 0.0, 0

    def __call__(self) -> None:
        started = time.perf_counter()
        if self.meter is not None:
            with self.meter:
                self.events += apply_all(self.stack)
        else:
            self.events += apply_all(self.stack)
        self.seconds += time.perf_counter() - started


class Sink:
    """While active, messages sent to the ingest queue are counted and dropped on arrival.

    Emulator housekeeping for the throughput phases: moto's SQS walks the whole queue on every
    SendMessage and ReceiveMessage (quadratic in its depth), which would time moto, not the
    import path. The SendMessageBatch requests themselves still go through botocore and moto.
    """

    def __init__(self, stack: Any) -> None:
        from moto.sqs.models import sqs_backends

        name = stack.queues["IngestQueue"].url.rsplit("/", 1)[-1]
        self.queue = sqs_backends[stack.account_id][stack.region].queues[name]
        self.dropped = 0

    def _drop(self, message: object) -> None:
        self.dropped += 1

    def __enter__(self) -> Sink:
        self.queue.add_message = self._drop
        return self

    def __exit__(self, *_: object) -> None:
        del self.queue.add_message


def run(records: int = RECORDS, sample: int = SAMPLE, workdir: Path | None = None) -> ImportBench:
    install()
    workdir = workdir or Path("/tmp") / "trigly-import-bench"
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = generate_rows(records)
    whole, part = workdir / f"base-{records}.csv", workdir / f"sample-{sample}.csv"
    size = write_file(whole, rows)
    write_file(part, rows[:sample])
    print(
        f"  generated {records} rows ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s"
    )
    with emulated_stack() as stack:
        from trigly.platform import tenancy

        names = table_names(stack)

        # Requests per record, on the sample, for a tenant of its own.
        small = tenancy.create_tenant("Автомир (выборка)")
        small_connector = tenancy.create_connector(small.tenant_id, "DMS").connector_id
        metered: list[Metered] = []
        with Meter(names) as m:
            run_import(small, small_connector, part, dry_run=True)
        metered.append(Metered("dry run", sample, m))
        applier = Applier(stack, Meter(names))
        importing = Meter(names)
        started_sample = time.perf_counter()
        with importing:
            # The applier's own meter is entered inside: its calls are counted there too, so
            # they are taken out of the import's figures below.
            run_import(small, small_connector, part, dry_run=False, after_batch=applier)
        assert applier.meter is not None
        print(
            f"  sample of {sample} rows imported and applied (metered) in"
            f" {time.perf_counter() - started_sample:.1f} s"
        )
        applied = {id(c) for c in applier.meter.calls}
        importing.calls = [c for c in importing.calls if id(c) not in applied]
        metered.append(Metered("import", sample, importing))
        metered.append(Metered("apply", sample, applier.meter))
        with Meter(names) as m:
            run_import(small, small_connector, part, dry_run=False, after_batch=lambda: None)
        metered.append(Metered("re-run", sample, m))
        apply_all(stack)

        # Throughput on the whole file: the import path up to the ingest queue (see Sink);
        # applying is timed on the sample above (moto needs ~4 ms a DynamoDB call).
        tenant = tenancy.create_tenant("Автомир")
        connector = tenancy.create_connector(tenant.tenant_id, "DMS").connector_id
        phases = [
            _timed("dry run", records, lambda: run_import(tenant, connector, whole, dry_run=True))
        ]
        sink = Sink(stack)
        with sink:
            phases += [
                _timed(
                    "import",
                    records,
                    lambda: run_import(tenant, connector, whole, dry_run=False),
                ),
                _timed(
                    "re-run",
                    records,
                    lambda: run_import(tenant, connector, whole, dry_run=False),
                ),
            ]
        print(f"  {sink.dropped} messages reached the ingest queue")
        sample_apply = Phase("apply", sample, applier.seconds, events=applier.events)
        phases.append(sample_apply)
    events = (phases[0].report or {}).get("events", 0)
    return ImportBench(records, size, events, phases, metered)


# ------------------------------------------------------------------------------- report

# AWS list prices, us-east-1 / eu-central-1 order of magnitude (USD), for the projection.
PRICE_PER_MILLION = {
    "dynamodb_write": 1.25,
    "dynamodb_read": 0.25,
    "sqs": 0.40,
    "lambda_gb_s": 0.0000133334,
}


def summary(result: ImportBench) -> str:
    lines = [
        f"Bulk import of {result.records} generated dirty CSV rows"
        f" ({result.file_bytes / 1e6:.1f} MB, {result.events} events,"
        f" {result.events / result.records:.2f} per row)",
        f"  {'phase':<10} {'seconds':>8} {'rows/s':>8}",
    ]
    for phase in result.phases:
        if phase.name != "apply":
            lines.append(f"  {phase.name:<10} {phase.seconds:>8.1f} {phase.per_second:>8.1f}")
    by_name = {p.name: p for p in result.phases}
    applied = by_name["apply"]
    lines.append(
        f"  apply ({applied.records}-row sample, metered): {applied.events} events in"
        f" {applied.seconds:.1f} s = {applied.events / applied.seconds:.1f} events/s"
    )
    dry, done = (by_name["dry run"].report or {}), (by_name["import"].report or {})
    lines.append(f"  dry run totals: {dry.get('totals')}")
    lines.append(f"  commit totals:  {done.get('totals')}")
    rerun = by_name["re-run"].report or {}
    lines.append(f"  re-run totals:  {rerun.get('totals')}")
    lines.append("")
    lines.append(f"AWS requests per row (metered sample of {result.metered[0].records} rows)")
    lines.append(f"  {'phase':<10} {'calls':>7} {'DynamoDB':>9} {'RRU':>7} {'WRU':>7} {'Scan':>5}")
    for m in result.metered:
        per = m.per_record()
        lines.append(
            f"  {m.name:<10} {per['calls']:>7.2f} {per['dynamodb_calls']:>9.2f}"
            f" {per['rru']:>7.2f} {per['wru']:>7.2f} {m.meter.totals().scans:>5}"
        )
    return "\n".join(lines)


def details(result: ImportBench) -> str:
    return "\n\n".join(
        m.meter.report(m.records, f"{m.name}: per row", unit="row") for m in result.metered
    )


def main() -> ImportBench:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_bench")
    parser.add_argument("--records", type=int, default=RECORDS)
    parser.add_argument("--sample", type=int, default=SAMPLE)
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args.records, min(args.sample, args.records))
    print(summary(result))
    print()
    print(details(result))
    print(f"\n(import_bench ran in {time.perf_counter() - started:.1f} s)")
    return result


if __name__ == "__main__":
    main()
