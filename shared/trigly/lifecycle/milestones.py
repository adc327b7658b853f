"""The next dated event of each kind in a car's and a customer's life, for journeys to act on.

Each milestone is the date the thing happens (journeys apply their own offsets, e.g. 14 days
before), today or later, with a stable key per occurrence so a recomputation finds the same
milestone and a journey enrols once per occurrence.
"""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from trigly.lifecycle.calendar import anniversary, next_anniversary
from trigly.lifecycle.maintenance import MAINTENANCE, car_start, is_maintenance, next_maintenance
from trigly.lifecycle.plans import MaintenancePlan
from trigly.lifecycle.seasons import RegionSeasons, next_tyre_change
from trigly.profiles.records import ServiceVisit
from trigly.vehicles.model import Vehicle
from trigly.vehicles.warranty import DEFAULT_YEARS, WARRANTY_YEARS, warranty_ends_on

MilestoneKind = Literal[
    "maintenance",
    "tyre_season",
    "insurance_renewal",
    "warranty_end",
    "financing_end",
    "birthday",
    "purchase_anniversary",
    "car_age",
    "declined_work",
]
TRADE_IN_AGES = (3, 4, 5)
DECLINED_FOLLOW_UP_DAYS = 30
TYRES = "tires"  # the repair-order job kind of a tyre change (CONTRACT §2)
TYRES_EARLY_DAYS = 30  # a change this long before the window opens counts for its season


class Milestone(BaseModel):
    kind: MilestoneKind
    due_on: date  # the date the thing happens
    key: str  # stable per occurrence, e.g. "maintenance:3", "car_age:4"
    vin: str | None = None
    details: dict[str, Any]


def _maintenance(
    vehicle: Vehicle,
    today: date,
    plan: MaintenancePlan,
    visits: Sequence[ServiceVisit],
    region: str | None,
) -> Milestone | None:
    upcoming = next_maintenance(vehicle, plan, today, visits, region)
    if upcoming is None:
        return None
    return Milestone(
        kind="maintenance",
        due_on=max(upcoming.due_on, today),
        key=f"maintenance:{upcoming.number}",
        vin=vehicle.vin,
        details={
            "number": upcoming.number,
            "service": upcoming.service,
            "due_km": upcoming.due_km,
            "due_on": upcoming.due_on.isoformat(),
            "window": {
                "p10": upcoming.window.p10.isoformat(),
                "p90": upcoming.window.p90.isoformat(),
            },
            "by": upcoming.by,
            "works": upcoming.works,
            "overdue": upcoming.overdue,
        },
    )


def _tyres_changed_on(vehicle: Vehicle, visits: Sequence[ServiceVisit]) -> list[date]:
    return [
        v.closed_at.date()
        for v in visits
        if v.vin == vehicle.vin and any(j.kind == TYRES and not j.declined for j in v.jobs)
    ]


def _tyres(
    vehicle: Vehicle,
    region: str | None,
    today: date,
    visits: Sequence[ServiceVisit],
    tyre_overrides: Mapping[str, RegionSeasons | Mapping[str, str]],
) -> Milestone:
    """The season's change, or the following one when the car had its tyres done for it
    (a tyre job from a month before the window opened)."""
    window = next_tyre_change(region, today, tyre_overrides)
    changed = _tyres_changed_on(vehicle, visits)
    early = timedelta(days=TYRES_EARLY_DAYS)
    if any(window.opens_on - early <= day <= window.closes_on for day in changed):
        window = next_tyre_change(region, window.closes_on + timedelta(days=1), tyre_overrides)
    return Milestone(
        kind="tyre_season",
        due_on=max(window.opens_on, today),
        key=f"tyre_season:{window.opens_on.year}-{window.kind}",
        vin=vehicle.vin,
        details={
            "season": window.kind,
            "opens_on": window.opens_on.isoformat(),
            "closes_on": window.closes_on.isoformat(),
            "legal_from": window.legal_from.isoformat(),
            "legal_note": window.legal_note,
            "zone": window.zone,
            "region": window.region,
        },
    )


def _roll_forward(ends_on: date, today: date) -> tuple[date, bool]:
    """A policy that ended is assumed renewed for a year at a time (OSAGO is yearly)."""
    if ends_on >= today:
        return ends_on, False
    return next_anniversary(ends_on, today)[1], True


def _insurance(vehicle: Vehicle, owner_since: date | None, today: date) -> list[Milestone]:
    policies = [p for p in vehicle.insurance if owner_since is None or p.ends_on > owner_since]
    latest: dict[str, date] = {}
    for policy in policies:
        kind = policy.kind.lower()
        latest[kind] = max(latest.get(kind, policy.ends_on), policy.ends_on)
    found: list[tuple[str, date, bool, str]] = []
    for kind, ends_on in sorted(latest.items()):
        due, assumed = _roll_forward(ends_on, today)
        found.append((kind, due, assumed, "policy"))
    if not found and owner_since is not None:
        due, _ = _roll_forward(anniversary(owner_since, 1), today)
        found.append(("osago", due, True, "purchase"))
    return [
        Milestone(
            kind="insurance_renewal",
            due_on=due,
            key=f"insurance:{kind}:{due.isoformat()}",
            vin=vehicle.vin,
            details={
                "policy_kind": kind,
                "ends_on": due.isoformat(),
                "assumed": assumed,
                "from": source,
            },
        )
        for kind, due, assumed, source in found
    ]


def _warranty(vehicle: Vehicle, today: date) -> Milestone | None:
    sold_new = [s.sold_at.date() for s in vehicle.sales if s.condition == "new"]
    if not sold_new:
        return None
    ends_on = warranty_ends_on(vehicle.make, min(sold_new))
    if ends_on < today:
        return None
    return Milestone(
        kind="warranty_end",
        due_on=ends_on,
        key=f"warranty_end:{ends_on.isoformat()}",
        vin=vehicle.vin,
        details={
            "ends_on": ends_on.isoformat(),
            "years": WARRANTY_YEARS.get((vehicle.make or "").upper(), DEFAULT_YEARS),
        },
    )


def _financing(vehicle: Vehicle, today: date) -> Milestone | None:
    owner = vehicle.owner_id
    financed = [
        s
        for s in vehicle.sales
        if s.financing and s.financing.ends_on and (owner is None or s.customer_id == owner)
    ]
    if not financed:
        return None
    sale = max(financed, key=lambda s: s.sold_at)
    assert sale.financing is not None and sale.financing.ends_on is not None
    ends_on = sale.financing.ends_on
    if ends_on < today:
        return None
    return Milestone(
        kind="financing_end",
        due_on=ends_on,
        key=f"financing_end:{ends_on.isoformat()}",
        vin=vehicle.vin,
        details={
            "type": sale.financing.type,
            "ends_on": ends_on.isoformat(),
            "term_months": sale.financing.term_months,
            "monthly_payment": sale.financing.monthly_payment,
            "deal_id": sale.deal_id,
        },
    )


def _purchase_anniversary(
    vehicle: Vehicle, owner_since: date | None, today: date
) -> Milestone | None:
    if owner_since is None:
        return None
    years, on = next_anniversary(owner_since, today)
    return Milestone(
        kind="purchase_anniversary",
        due_on=on,
        key=f"purchase_anniversary:{on.year}",
        vin=vehicle.vin,
        details={"years": years, "since": owner_since.isoformat()},
    )


def _car_age(vehicle: Vehicle, today: date) -> Milestone | None:
    start = car_start(vehicle)
    if start is None:
        return None
    source = "sale" if any(s.condition == "new" for s in vehicle.sales) else "model_year"
    for age in TRADE_IN_AGES:
        on = anniversary(start, age)
        if on >= today:
            return Milestone(
                kind="car_age",
                due_on=on,
                key=f"car_age:{age}",
                vin=vehicle.vin,
                details={"age": age, "since": start.isoformat(), "from": source},
            )
    return None


def _declined(vehicle: Vehicle, today: date, visits: Sequence[ServiceVisit]) -> list[Milestone]:
    """A follow-up 30 days after each visit with declined work, unless a later visit did it
    (the same code or name; any later maintenance for a declined maintenance job)."""
    own = sorted((v for v in visits if v.vin == vehicle.vin), key=lambda v: v.closed_at)
    found = []
    for index, visit in enumerate(own):
        later = own[index + 1 :]
        done = {
            name.casefold()
            for v in later
            for j in v.jobs
            if not j.declined
            for name in (j.code, j.name)
            if name
        }
        serviced_since = any(is_maintenance(v) for v in later)
        pending = [
            j
            for j in visit.jobs
            if j.declined
            and not ({n.casefold() for n in (j.code, j.name) if n} & done)
            and not (j.kind == MAINTENANCE and serviced_since)
        ]
        follow_up = visit.closed_at.date() + timedelta(days=DECLINED_FOLLOW_UP_DAYS)
        if not pending or follow_up < today:
            continue
        found.append(
            Milestone(
                kind="declined_work",
                due_on=follow_up,
                key=f"declined_work:{visit.order_id}",
                vin=vehicle.vin,
                details={
                    "order_id": visit.order_id,
                    "visit_on": visit.closed_at.date().isoformat(),
                    "jobs": [
                        {"name": j.name, "code": j.code, "kind": j.kind, "amount": j.amount}
                        for j in pending
                    ],
                    "amount": round(sum(j.amount for j in pending), 2),
                    "currency": visit.currency,
                },
            )
        )
    return found


def car_milestones(  # noqa: PLR0917 - the signature journeys code against
    vehicle: Vehicle,
    owner_since: date | None,
    region: str | None,
    today: date,
    plan: MaintenancePlan,
    visits: Sequence[ServiceVisit] = (),
    *,
    tyre_overrides: Mapping[str, RegionSeasons | Mapping[str, str]] = {},
) -> list[Milestone]:
    """The next occurrence of each kind for this car (today or later; one per kind, the
    earliest: of two policies the one ending first), by date."""
    found: list[Milestone | None] = [
        _maintenance(vehicle, today, plan, visits, region),
        _tyres(vehicle, region, today, visits, tyre_overrides),
        *_insurance(vehicle, owner_since, today),
        _warranty(vehicle, today),
        _financing(vehicle, today),
        _purchase_anniversary(vehicle, owner_since, today),
        _car_age(vehicle, today),
        *_declined(vehicle, today, visits),
    ]
    earliest: dict[str, Milestone] = {}
    for milestone in sorted((m for m in found if m is not None), key=lambda m: (m.due_on, m.key)):
        earliest.setdefault(milestone.kind, milestone)
    return list(earliest.values())


def customer_milestones(birth_date: date | None, today: date) -> list[Milestone]:
    if birth_date is None:
        return []
    age, on = next_anniversary(birth_date, today)
    return [
        Milestone(
            kind="birthday",
            due_on=on,
            key=f"birthday:{on.year}",
            vin=None,
            details={"age": age, "birth_date": birth_date.isoformat()},
        )
    ]
