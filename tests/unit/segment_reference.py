"""The condition language evaluated in plain Python over the same rows: the independent answer
the SQL is checked against. Written from CONTRACT §6 and docs/segments.md, not from the SQL."""

from __future__ import annotations

import math
import operator
from datetime import date, timedelta
from typing import Any

from tests.unit.segment_rows import Row
from trigly.segments.conditions import All, AnyOf, CarBlock, Condition, Leaf, Not, Op, Scope


def whole_years(since: date | None, today: date) -> int | None:
    if since is None:
        return None
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))


def years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def last_activity(customer: Row) -> date | None:
    dates = [d for d in (customer["last_visit_on"], customer["last_purchase_on"]) if d]
    return max(dates) if dates else None


def status(customer: Row, today: date) -> str:
    last = last_activity(customer)
    if last is not None and last >= years_before(today, 1):
        return "active"
    if last is not None and last >= years_before(today, 2):
        return "dormant"
    return "lost"


def days(a: date | None, b: date) -> int | None:
    return None if a is None else (b - a).days


class Tenant:
    """The live customers of one synthetic tenant, their cars and model views, as of `today`."""

    def __init__(self, rows: dict[str, list[Row]], today: date) -> None:
        self.today = today
        self.customers = [c for c in rows["customers"] if c["erased"] is not True]
        self.cars: dict[str, list[Row]] = {}
        for car in rows["cars"]:
            if car["current"] is True:
                self.cars.setdefault(car["customer_id"], []).append(car)
        self.views: dict[str, list[Row]] = {}
        horizon = today - timedelta(days=90)
        for view in rows["model_views"]:
            if view["last_viewed_on"] >= horizon:
                self.views.setdefault(view["customer_id"], []).append(view)
        self.rfm = self._rfm()

    def _rfm(self) -> dict[str, dict[str, int]]:
        keys = {
            "r": lambda c: (last_activity(c) is not None, last_activity(c) or date.min),
            "f": lambda c: (c["visits_count"] or 0) + (c["purchases_count"] or 0),
            "m": lambda c: c["spend_total"] or 0,
        }
        n = len(self.customers)
        scores: dict[str, dict[str, int]] = {c["customer_id"]: {} for c in self.customers}
        for letter, key in keys.items():
            values = [key(c) for c in self.customers]
            for customer, value in zip(self.customers, values, strict=True):
                lower = sum(1 for other in values if other < value)
                scores[customer["customer_id"]][letter] = 1 + (5 * lower) // n
        return scores

    def members(self, condition: Condition) -> set[str]:
        return {c["customer_id"] for c in self.customers if self.holds(condition, c, None)}

    def holds(self, condition: Condition, customer: Row, car: Row | None) -> bool:
        match condition:
            case All(conditions=items):
                return all(self.holds(i, customer, car) for i in items)
            case AnyOf(conditions=items):
                return any(self.holds(i, customer, car) for i in items)
            case Not(condition=inner):
                return not self.holds(inner, customer, car)
            case CarBlock(condition=inner):
                cars = self.cars.get(customer["customer_id"], [])
                return any(self.holds(inner, customer, one) for one in cars)
            case Leaf():
                return self.leaf(condition, customer, car)

    def leaf(self, leaf: Leaf, customer: Row, car: Row | None) -> bool:
        name = leaf.field.name
        if name == "web.viewed_model":
            return self.viewed_model(leaf, customer)
        if leaf.field.scope is Scope.CAR and car is None:  # a bare car leaf: some current car
            cars = self.cars.get(customer["customer_id"], [])
            return any(self.leaf(leaf, customer, one) for one in cars)
        value = self.car_value(name, car) if car is not None else self.value(name, customer)
        return compare(leaf, value)

    def viewed_model(self, leaf: Leaf, customer: Row) -> bool:
        views = self.views.get(customer["customer_id"], [])
        if leaf.op is Op.EXISTS:
            return bool(views) == leaf.value
        wanted = {
            str(v).lower() for v in (leaf.value if isinstance(leaf.value, tuple) else [leaf.value])
        }

        def names(view: Row) -> set[str]:
            if view["model"] is None:
                return set()
            found = {view["model"].lower()}
            if view["make"] is not None:
                found.add(f"{view['make']} {view['model']}".lower())
            return found

        if leaf.op in (Op.EQ, Op.IN):
            return any(names(v) & wanted for v in views)
        return any(names(v) and not names(v) & wanted for v in views)

    def value(self, name: str, c: Row) -> Any:
        today = self.today
        if name.startswith("consent."):
            return bool(c["consent_" + name.removeprefix("consent.").replace(".", "_")])
        if name.startswith("rfm."):
            return self.rfm[c["customer_id"]][name.removeprefix("rfm.")]
        simple = {
            "customer.region": lower(c["region"]),
            "customer.city": lower(c["city"]),
            "customer.location_id": c["location_id"],
            "customer.preferred_channel": c["preferred_channel"],
            "customer.age_years": whole_years(c["birth_date"], today),
            "visits.count": c["visits_count"] or 0,
            "visits.last_days_ago": days(c["last_visit_on"], today),
            "visits.total_amount": c["visits_total_amount"] or 0,
            "purchases.count": c["purchases_count"] or 0,
            "purchases.last_days_ago": days(c["last_purchase_on"], today),
            "spend.total": c["spend_total"] or 0,
            "status": status(c, today),
            "messages.last_clicked_days_ago": days(c["last_clicked_on"], today),
            "web.last_visit_days_ago": days(c["web_last_visit_on"], today),
            "readiness.score": c["readiness_score"],
            "loyalty.balance": c["loyalty_balance"],
            "loyalty.tier": c["loyalty_tier"],
        }
        return simple[name]

    def car_value(self, name: str, car: Row) -> Any:
        today = self.today

        def until(d: date | None) -> int | None:
            return None if d is None else (d - today).days

        return {
            "car.make": lower(car["make"]),
            "car.model": lower(car["model"]),
            "car.year": car["year"],
            "car.condition": lower(car["condition"]),
            "car.age_years": whole_years(car["first_registered_on"], today),
            "car.mileage_km": mileage(car, today),
            "car.maintenance_due_in_days": until(car["maintenance_due_on"]),
            "car.financing_ends_in_days": until(car["financing_ends_on"]),
            "car.insurance_ends_in_days": until(car["insurance_ends_on"]),
            "car.warranty_ends_in_days": until(car["warranty_ends_on"]),
        }[name]


def lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def mileage(car: Row, today: date) -> float | None:
    if car["mileage_km"] is None:
        return None
    on = car["mileage_on"]
    elapsed = 0 if on is None or on >= today else (today - on).days
    estimate = car["mileage_km"] + (car["km_per_day"] or 0) * elapsed
    return float(math.floor(estimate + 0.5))  # half away from zero, as SQL's round


def compare(leaf: Leaf, value: Any) -> bool:
    if leaf.op is Op.EXISTS:
        return (value is not None) == leaf.value
    if value is None:
        return False

    def fold(v: Any) -> Any:
        return v.lower() if leaf.field.folded and isinstance(v, str) else v

    value = fold(value)
    target = leaf.value
    if leaf.op in (Op.IN, Op.NOT_IN):
        assert isinstance(target, tuple)
        inside = value in {fold(t) for t in target}
        return inside if leaf.op is Op.IN else not inside
    if leaf.op is Op.BETWEEN:
        assert isinstance(target, tuple)
        return bool(target[0] <= value <= target[1])
    return bool(COMPARISONS[leaf.op](value, fold(target)))


COMPARISONS = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
}
