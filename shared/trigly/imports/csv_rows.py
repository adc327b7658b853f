"""Dealer CSV rows → contract events.

A row is one customer with one car and its last visit, the way DMSs export a customer base.
Headers are matched case-insensitively with common Russian aliases; cells are cleaned the way
people typed them over the years (several phones in a cell, `DD.MM.YYYY` dates, `1 899 900,00`
prices, `123 456 км`). Each row becomes up to three events:

- `customer.upserted` (always): the person, with only the fields the row fills;
- `vehicle.sold` when the row has a purchase date and a price, else `vehicle.registered` when it
  names a car;
- `service_order.closed` when it has a last visit.

Event ids are derived from the event's content (`import:cus:<hash>`), never from the line, so the
same row imported twice is a duplicate, and a customer repeated on several car rows is one event.
`occurred_at` comes from the row's own dates or the file's stated export time: nothing depends on
when the import runs. Required values that cannot be read are passed on as written, so the
contract's validation names them; optional ones (birth date, region) that cannot be read are left
out with a warning rather than costing the customer.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from trigly.vehicles.vin import decode_vin

# When a row has no date and the file states no export time, its events are dated here: old
# enough that anything the DMS sends live is newer and wins.
FLOOR = datetime(2000, 1, 1, tzinfo=UTC)

UNDATED = "no date in the row and no export time given: dated 2000-01-01 (state --exported-at)"

# Canonical column → accepted header names (compared after `header_key`).
ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "external_id",
        "customer_id",
        "client_id",
        "id",
        "код",
        "код клиента",
        "id клиента",
        "номер клиента",
        "клиент id",
    ),
    "full_name": ("full_name", "name", "фио", "клиент", "ф.и.о."),
    "last_name": ("last_name", "surname", "фамилия"),
    "first_name": ("first_name", "имя"),
    "middle_name": ("middle_name", "patronymic", "отчество"),
    "phone": (
        "phone",
        "mobile",
        "телефон",
        "тел.",
        "мобильный",
        "мобильный телефон",
        "моб. телефон",
    ),
    "phones": ("phones", "телефоны", "другие телефоны", "доп. телефон"),
    "email": ("email", "emails", "e-mail", "почта", "электронная почта", "эл. почта"),
    "birth_date": ("birth_date", "birthday", "дата рождения", "др"),
    "city": ("city", "город"),
    "region": ("region", "регион", "область"),
    "vin": ("vin", "vin-код", "vin код", "вин", "номер кузова", "frame", "frame_number"),
    "make": ("make", "brand", "марка"),
    "model": ("model", "модель"),
    "year": ("year", "model_year", "год", "год выпуска"),
    "plate": ("plate", "госномер", "гос. номер", "гос номер", "гос.номер", "рег. номер"),
    "purchase_date": ("purchase_date", "sale_date", "sold_at", "дата покупки", "дата продажи"),
    "sale_price": ("sale_price", "price", "цена", "цена продажи", "стоимость"),
    "condition": ("condition", "состояние", "новый/б/у"),
    "deal_id": ("deal_id", "номер сделки", "договор", "номер договора"),
    "last_service_date": (
        "last_service_date",
        "last_visit",
        "дата последнего визита",
        "последний визит",
        "дата последнего то",
        "дата визита",
    ),
    "last_service_km": (
        "last_service_km",
        "mileage",
        "mileage_km",
        "пробег",
        "пробег при последнем визите",
    ),
    "last_service_amount": (
        "last_service_amount",
        "сумма последнего визита",
        "сумма визита",
        "сумма заказ-наряда",
    ),
    "order_id": ("order_id", "last_order_id", "заказ-наряд", "номер заказ-наряда"),
}

# Where each event field comes from, so an error on `data.x` names the file's own column.
FIELD_COLUMNS: dict[str, str] = {
    "external_id": "external_id",
    "customer_external_id": "external_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "middle_name": "middle_name",
    "phones": "phone",
    "emails": "email",
    "birth_date": "birth_date",
    "city": "city",
    "region": "region",
    "vin": "vin",
    "make": "make",
    "model": "model",
    "year": "year",
    "plate": "plate",
    "purchased_on": "purchase_date",
    "sold_at": "purchase_date",
    "price": "sale_price",
    "condition": "condition",
    "deal_id": "deal_id",
    "order_id": "order_id",
    "closed_at": "last_service_date",
    "mileage_km": "last_service_km",
    "total_amount": "last_service_amount",
}

# Russian regions by the names people write (after `_region_key`), to ISO 3166-2.
REGIONS: dict[str, str] = {
    "москва": "RU-MOW",
    "санкт-петербург": "RU-SPE",
    "спб": "RU-SPE",
    "московская": "RU-MOS",
    "ленинградская": "RU-LEN",
    "свердловская": "RU-SVE",
    "татарстан": "RU-TA",
    "башкортостан": "RU-BA",
    "новосибирская": "RU-NVS",
    "краснодарский": "RU-KDA",
    "нижегородская": "RU-NIZ",
    "самарская": "RU-SAM",
    "ростовская": "RU-ROS",
    "челябинская": "RU-CHE",
    "пермский": "RU-PER",
    "воронежская": "RU-VOR",
    "красноярский": "RU-KYA",
    "приморский": "RU-PRI",
    "хабаровский": "RU-KHA",
    "иркутская": "RU-IRK",
    "омская": "RU-OMS",
    "тюменская": "RU-TYU",
    "волгоградская": "RU-VGG",
    "саратовская": "RU-SAR",
    "калининградская": "RU-KGD",
    "ярославская": "RU-YAR",
    "тульская": "RU-TUL",
    "кемеровская": "RU-KEM",
    "новгородская": "RU-NGR",
    "владимирская": "RU-VLA",
    "калужская": "RU-KLU",
    "тверская": "RU-TVE",
    "рязанская": "RU-RYA",
    "белгородская": "RU-BEL",
    "удмуртская": "RU-UD",
    "ставропольский": "RU-STA",
    "алтайский": "RU-ALT",
    "оренбургская": "RU-ORE",
    "томская": "RU-TOM",
    "астраханская": "RU-AST",
}

_SPACES = re.compile(r"\s+")
_REGION_WORDS = re.compile(r"\b(обл\.?|область|край|республика|респ\.?|г\.|город)(?=\s|$)")
_ISO_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_SPLIT_CONTACTS = re.compile(r"[;,/\n]+")
_SPLIT_EMAILS = re.compile(r"[;,\s]+")
_DMY = re.compile(
    r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})(?:[ T](\d{1,2}):(\d{2})(?::\d{2})?)?$"
)
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?$")
_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")
_NOT_NUMBER = re.compile(r"[^\d,.\-]")
_THOUSANDS = re.compile(r"^-?\d{1,3}([,.]\d{3})+$")
_NEW = {"new", "новый", "новая", "новое", "н", "нов"}
_USED = {"used", "б/у", "бу", "б.у.", "б/у.", "с пробегом", "подержанный", "trade-in"}


def header_key(name: str) -> str:
    """How headers compare: case, `ё`, underscores, spacing and a BOM do not matter."""
    text = name.replace("\ufeff", "").strip().lower().replace("ё", "е").replace("_", " ")
    return _SPACES.sub(" ", text)


_LOOKUP = {header_key(alias): column for column, names in ALIASES.items() for alias in names}


@dataclass(frozen=True)
class Columns:
    """The file's header read once: canonical column → (index, header as written)."""

    index: dict[str, int]
    names: dict[str, str]
    unknown: tuple[str, ...]

    @classmethod
    def read(cls, header: list[str]) -> "Columns":
        index: dict[str, int] = {}
        names: dict[str, str] = {}
        unknown = []
        for position, name in enumerate(header):
            column = _LOOKUP.get(header_key(name))
            if column is None or column in index:
                if name.strip():
                    unknown.append(name.strip())
                continue
            index[column] = position
            names[column] = name.replace("\ufeff", "").strip()
        return cls(index, names, tuple(unknown))

    def column_of(self, field_path: str) -> str | None:
        """The header as written for an event field path (`data.phones.1` → `Телефон`)."""
        if field_path in {"occurred_at", ""}:
            return None
        name = field_path.removeprefix("data.").split(".", 1)[0]
        column = FIELD_COLUMNS.get(name)
        if column == "phone" and "phone" not in self.names:
            column = "phones"
        return self.names.get(column) if column else None


@dataclass(frozen=True)
class Warning:
    column: str
    message: str


@dataclass
class MappedRow:
    events: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)


@dataclass(frozen=True)
class RowContext:
    columns: Columns
    timezone: ZoneInfo
    exported_at: datetime | None = None
    today: date | None = None  # business today, for "not in the future" checks of dates


# ------------------------------------------------------------------------------ cell cleaners


def clean(text: str | None) -> str:
    return _SPACES.sub(" ", (text or "").replace("\u00a0", " ")).strip()


def _two_digit_year(yy: int, today: date) -> int:
    return 2000 + yy if 2000 + yy <= today.year else 1900 + yy


def parse_day(text: str, today: date | None = None) -> date | None:
    """`DD.MM.YYYY`, `DD.MM.YY`, `DD/MM/YYYY`, `YYYY-MM-DD`, with an optional time (ignored)."""
    value = clean(text)
    found = parse_moment_parts(value, today or datetime.now(UTC).date())
    return found[0] if found else None


def parse_moment_parts(value: str, today: date) -> tuple[date, time | None] | None:
    day: tuple[int, int, int]
    hm: tuple[str | None, str | None]
    if m := _DMY.match(value):
        year = int(m[3]) if len(m[3]) == 4 else _two_digit_year(int(m[3]), today)
        day, hm = (year, int(m[2]), int(m[1])), (m[4], m[5])
    elif m := _YMD.match(value):
        day, hm = (int(m[1]), int(m[2]), int(m[3])), (m[4], m[5])
    else:
        return None
    try:
        parsed = date(*day)
        at = time(int(hm[0]), int(hm[1])) if hm[0] is not None and hm[1] is not None else None
    except ValueError:
        return None
    return parsed, at


def parse_moment(text: str, tz: ZoneInfo, today: date) -> datetime | None:
    """A date (at noon, local: a day stays that day in every time zone) or a local date-time."""
    found = parse_moment_parts(clean(text), today)
    if found is None:
        return None
    day, at = found
    return datetime.combine(day, at or time(12, 0), tzinfo=tz)


def parse_number(text: str) -> Decimal | None:
    """`1 899 900,00 ₽`, `1899900.00`, `123 456 км`, `123,456` → a number."""
    value = _NOT_NUMBER.sub("", clean(text).replace(" ", ""))
    if not value or value in {"-", ".", ","}:
        return None
    if _THOUSANDS.match(value) and not ("," in value and "." in value):
        value = value.replace(",", "").replace(".", "")
    elif "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        value = value.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    else:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def json_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def parse_year(text: str) -> int | None:
    value = clean(text)
    number = parse_number(value)
    if number is not None and number == number.to_integral_value() and 1900 <= number <= 2100:
        return int(number)
    m = _YEAR.search(value)
    return int(m[1]) if m else None


def parse_condition(text: str) -> str | None:
    value = clean(text).lower()
    if value in _NEW:
        return "new"
    if value in _USED:
        return "used"
    return None


def _region_key(text: str) -> str:
    return clean(_REGION_WORDS.sub(" ", clean(text).lower().replace("ё", "е")))


def parse_region(text: str) -> str | None:
    value = clean(text)
    if _ISO_REGION.match(value.upper()):
        return value.upper()
    key = _region_key(value)
    return REGIONS.get(key) or REGIONS.get(key.split(" ")[0] if key else "")


def split_phones(*cells: str) -> list[str]:
    seen: dict[str, None] = {}
    for cell in cells:
        for part in _SPLIT_CONTACTS.split(cell or ""):
            if value := clean(part):
                seen.setdefault(value, None)
    return list(seen)


def split_emails(cell: str) -> list[str]:
    seen: dict[str, None] = {}
    for part in _SPLIT_EMAILS.split(cell or ""):
        if value := clean(part):
            seen.setdefault(value, None)
    return list(seen)


# ---------------------------------------------------------------------------------- events


def event_id(kind: str, event_type: str, data: dict[str, Any]) -> str:
    """`import:<kind>:<hash>`: the same content always gets the same id."""
    canonical = json.dumps({"type": event_type, "data": data}, sort_keys=True, ensure_ascii=False)
    return f"import:{kind}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _event(
    kind: str, event_type: str, occurred_at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": event_id(kind, event_type, data),
        "type": event_type,
        "occurred_at": _iso(occurred_at),
        "data": data,
    }


class _Row:
    """One row's cells by canonical column, with the cleaning helpers that note warnings."""

    def __init__(self, cells: list[str], ctx: RowContext) -> None:
        self.ctx = ctx
        self.cells = cells
        self.warnings: list[Warning] = []
        self.today = ctx.today or datetime.now(UTC).date()

    def get(self, column: str) -> str:
        position = self.ctx.columns.index.get(column)
        if position is None or position >= len(self.cells):
            return ""
        return clean(self.cells[position])

    def warn(self, column: str, message: str) -> None:
        self.warnings.append(Warning(self.ctx.columns.names.get(column, column), message))

    def moment(self, column: str) -> datetime | str | None:
        """The moment a column states, the text as written when it cannot be read, or None."""
        text = self.get(column)
        if not text:
            return None
        return parse_moment(text, self.ctx.timezone, self.today) or text


def _names(row: _Row) -> dict[str, str]:
    names = {k: row.get(k) for k in ("last_name", "first_name", "middle_name") if row.get(k)}
    full = row.get("full_name")
    if full and not names:
        # ФИО as Russians write it: family name, given name, patronymic.
        last, _, rest = full.partition(" ")
        first, _, middle = rest.partition(" ")
        parts = {"last_name": last, "first_name": first, "middle_name": middle}
        names = {k: v for k, v in parts.items() if v}
    return names


def _customer_data(row: _Row) -> dict[str, Any]:
    data: dict[str, Any] = {"external_id": row.get("external_id")} if row.get("external_id") else {}
    data.update(_names(row))
    phones = split_phones(row.get("phone"), row.get("phones"))
    if phones:
        data["phones"] = phones
    emails = split_emails(row.get("email"))
    if emails:
        data["emails"] = emails
    if text := row.get("birth_date"):
        born = parse_day(text, row.today)
        if born is None:
            row.warn("birth_date", "not a date (DD.MM.YYYY or YYYY-MM-DD); left out")
        elif born.year < 1900 or born > row.today:
            row.warn("birth_date", "not a plausible birth date; left out")
        else:
            data["birth_date"] = born.isoformat()
    if city := row.get("city"):
        data["city"] = city
    if text := row.get("region"):
        region = parse_region(text)
        if region:
            data["region"] = region
        else:
            row.warn("region", "not an ISO 3166-2 code or a known region name; left out")
    return data


def _car_details(row: _Row) -> dict[str, Any]:
    """vin, make, model, year as the contract wants them; make and year fall back to the VIN."""
    vin = row.get("vin")
    data: dict[str, Any] = {"vin": vin} if vin else {}
    decoded = decode_vin(vin) if vin else None
    if make := row.get("make"):
        data["make"] = make
    elif decoded and decoded.make:
        data["make"] = decoded.make
    if model := row.get("model"):
        data["model"] = model
    text = row.get("year")
    year = parse_year(text) if text else None
    if year is not None:
        data["year"] = year
    elif text:
        data["year"] = text  # as written: the contract's validation names it
    elif decoded and decoded.year:
        data["year"] = decoded.year
    if plate := row.get("plate"):
        data["plate"] = plate
    return data


def _money(row: _Row, column: str) -> int | float | str | None:
    text = row.get(column)
    if not text:
        return None
    number = parse_number(text)
    return json_number(number) if number is not None else text


def _fallback_time(row: _Row, *moments: datetime | str | None) -> datetime:
    # A date in the future is a typo the event that states it is rejected for; it does not
    # date the rest of the row.
    dated = [m for m in moments if isinstance(m, datetime) and m.date() <= row.today]
    return row.ctx.exported_at or (max(dated) if dated else FLOOR)


def _car_event(
    row: _Row, external_id: str, purchased: datetime | str | None, serviced: datetime | str | None
) -> dict[str, Any] | None:
    car = _car_details(row)
    if not car:
        return None
    base = {"customer_external_id": external_id} if external_id else {}
    price = _money(row, "sale_price")
    if purchased is not None and price is not None:
        year = car.get("year")
        condition = parse_condition(row.get("condition"))
        if condition is None:
            if row.get("condition"):
                row.warn("condition", "not new/новый or used/б/у; taken from the model year")
            sold_year = purchased.year if isinstance(purchased, datetime) else None
            fresh = isinstance(year, int) and sold_year is not None and year >= sold_year - 1
            condition = "new" if fresh else "used"
        deal = row.get("deal_id") or _derived_id("deal", car.get("vin"), purchased)
        data = {
            **base,
            "deal_id": deal,
            **car,
            "sold_at": _iso(purchased) if isinstance(purchased, datetime) else purchased,
            "price": price,
            "condition": condition,
        }
        when = purchased if isinstance(purchased, datetime) else _fallback_time(row, serviced)
        return _event("sale", "vehicle.sold", when, data)
    data = {**base, **car}
    if isinstance(purchased, datetime):
        data["purchased_on"] = purchased.date().isoformat()
    elif purchased is not None:
        data["purchased_on"] = purchased
    # Owned since the purchase, else since the first time the dealer saw the car.
    first_seen = purchased if isinstance(purchased, datetime) else serviced
    when = first_seen if isinstance(first_seen, datetime) else _fallback_time(row)
    return _event("car", "vehicle.registered", when, data)


def _derived_id(prefix: str, vin: Any, moment: datetime | str | None) -> str:
    day = moment.strftime("%Y%m%d") if isinstance(moment, datetime) else clean(str(moment or ""))
    return f"{prefix}-{vin or 'novin'}-{day}"[:128]


def _service_event(
    row: _Row, external_id: str, serviced: datetime | str | None
) -> dict[str, Any] | None:
    km_text, order = row.get("last_service_km"), row.get("order_id")
    if serviced is None and not km_text and not order:
        return None
    data: dict[str, Any] = {"customer_external_id": external_id} if external_id else {}
    vin = row.get("vin")
    data["order_id"] = order or _derived_id("visit", vin, serviced)
    if vin:
        data["vin"] = vin
    if serviced is not None:
        data["closed_at"] = _iso(serviced) if isinstance(serviced, datetime) else serviced
    if km_text:
        km = parse_number(km_text)
        data["mileage_km"] = json_number(km) if km is not None else km_text
    data["jobs"] = []
    amount = _money(row, "last_service_amount")
    data["total_amount"] = 0 if amount is None else amount
    when = serviced if isinstance(serviced, datetime) else _fallback_time(row)
    return _event("svc", "service_order.closed", when, data)


def map_row(cells: list[str], ctx: RowContext) -> MappedRow:
    """The events one CSV row stands for (none for an empty row)."""
    row = _Row(cells, ctx)
    if not any(clean(c) for c in cells):
        return MappedRow()
    external_id = row.get("external_id")
    purchased, serviced = row.moment("purchase_date"), row.moment("last_service_date")
    customer = _customer_data(row)
    if ctx.exported_at is None and not any(isinstance(m, datetime) for m in (purchased, serviced)):
        row.warnings.append(Warning("", UNDATED))
    events = [
        _event("cus", "customer.upserted", _fallback_time(row, purchased, serviced), customer)
    ]
    for event in (
        _car_event(row, external_id, purchased, serviced),
        _service_event(row, external_id, serviced),
    ):
        if event is not None:
            events.append(event)
    return MappedRow(events, row.warnings)
