"""The segment condition language (CONTRACT §6): the tree, the field catalogue, and parsing.

A condition is `{"all": [...]}`, `{"any": [...]}`, `{"not": c}`, a leaf
`{"field", "op", "value"}`, or a car block `{"car": c}` whose leaves all hold for one and the
same current car. `parse_conditions` turns the JSON a caller sent into that tree or raises
`ValidationFailed` listing every fault with its dot-joined path (`conditions.all.1.op`).
The catalogue says what each field is (its kind, its ops, customer or car); what it means in SQL
is `trigly.analytics.sql`'s business, which keeps every analytics query in one module.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from trigly.events.types import Channel, ConsentPurpose
from trigly.platform.errors import FieldError, ValidationFailed

# Bounds that keep one segment's SQL small and its evaluation quick.
MAX_DEPTH = 12
MAX_LEAVES = 100
MAX_LIST = 500
MAX_TEXT = 200
# Integers beyond this lose precision as doubles; no dealer figure comes near it.
MAX_NUMBER = 10**15


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    EXISTS = "exists"


class Kind(StrEnum):
    """What a field's values are, which decides its ops and the values they take."""

    TEXT = "text"  # compared as written (or case-insensitively where `folded`)
    CHOICE = "choice"  # one of a fixed list (`status`, `car.condition`, channels)
    NUMBER = "number"  # ordered: every op
    BOOLEAN = "boolean"


class Scope(StrEnum):
    CUSTOMER = "customer"
    CAR = "car"  # one current car: inside a car block, or "some current car" when bare


_EQUALITY = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.EXISTS})
_ORDERED = _EQUALITY | {Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN}
_BOOLEAN = frozenset({Op.EQ, Op.NE, Op.EXISTS})
OPS_BY_KIND: dict[Kind, frozenset[Op]] = {
    Kind.TEXT: _EQUALITY,
    Kind.CHOICE: _EQUALITY,
    Kind.NUMBER: _ORDERED,
    Kind.BOOLEAN: _BOOLEAN,
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    scope: Scope = Scope.CUSTOMER
    choices: tuple[str, ...] = ()
    folded: bool = False  # compared case-insensitively (make, model, region, city)

    @property
    def ops(self) -> frozenset[Op]:
        return OPS_BY_KIND[self.kind]


STATUSES = ("active", "dormant", "lost")
CAR_CONDITIONS = ("new", "used")
CONSENT_FIELDS = tuple(
    f"consent.{channel.value}.{purpose.value}" for channel in Channel for purpose in ConsentPurpose
)


def _catalogue() -> dict[str, Field]:
    fields = [
        Field("customer.region", Kind.TEXT, folded=True),
        Field("customer.city", Kind.TEXT, folded=True),
        Field("customer.location_id", Kind.TEXT),
        Field("customer.preferred_channel", Kind.CHOICE, choices=tuple(c.value for c in Channel)),
        Field("customer.age_years", Kind.NUMBER),
        *(Field(name, Kind.BOOLEAN) for name in CONSENT_FIELDS),
        Field("car.make", Kind.TEXT, Scope.CAR, folded=True),
        Field("car.model", Kind.TEXT, Scope.CAR, folded=True),
        Field("car.year", Kind.NUMBER, Scope.CAR),
        Field("car.condition", Kind.CHOICE, Scope.CAR, choices=CAR_CONDITIONS),
        Field("car.age_years", Kind.NUMBER, Scope.CAR),
        Field("car.mileage_km", Kind.NUMBER, Scope.CAR),
        Field("car.maintenance_due_in_days", Kind.NUMBER, Scope.CAR),
        Field("car.financing_ends_in_days", Kind.NUMBER, Scope.CAR),
        Field("car.insurance_ends_in_days", Kind.NUMBER, Scope.CAR),
        Field("car.warranty_ends_in_days", Kind.NUMBER, Scope.CAR),
        Field("visits.count", Kind.NUMBER),
        Field("visits.last_days_ago", Kind.NUMBER),
        Field("visits.total_amount", Kind.NUMBER),
        Field("purchases.count", Kind.NUMBER),
        Field("purchases.last_days_ago", Kind.NUMBER),
        Field("spend.total", Kind.NUMBER),
        Field("status", Kind.CHOICE, choices=STATUSES),
        Field("rfm.r", Kind.NUMBER),
        Field("rfm.f", Kind.NUMBER),
        Field("rfm.m", Kind.NUMBER),
        Field("messages.last_clicked_days_ago", Kind.NUMBER),
        Field("web.last_visit_days_ago", Kind.NUMBER),
        Field("web.viewed_model", Kind.TEXT, folded=True),
        Field("readiness.score", Kind.NUMBER),
        Field("loyalty.balance", Kind.NUMBER),
        Field("loyalty.tier", Kind.TEXT),
    ]
    return {f.name: f for f in fields}


FIELDS: dict[str, Field] = _catalogue()

# --- the tree -------------------------------------------------------------------------------

Scalar = str | int | float | bool
Value = Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class Leaf:
    field: Field
    op: Op
    value: Value


@dataclass(frozen=True)
class All:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


@dataclass(frozen=True)
class CarBlock:
    """Every leaf inside holds for one and the same current car."""

    condition: Condition


Condition = All | AnyOf | Not | Leaf | CarBlock


def leaves(condition: Condition) -> Iterator[Leaf]:
    match condition:
        case Leaf():
            yield condition
        case All(conditions=items) | AnyOf(conditions=items):
            for item in items:
                yield from leaves(item)
        case Not(condition=inner) | CarBlock(condition=inner):
            yield from leaves(inner)


def uses_field(condition: Condition, prefix: str) -> bool:
    return any(leaf.field.name.startswith(prefix) for leaf in leaves(condition))


# --- parsing --------------------------------------------------------------------------------

_GROUPS = ("all", "any", "not", "car")
_LEAF_KEYS = ("field", "op", "value")


class _Parser:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.leaf_count = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def node(self, obj: Any, path: str, depth: int, in_car: bool) -> Condition | None:
        if depth > MAX_DEPTH:
            self.fail(path, f"nested deeper than {MAX_DEPTH} levels")
            return None
        if not isinstance(obj, dict):
            self.fail(path, "must be an object: all, any, not, car, or a field/op/value leaf")
            return None
        groups = [key for key in _GROUPS if key in obj]
        if groups:
            if len(obj) != 1:
                self.fail(path, "a group has exactly one key: all, any, not or car")
                return None
            return self.group(groups[0], obj[groups[0]], _join(path, groups[0]), depth, in_car)
        return self.leaf(obj, path, in_car)

    def group(self, key: str, body: Any, path: str, depth: int, in_car: bool) -> Condition | None:
        if key in ("all", "any"):
            return self.items(key, body, path, depth, in_car)
        if key == "car" and in_car:
            self.fail(path, "a car block cannot hold another car block")
            return None
        inner = self.node(body, path, depth + 1, in_car or key == "car")
        if inner is None:
            return None
        return Not(inner) if key == "not" else CarBlock(inner)

    def items(self, key: str, body: Any, path: str, depth: int, in_car: bool) -> Condition | None:
        if not isinstance(body, list):
            self.fail(path, "must be a list of conditions")
            return None
        if key == "any" and not body:
            self.fail(path, "needs at least one condition")
            return None
        items = [self.node(item, f"{path}.{i}", depth + 1, in_car) for i, item in enumerate(body)]
        kept = tuple(item for item in items if item is not None)
        if len(kept) != len(items):
            return None
        return All(kept) if key == "all" else AnyOf(kept)

    def leaf(self, obj: dict[str, Any], path: str, in_car: bool) -> Leaf | None:
        unknown = sorted(str(key) for key in obj if key not in _LEAF_KEYS)
        for key in unknown:
            self.fail(_join(path, key), "unknown key: a leaf has field, op and value")
        missing = [key for key in _LEAF_KEYS if key not in obj]
        for key in missing:
            self.fail(_join(path, key), "required")
        if unknown or missing:
            return None
        self.leaf_count += 1
        if self.leaf_count == MAX_LEAVES + 1:
            self.fail(path, f"more than {MAX_LEAVES} conditions")
        field = self.field(obj["field"], _join(path, "field"), in_car)
        op = self.op(obj["op"], _join(path, "op"), field)
        if field is None or op is None:
            return None
        value = self.value(field, op, obj["value"], _join(path, "value"))
        return None if value is None else Leaf(field, op, value)

    def field(self, name: Any, path: str, in_car: bool) -> Field | None:
        field = FIELDS.get(name) if isinstance(name, str) else None
        if field is None:
            self.fail(path, f"unknown field: {_shown(name)}")
            return None
        if in_car and field.scope is not Scope.CAR:
            self.fail(path, f"{field.name} is not a car field: a car block holds only car.* fields")
            return None
        return field

    def op(self, name: Any, path: str, field: Field | None) -> Op | None:
        try:
            op = Op(name) if isinstance(name, str) else None
        except ValueError:
            op = None
        if op is None:
            self.fail(path, f"unknown op: {_shown(name)}")
            return None
        if field is not None and op not in field.ops:
            allowed = ", ".join(o.value for o in Op if o in field.ops)
            self.fail(path, f"{field.name} does not take {op.value}; it takes {allowed}")
            return None
        return op

    def value(self, field: Field, op: Op, value: Any, path: str) -> Value | None:
        if op is Op.EXISTS:
            if not isinstance(value, bool):
                self.fail(path, "exists takes true or false")
                return None
            return value
        if op in (Op.IN, Op.NOT_IN):
            return self.value_list(field, value, path)
        if op is Op.BETWEEN:
            return self.bounds(field, value, path)
        return self.scalar(field, value, path)

    def value_list(self, field: Field, value: Any, path: str) -> Value | None:
        if not isinstance(value, list) or not value:
            self.fail(path, "must be a non-empty list")
            return None
        if len(value) > MAX_LIST:
            self.fail(path, f"at most {MAX_LIST} values")
            return None
        items = [self.scalar(field, item, f"{path}.{i}") for i, item in enumerate(value)]
        kept = tuple(item for item in items if item is not None)
        return kept if len(kept) == len(items) else None

    def bounds(self, field: Field, value: Any, path: str) -> Value | None:
        if not isinstance(value, list) or len(value) != 2:
            self.fail(path, "between takes [lo, hi]")
            return None
        lo = self.scalar(field, value[0], f"{path}.0")
        hi = self.scalar(field, value[1], f"{path}.1")
        if lo is None or hi is None:
            return None
        if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
            self.fail(path, "lo is greater than hi")
            return None
        return (lo, hi)

    def scalar(self, field: Field, value: Any, path: str) -> Scalar | None:
        problem = _scalar_problem(field, value)
        if problem:
            self.fail(path, problem)
            return None
        return value  # type: ignore[no-any-return]


def _scalar_problem(field: Field, value: Any) -> str | None:
    match field.kind:
        case Kind.BOOLEAN:
            wrong = not isinstance(value, bool)
            problem = "must be true or false"
        case Kind.NUMBER:
            wrong = isinstance(value, bool) or not isinstance(value, int | float)
            wrong = wrong or not math.isfinite(value) or abs(value) > MAX_NUMBER
            problem = f"must be a number within ±{MAX_NUMBER:.0e}"
        case Kind.CHOICE:
            wrong = not isinstance(value, str) or value not in field.choices
            problem = f"must be one of: {', '.join(field.choices)}"
        case Kind.TEXT:
            wrong = not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT
            wrong = wrong or "\x00" in value
            problem = f"must be a string of 1–{MAX_TEXT} characters"
    return problem if wrong else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def parse_conditions(obj: Any, path: str = "conditions") -> Condition:
    """The condition tree of a JSON value, or `ValidationFailed` with every fault and its path.

    `path` is where the value sits in the request body (`conditions` in a segment's body).
    """
    parser = _Parser()
    condition = parser.node(obj, path, 0, in_car=False)
    if parser.errors or condition is None:
        raise ValidationFailed(errors=parser.errors or [FieldError(path, "invalid")])
    return condition


def to_json(condition: Condition) -> dict[str, Any]:
    """The JSON a condition parses from (stored with a segment, shown back to the caller)."""
    match condition:
        case Leaf(field=field, op=op, value=value):
            shown = list(value) if isinstance(value, tuple) else value
            return {"field": field.name, "op": op.value, "value": shown}
        case All(conditions=items):
            return {"all": [to_json(item) for item in items]}
        case AnyOf(conditions=items):
            return {"any": [to_json(item) for item in items]}
        case Not(condition=inner):
            return {"not": to_json(inner)}
        case CarBlock(condition=inner):
            return {"car": to_json(inner)}
