"""Russian formatting for templates (babel): `{{ price|money }}` → "12 500 ₽", `{{ due_on|date }}`
→ "25 ноября", `{{ slot|time }}` → "10:00" in the recipient's zone, `{{ days|plural('день',
'дня', 'дней') }}` → "5 дней", `{{ first_name|name }}` → "Анна-Мария". The recipient's zone,
locale and currency hold while a message renders (`formatted_for`).
"""

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, format_decimal


@dataclass(frozen=True)
class _RenderSettings:
    zone: ZoneInfo
    locale: str
    currency: str


_settings: contextvars.ContextVar[_RenderSettings] = contextvars.ContextVar("render_settings")


@contextmanager
def formatted_for(zone: ZoneInfo, locale: str, currency: str) -> Iterator[None]:
    """The filters format for this recipient while the block runs."""
    token = _settings.set(_RenderSettings(zone, locale, currency))
    try:
        yield
    finally:
        _settings.reset(token)


def _current() -> _RenderSettings:
    return _settings.get(_RenderSettings(ZoneInfo("Europe/Moscow"), "ru_RU", "RUB"))


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not an amount")
    try:
        amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite() or abs(amount) >= 10**15:
        raise ValueError(f"not an amount: {value!r}")
    return amount


def money(value: Any, currency: str | None = None) -> str:
    """12500 → "12 500 ₽"; 12500.5 → "12 500,50 ₽" (no-break spaces)."""
    settings = _current()
    amount = _amount(value)
    code = (currency or settings.currency).upper()
    if amount == amount.to_integral_value():
        return format_currency(
            amount, code, format="#,##0\xa0¤", locale=settings.locale, currency_digits=False
        )
    return format_currency(amount, code, locale=settings.locale)


def number(value: Any) -> str:
    return format_decimal(_amount(value), locale=_current().locale)


def _moment(value: Any) -> date | datetime:
    if isinstance(value, datetime | date):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a date: {value!r}")
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError(f"a time needs its offset: {value!r}")
        return moment.astimezone(_current().zone)  # the recipient's wall clock
    return moment


_NAMED = frozenset({"short", "medium", "long", "full"})


def format_day(value: Any, pattern: str = "d MMMM") -> str:
    """ "25 ноября"; `date('long')` → "25 ноября 2026 г.", `date('EEEE, d MMMM')`..."""
    moment = _moment(value)
    day = moment.date() if isinstance(moment, datetime) else moment
    return format_date(day, pattern, locale=_current().locale)


def format_clock(value: Any, pattern: str = "HH:mm") -> str:
    moment = _moment(value)
    if not isinstance(moment, datetime):
        raise ValueError("a date has no time of day")
    return format_time(moment, pattern, locale=_current().locale)


def format_moment(value: Any, pattern: str = "d MMMM 'в' HH:mm") -> str:
    moment = _moment(value)
    if not isinstance(moment, datetime):
        raise ValueError("a date has no time of day")
    return format_datetime(moment, pattern, locale=_current().locale)


def format_name(value: Any) -> str:
    """ "иВАН" → "Иван", "анна-мария" → "Анна-Мария", "  петров  " → "Петров"."""
    words = str(value).split()
    return " ".join(
        "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-")) for word in words
    )


def plural(value: Any, one: str, few: str, many: str) -> str:
    """Russian plural: `5|plural('день', 'дня', 'дней')` → "5 дней"; 21 → "21 день"."""
    amount = _amount(value)
    form = Locale.parse(_current().locale).plural_form(amount)
    word = {"one": one, "few": few}.get(form, many)
    return f"{format_decimal(amount, locale=_current().locale)} {word}"


def phone(value: Any) -> str:
    """ "+79123456789" → "+7 912 345-67-89"."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(str(value), None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {value!r}") from exc
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


DEALER_FILTERS: dict[str, Callable[..., str]] = {
    "money": money,
    "number": number,
    "date": format_day,
    "time": format_clock,
    "datetime": format_moment,
    "name": format_name,
    "plural": plural,
    "phone": phone,
}
# Jinja's own filters that only shorten, pick or reformat what they are given.
KEPT_JINJA_FILTERS = [
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "reverse",
    "round",
    "sort",
    "striptags",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
]
