"""Every analytics query, in SQL that DuckDB and Athena (Trino) both run.

The queries read the analytics view's tables by name (`customers`, `cars`, `model_views`, …:
views over one tenant's live rows, see `schema.py`), so one text serves DuckDB over the Parquet
snapshot and Athena over the Glue tables. Values are written as SQL literals rendered here from
validated, typed values (strings quoted with `'` doubled), never pasted from input: a query is one
self-contained string both engines take.

Only functions both engines define with the same meaning are used: `date_diff('day', a, b)`,
`year/month/day`, `lower`, `round`, `floor`, `rank()`/`count(*) OVER ()`, `CASE`, `COALESCE`.
Avoided on purpose: `greatest`/`least` (DuckDB skips NULLs, Trino returns NULL),
`date_diff('year', …)` (DuckDB counts year boundaries, Trino whole years), integer `/`
(DuckDB divides as doubles, Trino truncates) and `date - date` (an integer in DuckDB, an
interval in Trino).

Time: a query gets `today`, the date in the tenant's time zone on business time, and every
"days ago", "in days" and age is computed from it, so a snapshot never goes stale as days pass.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from trigly.segments.conditions import (
    FIELDS,
    All,
    AnyOf,
    CarBlock,
    Condition,
    Leaf,
    Not,
    Op,
    Scalar,
    Scope,
    uses_field,
)

PREVIEW_SAMPLE = 20
# `web.viewed_model`: a model page viewed at most this many days ago.
VIEWED_MODEL_DAYS = 90

# --- literals -------------------------------------------------------------------------------


def text_literal(value: str) -> str:
    """A string as a standard SQL literal: `'` doubled, nothing else is special in either engine."""
    if "\x00" in value:
        raise ValueError("a NUL character cannot be written into the query")
    return "'" + value.replace("'", "''") + "'"


def date_literal(value: date) -> str:
    return f"DATE '{value.isoformat()}'"


def literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # repr is the shortest exact form; `1e+16` style is a double literal in both engines.
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return repr(value)
    return text_literal(value)


def _column(alias: str, name: str) -> str:
    return f'{alias}."{name}"'


# --- derived values -------------------------------------------------------------------------


def whole_years(since: str, today: date) -> str:
    """Whole years from the date `since` to `today` (the birthday counts on its day; a
    29 February birthday turns over on 1 March in common years)."""
    not_yet = (
        f"CASE WHEN month({since}) > {today.month} OR (month({since}) = {today.month} "
        f"AND day({since}) > {today.day}) THEN 1 ELSE 0 END"
    )
    return f"({today.year} - year({since}) - {not_yet})"


def days_from_today(until: str, today: date) -> str:
    """Days from today to a date (negative: it has passed)."""
    return f"date_diff('day', {date_literal(today)}, {until})"


def days_ago(since: str, today: date) -> str:
    return f"date_diff('day', {since}, {date_literal(today)})"


def months_before(today: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day where it is shorter)."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


def _later(a: str, b: str) -> str:
    return f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} > {b} THEN {a} ELSE {b} END"


def last_activity(alias: str) -> str:
    """The last visit or purchase, whichever is later (NULL: neither)."""
    return _later(_column(alias, "last_visit_on"), _column(alias, "last_purchase_on"))


def status_expression(alias: str, today: date) -> str:
    last = last_activity(alias)
    active_since = date_literal(months_before(today, 12))
    dormant_since = date_literal(months_before(today, 24))
    return (
        f"CASE WHEN {last} >= {active_since} THEN 'active' "
        f"WHEN {last} >= {dormant_since} THEN 'dormant' ELSE 'lost' END"
    )


def estimated_mileage(alias: str, today: date) -> str:
    """The mileage line today: the last reading plus its rate for each day since (not before)."""
    on = _column(alias, "mileage_on")
    days = (
        f"CASE WHEN {on} IS NULL OR {on} >= {date_literal(today)} THEN 0 "
        f"ELSE {days_ago(on, today)} END"
    )
    rate = f"COALESCE({_column(alias, 'km_per_day')}, 0)"
    return f"round({_column(alias, 'mileage_km')} + {rate} * {days})"


def quintile(order_by: str) -> str:
    """1 + ⌊5 × (customers with a strictly lower value) / (customers)⌋: ties share a score."""
    rank = f"rank() OVER (ORDER BY {order_by})"
    return f"(1 + CAST(floor(5 * CAST({rank} - 1 AS DOUBLE) / count(*) OVER ()) AS INTEGER))"


RFM_COLUMNS = {
    # Recency: no visit or purchase ranks below every date (so scores 1).
    "rfm_r": quintile(f"{last_activity('cu')} ASC NULLS FIRST"),
    # Frequency: visits and cars bought, all time.
    "rfm_f": quintile('COALESCE(cu."visits_count", 0) + COALESCE(cu."purchases_count", 0) ASC'),
    # Monetary: service, parts and cars, all time.
    "rfm_m": quintile('COALESCE(cu."spend_total", 0) ASC'),
}

Expression = Callable[[str, date], str]


def _plain(name: str) -> Expression:
    return lambda alias, _today: _column(alias, name)


def _zero_when_none(name: str) -> Expression:
    return lambda alias, _today: f"COALESCE({_column(alias, name)}, 0)"


def _since(name: str) -> Expression:
    return lambda alias, today: days_ago(_column(alias, name), today)


def _until(name: str) -> Expression:
    return lambda alias, today: days_from_today(_column(alias, name), today)


def _lowered(name: str) -> Expression:
    return lambda alias, _today: f"lower({_column(alias, name)})"


def _consent(field: str) -> Expression:
    column = "consent_" + field.removeprefix("consent.").replace(".", "_")
    return lambda alias, _today: f"COALESCE({_column(alias, column)}, FALSE)"


# What each field of the condition language is, over `customers` (alias `c`) or `cars` (`v`).
# `web.viewed_model` is a set of models, compiled apart (`_viewed_model`).
EXPRESSIONS: dict[str, Expression] = {
    "customer.region": _lowered("region"),
    "customer.city": _lowered("city"),
    "customer.location_id": _plain("location_id"),
    "customer.preferred_channel": _plain("preferred_channel"),
    "customer.age_years": lambda alias, today: whole_years(_column(alias, "birth_date"), today),
    **{name: _consent(name) for name in FIELDS if name.startswith("consent.")},
    "car.make": _lowered("make"),
    "car.model": _lowered("model"),
    "car.year": _plain("year"),
    "car.condition": _lowered("condition"),
    "car.age_years": lambda alias, today: whole_years(_column(alias, "first_registered_on"), today),
    "car.mileage_km": estimated_mileage,
    "car.maintenance_due_in_days": _until("maintenance_due_on"),
    "car.financing_ends_in_days": _until("financing_ends_on"),
    "car.insurance_ends_in_days": _until("insurance_ends_on"),
    "car.warranty_ends_in_days": _until("warranty_ends_on"),
    "visits.count": _zero_when_none("visits_count"),
    "visits.last_days_ago": _since("last_visit_on"),
    "visits.total_amount": _zero_when_none("visits_total_amount"),
    "purchases.count": _zero_when_none("purchases_count"),
    "purchases.last_days_ago": _since("last_purchase_on"),
    "spend.total": _zero_when_none("spend_total"),
    "status": status_expression,
    "rfm.r": _plain("rfm_r"),
    "rfm.f": _plain("rfm_f"),
    "rfm.m": _plain("rfm_m"),
    "messages.last_clicked_days_ago": _since("last_clicked_on"),
    "web.last_visit_days_ago": _since("web_last_visit_on"),
    "readiness.score": _plain("readiness_score"),
    "loyalty.balance": _plain("loyalty_balance"),
    "loyalty.tier": _plain("loyalty_tier"),
}

# --- conditions -----------------------------------------------------------------------------

_COMPARISONS = {Op.EQ: "=", Op.NE: "<>", Op.GT: ">", Op.GTE: ">=", Op.LT: "<", Op.LTE: "<="}


def _value(leaf: Leaf, value: Scalar) -> str:
    text = literal(value)
    return f"lower({text})" if leaf.field.folded else text


def predicate(expression: str, leaf: Leaf) -> str:
    """A leaf over an expression, never NULL: a value the customer does not have makes the leaf
    false (so `not` of it is true), except `exists: false`, which asks for exactly that."""
    if leaf.op is Op.EXISTS:
        return f"({expression} IS {'NOT ' if leaf.value else ''}NULL)"
    value = leaf.value
    if leaf.op in (Op.IN, Op.NOT_IN):
        assert isinstance(value, tuple)
        items = ", ".join(_value(leaf, item) for item in value)
        test = f"{expression} {'NOT IN' if leaf.op is Op.NOT_IN else 'IN'} ({items})"
    elif leaf.op is Op.BETWEEN:
        assert isinstance(value, tuple)
        lo, hi = value
        test = f"{expression} BETWEEN {_value(leaf, lo)} AND {_value(leaf, hi)}"
    else:
        assert not isinstance(value, tuple)
        test = f"{expression} {_COMPARISONS[leaf.op]} {_value(leaf, value)}"
    return f"COALESCE({test}, FALSE)"


def _current_car(inner: str) -> str:
    return (
        'EXISTS (SELECT 1 FROM cars v WHERE v."customer_id" = c."customer_id" '
        f'AND v."current" = TRUE AND {inner})'
    )


def _viewed_model(leaf: Leaf, today: date) -> str:
    """Some model page viewed in the last 90 days that the leaf holds for (`not` for none)."""
    recent = f'w."last_viewed_on" >= {date_literal(today - timedelta(days=VIEWED_MODEL_DAYS))}'
    where = f'w."customer_id" = c."customer_id" AND {recent}'
    if leaf.op is Op.EXISTS:
        found = f"EXISTS (SELECT 1 FROM model_views w WHERE {where})"
        return found if leaf.value else f"NOT {found}"
    if leaf.op in (Op.EQ, Op.IN):
        return f"EXISTS (SELECT 1 FROM model_views w WHERE {where} AND {_names_model(leaf)})"
    # ne / not_in: some viewed model that is none of the values.
    positive = Leaf(leaf.field, Op.EQ if leaf.op is Op.NE else Op.IN, leaf.value)
    return (
        f"EXISTS (SELECT 1 FROM model_views w WHERE {where} "
        f'AND w."model" IS NOT NULL AND NOT {_names_model(positive)})'
    )


_VIEWED_MAKE_MODEL = 'lower(w."make" || \' \' || w."model")'


def _names_model(leaf: Leaf) -> str:
    """A viewed model named by its model ("Sportage") or its make and model ("Kia Sportage")."""
    by_model = predicate('lower(w."model")', leaf)
    return f"({by_model} OR {predicate(_VIEWED_MAKE_MODEL, leaf)})"


def _leaf(leaf: Leaf, today: date, alias: str) -> str:
    name = leaf.field.name
    if name == "web.viewed_model":
        return _viewed_model(leaf, today)
    if leaf.field.scope is Scope.CAR and alias == "c":
        # A bare car leaf: some current car.
        return _current_car(predicate(EXPRESSIONS[name]("v", today), leaf))
    return predicate(EXPRESSIONS[name](alias, today), leaf)


def _compile(condition: Condition, today: date, alias: str) -> str:
    match condition:
        case Leaf():
            return _leaf(condition, today, alias)
        case All(conditions=items):
            joined = " AND ".join(_compile(item, today, alias) for item in items)
            return f"({joined or 'TRUE'})"
        case AnyOf(conditions=items):
            return "(" + " OR ".join(_compile(item, today, alias) for item in items) + ")"
        case Not(condition=inner):
            return f"(NOT {_compile(inner, today, alias)})"
        case CarBlock(condition=inner):
            return _current_car(_compile(inner, today, "v"))


def where_sql(condition: Condition, today: date) -> str:
    """The condition as a boolean over a live customer `c` (cars `v`, model views `w`)."""
    return _compile(condition, today, "c")


def _base(condition: Condition) -> str:
    """The tenant's live customers, with their RFM scores when the condition asks for them (the
    quintiles rank every live customer, so they are computed before any filter)."""
    extra = ""
    if uses_field(condition, "rfm."):
        extra = "".join(f", {sql} AS {name}" for name, sql in RFM_COLUMNS.items())
    return (
        f"WITH base AS (SELECT cu.*{extra} FROM customers cu "
        'WHERE COALESCE(cu."erased", FALSE) = FALSE)'
    )


def count_sql(condition: Condition, today: date) -> str:
    return (
        f"{_base(condition)} SELECT count(*) AS members FROM base c "
        f"WHERE {where_sql(condition, today)}"
    )


def preview_sql(condition: Condition, today: date, sample: int = PREVIEW_SAMPLE) -> str:
    """Members' count and the first `sample` ids (by id) in one pass: no rows when none match."""
    return (
        f'{_base(condition)} SELECT c."customer_id", count(*) OVER () AS members FROM base c '
        f'WHERE {where_sql(condition, today)} ORDER BY c."customer_id" LIMIT {int(sample)}'
    )


def members_page_sql(condition: Condition, today: date, after: str | None, limit: int) -> str:
    """Member ids in id order after `after` (a keyset page: stable while members change)."""
    where = where_sql(condition, today)
    if after is not None:
        where = f'c."customer_id" > {text_literal(after)} AND {where}'
    return (
        f'{_base(condition)} SELECT c."customer_id" FROM base c WHERE {where} '
        f'ORDER BY c."customer_id" LIMIT {int(limit)}'
    )


def members_among_sql(condition: Condition, today: date, customer_ids: Iterable[str]) -> str:
    """Which of these customers are members (re-evaluating the customers whose rows changed)."""
    ids = ", ".join(text_literal(i) for i in sorted(set(customer_ids)))
    if not ids:
        ids = "NULL"  # `IN (NULL)` matches nothing, as no ids should
    return (
        f'{_base(condition)} SELECT c."customer_id" FROM base c '
        f'WHERE c."customer_id" IN ({ids}) AND {where_sql(condition, today)}'
    )


# --- running them ---------------------------------------------------------------------------


class Connection(Protocol):
    """What the queries need of a DuckDB connection (`duckdb.DuckDBPyConnection` has it)."""

    def execute(self, query: str) -> Connection: ...

    def fetchall(self) -> list[tuple[object, ...]]: ...


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[str]


def count_members(conn: Connection, condition: Condition, today: date) -> int:
    row = conn.execute(count_sql(condition, today)).fetchall()[0]
    return int(str(row[0]))


def preview(conn: Connection, condition: Condition, today: date) -> Preview:
    rows = conn.execute(preview_sql(condition, today)).fetchall()
    return Preview(count=int(str(rows[0][1])) if rows else 0, sample=[str(r[0]) for r in rows])


def members_page(
    conn: Connection, condition: Condition, today: date, after: str | None, limit: int
) -> list[str]:
    rows = conn.execute(members_page_sql(condition, today, after, limit)).fetchall()
    return [str(r[0]) for r in rows]


def members_among(
    conn: Connection, condition: Condition, today: date, customer_ids: Sequence[str]
) -> set[str]:
    rows = conn.execute(members_among_sql(condition, today, customer_ids)).fetchall()
    return {str(r[0]) for r in rows}


def every_query(condition: Condition, today: date) -> list[str]:
    """Each query text this module makes for a condition (for the Trino parsing test)."""
    return [
        count_sql(condition, today),
        preview_sql(condition, today),
        members_page_sql(condition, today, None, 100),
        members_page_sql(condition, today, "cus_0'; DROP TABLE customers; --", 100),
        members_among_sql(condition, today, ["cus_1", "cus_'2"]),
    ]
