"""Point-in-time training examples a second: `trigly.scoring.examples` on synthetic histories.

    .venv/bin/python -m benchmarks.scoring_examples                      # 300 customers, seed 1
    .venv/bin/python -m benchmarks.scoring_examples --customers 1000 --seed 2
    .venv/bin/python -m benchmarks.scoring_examples --web 80   # ~100 facts a customer, mostly web

Each customer: a first contact up to six years before now, 1–2 cars (model year before the
purchase, odometer readings at each service visit and in the car record), a service visit every
4–14 months with maintenance, repairs and declined quotes, web views of model / configurator /
price / trade-in pages (a few a year, and a burst of 5–25 in the weeks before a purchase or a
test drive), test drives and showroom visits near purchases, leads, messages with clicks, calls.
About a third buy a car in the period (some with a loan or lease). This is a **throughput
fixture** of the right size and shape, not the generator with a latent purchase process that
the model's quality figures need (issue 12, next slice): its labels carry no claim.

Measured: one example a month per customer known then, over the tenant's history, from
`monthly_moments(…, now)` (windows closed by now), as `training_examples` builds them in one
process; the time is wall clock of that call alone (the generation is not counted).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from trigly.events.types import Channel
from trigly.messaging.intent import HistoryEntry, MessagePurpose, MessageState, MessageStatus
from trigly.messaging.message import StoredMessage
from trigly.profiles.records import (
    Call,
    CustomerHistory,
    CustomerVehicle,
    Interest,
    Lead,
    Purchase,
    ServiceVisit,
    ShowroomVisit,
    VisitJob,
    WebVisit,
)
from trigly.profiles.records import TestDrive as DriveBooking
from trigly.scoring.examples import CustomerFacts, monthly_moments, training_examples
from trigly.vehicles.model import Financing, OdometerReading, Sale, Vehicle

MODELS = (("KIA", "Rio"), ("KIA", "Sportage"), ("HAVAL", "Jolion"), ("LADA", "Vesta"))
PAGES = ("model", "configurator", "price", "trade_in", "service", "other")
HISTORY_DAYS = 6 * 365


def _customer(rng: random.Random, index: int, now: datetime, web: int) -> CustomerFacts:
    cid = f"cus_{index}"
    first = now - timedelta(days=rng.uniform(200, HISTORY_DAYS))
    history = CustomerHistory()
    records: list[Vehicle] = []
    # Purchases: one in ~3 buys during the period; a car bought before it is the one serviced.
    moments = [first]
    if rng.random() < 0.35:
        moments.append(first + (now - first) * rng.uniform(0.2, 0.95))
    for n, bought in enumerate(moments):
        make, model = rng.choice(MODELS)
        vin = f"VIN{index:07d}{n:02d}"
        new = n > 0 or rng.random() < 0.5
        year = bought.year if new else bought.year - rng.randint(2, 9)
        price = rng.uniform(1.2e6, 4.5e6) * (1.0 if new else 0.6)
        financing = None
        if rng.random() < 0.4:
            months = rng.choice((36, 48, 60))
            financing = Financing(
                type=rng.choice(("loan", "loan", "lease")),
                term_months=months,
                ends_on=(bought + timedelta(days=30.4 * months)).date(),
            )
        deal = f"deal_{index}_{n}"
        sale = Sale(
            deal_id=deal,
            customer_id=cid,
            sold_at=bought,
            price=price,
            currency="RUB",
            condition="new" if new else "used",
            financing=financing,
        )
        history.cars.append(
            CustomerVehicle(vin=vin, make=make, model=model, year=year, since=bought)
        )
        if n > 0:
            history.cars[n - 1] = history.cars[n - 1].model_copy(update={"until": bought})
            history.purchases.append(
                Purchase(
                    deal_id=deal,
                    vin=vin,
                    make=make,
                    model=model,
                    year=year,
                    sold_at=bought,
                    price=price,
                    currency="RUB",
                    condition="new" if new else "used",
                )
            )
            _shopping(rng, history, bought, model, f"{index}_{n}")
        until = moments[n + 1] if n + 1 < len(moments) else now
        readings = _service(
            rng,
            history,
            vin,
            bought,
            until,
            0 if new else rng.randint(20_000, 150_000),
            f"{index}_{n}",
        )
        records.append(
            Vehicle(vin=vin, make=make, model=model, year=year, readings=readings, sales=[sale])
        )
    _background(rng, history, first, now, index, web)
    born = (now - timedelta(days=rng.uniform(20, 70) * 365.25)).date()
    return CustomerFacts(customer_id=cid, history=history, cars=records, birth_date=born)


def _service(
    rng: random.Random,
    history: CustomerHistory,
    vin: str,
    bought: datetime,
    until: datetime,
    km: int,
    key: str,
) -> list[OdometerReading]:
    """A service visit every 4–14 months while the car is owned, each an odometer reading."""
    readings: list[OdometerReading] = []
    daily_km = rng.uniform(25, 70)
    last, day = bought, bought + timedelta(days=rng.uniform(120, 420))
    visit = 0
    while day < until:
        km += int(daily_km * (day - last).days)
        last = day
        readings.append(OdometerReading(at=day, km=km, source="service_order"))
        jobs = [VisitJob(name="ТО", kind="maintenance", amount=rng.uniform(8e3, 3e4))]
        if rng.random() < 0.3:
            jobs.append(VisitJob(name="ремонт", kind="repair", amount=rng.uniform(5e3, 9e4)))
        if rng.random() < 0.2:
            jobs.append(
                VisitJob(
                    name="рекомендация",
                    kind="repair",
                    amount=rng.uniform(1e4, 2e5),
                    declined=True,
                )
            )
        history.visits.append(
            ServiceVisit(
                order_id=f"o_{key}_{visit}",
                vin=vin,
                closed_at=day,
                mileage_km=km,
                jobs=jobs,
                total_amount=sum(j.amount for j in jobs if not j.declined),
                currency="RUB",
            )
        )
        visit += 1
        day += timedelta(days=rng.uniform(120, 420))
    return readings


def _background(
    rng: random.Random,
    history: CustomerHistory,
    first: datetime,
    now: datetime,
    index: int,
    web: int,
) -> None:
    """Activity over the whole history: a few web views, messages (some clicked), calls."""
    cid = f"cus_{index}"
    span = (now - first).total_seconds()
    for _ in range(rng.randint(0, 12) + web):
        history.web_visits.append(
            WebVisit(
                at=first + timedelta(seconds=rng.uniform(0, span)),
                page=rng.choice(PAGES),
                model=rng.choice(MODELS)[1],
            )
        )
    for k in range(rng.randint(0, 8)):
        sent = first + timedelta(seconds=rng.uniform(0, span))
        entries = [HistoryEntry(status=MessageStatus.SENT, at=sent)]
        if rng.random() < 0.15:
            entries.append(HistoryEntry(status=MessageStatus.CLICKED, at=sent + timedelta(hours=2)))
        history.messages.append(
            StoredMessage(
                message_id=f"m_{index}_{k}",
                customer_id=cid,
                idempotency_key=f"k_{index}_{k}",
                kind="campaign",
                purpose=MessagePurpose.MARKETING,
                created_at=sent,
                channel=Channel.SMS,
                state=MessageState(status=entries[-1].status, history=tuple(entries)),
            )
        )
    for k in range(rng.randint(0, 2)):
        history.calls.append(
            Call(
                call_id=f"c_{index}_{k}",
                at=first + timedelta(seconds=rng.uniform(0, span)),
                tracking_number="+74950000000",
                duration_s=rng.randint(10, 600),
                answered=True,
            )
        )


def _shopping(
    rng: random.Random, history: CustomerHistory, bought: datetime, model: str, key: str
) -> None:
    """The weeks before a purchase: a burst of web views, a lead, a test drive, a showroom visit."""
    for _ in range(rng.randint(5, 25)):
        history.web_visits.append(
            WebVisit(
                at=bought - timedelta(days=rng.uniform(1, 60)),
                page=rng.choice(PAGES[:4]),
                model=model,
            )
        )
    history.leads.append(
        Lead(
            lead_id=f"l_{key}",
            created_at=bought - timedelta(days=rng.uniform(10, 90)),
            source="site",
        )
    )
    history.test_drives.append(
        DriveBooking(
            booking_id=f"t_{key}",
            model=model,
            status="completed",
            starts_at=bought - timedelta(days=rng.uniform(3, 40)),
        )
    )
    history.showroom_visits.append(
        ShowroomVisit(
            visit_id=f"s_{key}",
            at=bought - timedelta(days=rng.uniform(5, 60)),
            interest=Interest(model=model),
            outcome="thinking",
        )
    )


def population(customers: int, seed: int, now: datetime, web: int = 0) -> list[CustomerFacts]:
    rng = random.Random(seed)
    return [_customer(rng, i, now, web) for i in range(customers)]


def report(customers: int, seed: int, web: int = 0) -> str:
    now = datetime.now(UTC)
    people = population(customers, seed, now, web)
    facts = sum(
        len(p.history.visits)
        + len(p.history.web_visits)
        + len(p.history.purchases)
        + len(p.history.messages)
        + len(p.history.test_drives)
        + len(p.history.showroom_visits)
        + len(p.history.leads)
        + len(p.history.calls)
        for p in people
    )
    moments = monthly_moments(people, now)
    started = time.perf_counter()
    examples = training_examples(people, moments, now=now)
    seconds = time.perf_counter() - started
    positives = sum(e.bought for e in examples)
    return "\n".join(
        [
            f"Point-in-time training examples (seed {seed}, {web} extra web views a customer)",
            f"  customers {customers:,}, dated facts {facts:,} ({facts / customers:.0f} each),"
            f" moments {len(moments)} (monthly)",
            f"  examples {len(examples):,} ({positives:,} bought within 180 days,"
            f" {positives / max(1, len(examples)):.1%})",
            f"  {seconds:.2f} s: {len(examples) / seconds:,.0f} examples/s,"
            f" {seconds / max(1, len(examples)) * 1e6:.0f} µs an example",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--web", type=int, default=0, help="extra web views per customer over the history"
    )
    args = parser.parse_args()
    print(report(args.customers, args.seed, args.web))


if __name__ == "__main__":
    main()
