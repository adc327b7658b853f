"""What was known about a customer at a moment: the readiness features (issue 12, CONTRACT §7).

The point-in-time rule: `features_at(…, as_of)` reads only facts dated at or before `as_of` (a
visit by its closing, a web view by its time, a sale by its date, an odometer reading by its
time, a click by the click), so an example built for a past moment sees what the dealer could
have seen then, and the same code scores today. Facts without a date of their own are left out
rather than guessed (docs/scoring.md lists them). Current-state snapshots (the profile's car
view: last mileage, financing end…) are never read: they were written later than a past
moment. Of the customer's car view only the VIN, make, model, year and the ownership dates are
used; the rest comes from the car record's dated readings and sales and from the history.

Every feature is a float or None (unknown: no car, no reading, no price…); the names are the
keys of `FEATURES`, in the dealer's language, each documented in docs/scoring.md.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from trigly.messaging.intent import MessageStatus
from trigly.profiles.records import CustomerHistory, CustomerVehicle
from trigly.vehicles import mileage
from trigly.vehicles.model import OdometerReading, Vehicle
from trigly.vehicles.warranty import warranty_ends_on

Features = dict[str, float | None]

DAY = 86_400.0
YEAR_DAYS = 365.25
WEB_PAGES = ("model", "configurator", "price", "trade_in")  # the shopping pages (CONTRACT §2)
REPAIR_KINDS = frozenset({"repair", "body"})  # work on a fault, not the schedule
LEFT_FOR_MONEY = frozenset({"price", "credit"})  # showroom reasons that an offer can answer


def _feature_names() -> tuple[str, ...]:
    web = [
        name
        for page in WEB_PAGES
        for name in (f"{page}_views_7d", f"{page}_views_30d", f"days_since_{page}_view")
    ]
    return (
        "cars_owned",
        "newest_car_age_years",
        "oldest_car_age_years",
        "longest_ownership_years",
        "estimated_mileage_km",
        "finance_ends_in_days",
        "finance_is_lease",
        "warranty_ends_in_days",
        "repairs_12m",
        "repair_spend_12m",
        "repair_spend_to_car_value",
        "declined_quotes_12m",
        "declined_amount_12m",
        "declined_to_car_value",
        "service_visits_12m",
        "service_visits_24m",
        "days_since_last_service",
        *web,
        "web_views_7d",
        "web_views_30d",
        "models_viewed_30d",
        "test_drives_180d",
        "days_since_test_drive",
        "showroom_visits_180d",
        "showroom_thinking_180d",
        "showroom_left_for_price_180d",
        "days_since_showroom_visit",
        "leads_90d",
        "days_since_lead",
        "message_clicks_90d",
        "days_since_message_click",
        "calls_90d",
        "birthday_within_30_days",
        "cars_bought",
        "days_since_last_purchase",
        "customer_for_years",
    )


FEATURES: tuple[str, ...] = _feature_names()


def aware(moment: datetime) -> datetime:
    """Records parsed from older JSON may lack an offset; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Clock:
    """`as_of` and the questions every feature asks of it."""

    as_of: datetime

    def known(self, moment: datetime) -> bool:
        return aware(moment) <= self.as_of

    def within(self, moment: datetime, days: int) -> bool:
        """In (as_of − days, as_of]: the last `days` days, this moment included."""
        at = aware(moment)
        return self.as_of - timedelta(days=days) < at <= self.as_of

    def days_since(self, moments: Iterable[datetime]) -> float | None:
        known = [aware(m) for m in moments if self.known(m)]
        if not known:
            return None
        return round((self.as_of - max(known)).total_seconds() / DAY, 2)

    def days_until(self, day: date) -> float:
        return float((day - self.as_of.date()).days)

    def years_since(self, moment: datetime) -> float:
        return round((self.as_of - aware(moment)).total_seconds() / DAY / YEAR_DAYS, 3)


def features_at(
    history: CustomerHistory,
    cars: Sequence[Vehicle],
    as_of: datetime,
    *,
    birth_date: date | None = None,
) -> Features:
    """The customer's features as known at `as_of` (aware; naive means UTC).

    `history` is the customer's collection parsed (`CustomerHistory.parse`), `cars` the car
    records of the VINs in it (readings, sales and financing live there), `birth_date` the
    profile's. Cars, visits and sales dated after `as_of` do not change the answer.
    """
    clock = _Clock(aware(as_of))
    out: Features = dict.fromkeys(FEATURES)
    by_vin = {car.vin: car for car in cars}
    owned = [v for v in history.cars if _owned_at(v, clock)]
    _car_features(out, owned, by_vin, history, clock)
    _service_features(out, owned, by_vin, history, clock)
    _web_features(out, history, clock)
    _sales_floor_features(out, history, clock)
    _birthday(out, birth_date, clock)
    return out


def _owned_at(car: CustomerVehicle, clock: _Clock) -> bool:
    return clock.known(car.since) and (car.until is None or not clock.known(car.until))


def _age_years(year: int, clock: _Clock) -> float:
    """From 1 July of the model year (the mileage model's birth of a car); a next model year's
    car sold before that is new, not negative."""
    return max(0.0, clock.years_since(datetime(year, 7, 1, tzinfo=UTC)))


def _readings(
    car: Vehicle | None, vin: str, history: CustomerHistory, clock: _Clock
) -> list[OdometerReading]:
    """The car's odometer readings known at `as_of`: the car record keeps the latest forty,
    the service visits hold the older ones."""
    found: dict[datetime, OdometerReading] = {}
    for visit in history.visits:
        if visit.vin == vin and clock.known(visit.closed_at):
            at = aware(visit.closed_at)
            found[at] = OdometerReading(at=at, km=visit.mileage_km, source="service_order")
    for reading in car.readings if car else ():
        if clock.known(reading.at):
            found[aware(reading.at)] = reading.model_copy(update={"at": aware(reading.at)})
    return [found[at] for at in sorted(found)]


def _mileage_at(
    view: CustomerVehicle, car: Vehicle | None, history: CustomerHistory, clock: _Clock
) -> int | None:
    readings = _readings(car, view.vin, history, clock)
    if readings:
        found = mileage.estimate(readings, view.year, clock.as_of, make=view.make)
        return found.km if found else None
    if view.year is not None and datetime(view.year, 7, 1, tzinfo=UTC) < clock.as_of:
        return mileage.unread_km(view.year, clock.as_of, make=view.make)
    return None


def _car_value(car: Vehicle | None, clock: _Clock) -> float | None:
    """The price the car last sold for, as known at `as_of`: its value until the trade-in
    valuation (issue 12, item 5) gives a market one."""
    if car is None:
        return None
    prices = [(aware(s.sold_at), s.price) for s in car.sales if clock.known(s.sold_at)]
    return max(prices)[1] if prices else None


def _nearest_end(ends: Sequence[float]) -> float | None:
    """The soonest end still ahead; else the latest one passed."""
    ahead = [d for d in ends if d >= 0]
    if ahead:
        return min(ahead)
    return max(ends, default=None)


def _car_features(
    out: Features,
    owned: Sequence[CustomerVehicle],
    by_vin: dict[str, Vehicle],
    history: CustomerHistory,
    clock: _Clock,
) -> None:
    out["cars_owned"] = float(len(owned))
    ages = [_age_years(v.year, clock) for v in owned if v.year is not None]
    if ages:
        out["newest_car_age_years"] = min(ages)
        out["oldest_car_age_years"] = max(ages)
    if owned:
        out["longest_ownership_years"] = max(clock.years_since(v.since) for v in owned)
    kms = [
        km for v in owned if (km := _mileage_at(v, by_vin.get(v.vin), history, clock)) is not None
    ]
    if kms:
        out["estimated_mileage_km"] = float(max(kms))
    finance: list[tuple[float, bool]] = []
    warranty: list[float] = []
    for view in owned:
        car = by_vin.get(view.vin)
        sales = [s for s in car.sales if clock.known(s.sold_at)] if car else []
        financed = [s for s in sales if s.financing and s.financing.ends_on]
        if financed:
            sale = max(financed, key=lambda s: aware(s.sold_at))
            assert sale.financing is not None and sale.financing.ends_on is not None
            lease = sale.financing.type == "lease"
            finance.append((clock.days_until(sale.financing.ends_on), lease))
        new = [aware(s.sold_at).date() for s in sales if s.condition == "new"]
        if new:
            make = view.make or (car.make if car else None)
            warranty.append(clock.days_until(warranty_ends_on(make, min(new))))
    nearest = _nearest_end([days for days, _ in finance])
    if nearest is not None:
        out["finance_ends_in_days"] = nearest
        out["finance_is_lease"] = float(any(d == nearest and lease for d, lease in finance))
    out["warranty_ends_in_days"] = _nearest_end(warranty)


def _service_features(
    out: Features,
    owned: Sequence[CustomerVehicle],
    by_vin: dict[str, Vehicle],
    history: CustomerHistory,
    clock: _Clock,
) -> None:
    visits = [v for v in history.visits if clock.known(v.closed_at)]
    out["service_visits_12m"] = float(sum(clock.within(v.closed_at, 365) for v in visits))
    out["service_visits_24m"] = float(sum(clock.within(v.closed_at, 730) for v in visits))
    out["days_since_last_service"] = clock.days_since(v.closed_at for v in visits)
    year = [v for v in visits if clock.within(v.closed_at, 365)]
    done = [j for v in year for j in v.jobs if j.kind in REPAIR_KINDS and not j.declined]
    declined = [j for v in year for j in v.jobs if j.declined]
    out["repairs_12m"] = float(len(done))
    out["repair_spend_12m"] = float(sum(j.amount for j in done))
    out["declined_quotes_12m"] = float(len(declined))
    out["declined_amount_12m"] = float(sum(j.amount for j in declined))
    values = [value for v in owned if (value := _car_value(by_vin.get(v.vin), clock))]
    # (a price of 0 is no value: it cannot be divided by, so it counts as unknown)
    if values:
        # Against the cars the customer drives now: a big quote on a cheap car is a reason to
        # change it rather than mend it.
        vins = {v.vin for v in owned}
        mine = [v for v in year if v.vin in vins]
        spent = sum(
            j.amount for v in mine for j in v.jobs if j.kind in REPAIR_KINDS and not j.declined
        )
        quoted = sum(j.amount for v in mine for j in v.jobs if j.declined)
        out["repair_spend_to_car_value"] = round(spent / sum(values), 4)
        out["declined_to_car_value"] = round(quoted / sum(values), 4)


def _web_features(out: Features, history: CustomerHistory, clock: _Clock) -> None:
    views = [w for w in history.web_visits if clock.known(w.at)]
    for page in WEB_PAGES:
        these = [w for w in views if w.page == page]
        out[f"{page}_views_7d"] = float(sum(clock.within(w.at, 7) for w in these))
        out[f"{page}_views_30d"] = float(sum(clock.within(w.at, 30) for w in these))
        out[f"days_since_{page}_view"] = clock.days_since(w.at for w in these)
    out["web_views_7d"] = float(sum(clock.within(w.at, 7) for w in views))
    recent = [w for w in views if clock.within(w.at, 30)]
    out["web_views_30d"] = float(len(recent))
    out["models_viewed_30d"] = float(len({w.model.casefold() for w in recent if w.model}))


def _sales_floor_features(out: Features, history: CustomerHistory, clock: _Clock) -> None:
    # A test drive counts from its start, with its outcome as recorded (an outcome is reported
    # within hours of the drive); one still ahead is left out: the booking's own date is not kept.
    drives = [
        d for d in history.test_drives if clock.known(d.starts_at) and d.status != "cancelled"
    ]
    out["test_drives_180d"] = float(
        sum(clock.within(d.starts_at, 180) for d in drives if d.status == "completed")
    )
    out["days_since_test_drive"] = clock.days_since(
        d.starts_at for d in drives if d.status == "completed"
    )
    showroom = [s for s in history.showroom_visits if clock.within(s.at, 180)]
    out["showroom_visits_180d"] = float(len(showroom))
    out["showroom_thinking_180d"] = float(sum(s.outcome == "thinking" for s in showroom))
    out["showroom_left_for_price_180d"] = float(
        sum(s.outcome == "left" and s.reason in LEFT_FOR_MONEY for s in showroom)
    )
    out["days_since_showroom_visit"] = clock.days_since(s.at for s in history.showroom_visits)
    out["leads_90d"] = float(sum(clock.within(lead.created_at, 90) for lead in history.leads))
    out["days_since_lead"] = clock.days_since(lead.created_at for lead in history.leads)
    clicks = [
        entry.at
        for message in history.messages
        for entry in message.state.history
        if entry.status == MessageStatus.CLICKED
    ]
    out["message_clicks_90d"] = float(sum(clock.within(at, 90) for at in clicks))
    out["days_since_message_click"] = clock.days_since(clicks)
    out["calls_90d"] = float(sum(clock.within(call.at, 90) for call in history.calls))
    bought = [p.sold_at for p in history.purchases if clock.known(p.sold_at)]
    out["cars_bought"] = float(len(bought))
    out["days_since_last_purchase"] = clock.days_since(bought)
    first = first_known(history, clock)
    out["customer_for_years"] = clock.years_since(first) if first else None


def first_known(history: CustomerHistory, clock: "_Clock | None" = None) -> datetime | None:
    """The customer's first dated fact (known at the clock's moment, when given): how long the
    dealer has known them, and whether it knew them at all at a past moment."""
    moments: list[datetime] = [
        *(v.since for v in history.cars),
        *(v.closed_at for v in history.visits),
        *(p.sold_at for p in history.purchases),
        *(s.at for s in history.showroom_visits),
        *(lead.created_at for lead in history.leads),
        *(w.at for w in history.web_visits),
        *(d.starts_at for d in history.test_drives),
        *(c.at for c in history.calls),
    ]
    known = [aware(m) for m in moments if clock is None or clock.known(m)]
    return min(known) if known else None


def _birthday(out: Features, birth_date: date | None, clock: _Clock) -> None:
    if birth_date is None:
        return
    today = clock.as_of.date()
    out["birthday_within_30_days"] = float(_days_to_birthday(birth_date, today) <= 30)


def _days_to_birthday(birth_date: date, today: date) -> int:
    for year in (today.year, today.year + 1):
        try:
            next_one = birth_date.replace(year=year)
        except ValueError:  # 29 February: the 28th in other years
            next_one = date(year, 2, 28)
        if next_one >= today:
            return (next_one - today).days
    return 366  # unreachable: next year's birthday is always ahead
