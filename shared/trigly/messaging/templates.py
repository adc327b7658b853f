"""Marketer-written templates: one template, a variant per channel, rendered in a sandbox.

Marketers write these, so a template is untrusted code:

- Jinja2's `ImmutableSandboxedEnvironment`, narrowed further: no globals (`range`, `cycler`,
  `joiner`, `namespace`, `lipsum`), a short list of filters, no attribute access except a
  mapping's keys, a date's fields and the loop's counters; `%` on strings, `str.format` and big
  `*`/`**` are refused; macros, includes, imports, blocks and `{% autoescape %}` are refused when
  the template is checked, so no recursion and no way to switch escaping off;
- `StrictUndefined`: a missing variable fails the render (`template_error`), so a customer never
  gets `{{ name }}` or an empty greeting; an explicit none renders as nothing;
- HTML (the email body) is autoescaped; text parts are not (they are not HTML);
- every failure — syntax, a missing variable, an unsafe access, an over-long result — is one
  `TemplateError` with the part it came from.

Russian formatting comes from babel: `{{ price|money }}` → "12 500 ₽", `{{ due_on|date }}` →
"25 ноября", `{{ slot|time }}` → "10:00" in the recipient's zone, `{{ days|plural('день',
'дня', 'дней') }}` → "5 дней", `{{ first_name|name }}` → "Анна-Мария".
"""

import contextvars
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from html.parser import HTMLParser
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, format_decimal
from jinja2 import StrictUndefined, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape
from pydantic import BaseModel, ConfigDict, Field, model_validator

from trigly.events.types import Channel
from trigly.messaging.intent import Offer
from trigly.profiles.model import CustomerProfile


class TemplateError(Exception):
    """The template cannot make this message; `part` names where (`sms`, `email.subject`...)."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part}: {message}")
        self.part = part
        self.message = message


# --- the template model -----------------------------------------------------------------------


MAX_COMPILED = 400_000
_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def _jinja_tags(source: str) -> Counter[str]:
    return Counter(" ".join(tag.split()) for tag in _JINJA_TAG.findall(source))


@lru_cache(maxsize=64)
def compile_mjml(source: str) -> str:
    """MJML → responsive HTML, or `TemplateError('email.mjml', ...)`.

    MJML keeps what is inside `<mj-text>`, `<mj-button>`, `<mj-raw>` and attribute values, and
    drops text between components, so a Jinja tag there (`{% if %}` around an `<mj-button>`)
    would vanish and change what the template means: every tag of the source must come out
    unchanged, or the template is refused (wrap such tags in `<mj-raw>`).
    """
    from mjml import mjml_to_html  # ~0.3 s of imports: only where a template is compiled

    try:
        result = mjml_to_html(source)
    except KeyError as exc:
        raise TemplateError("email.mjml", f"not valid MJML: unknown element {exc}") from exc
    except Exception as exc:  # the compiler's own failures on malformed input
        raise TemplateError("email.mjml", f"not valid MJML ({type(exc).__name__})") from exc
    if result.errors:
        raise TemplateError("email.mjml", f"not valid MJML: {result.errors[0]}")
    html = str(result.html)
    lost = _jinja_tags(source) - _jinja_tags(html)
    if lost:
        tag = next(iter(lost))
        raise TemplateError(
            "email.mjml",
            f"MJML drops or changes the template tag {tag[:80]!r} here; put tags that stand"
            " between components inside <mj-raw>",
        )
    if len(html) > MAX_COMPILED:
        raise TemplateError("email.mjml", f"the compiled HTML is over {MAX_COMPILED} characters")
    return html


class EmailVariant(BaseModel):
    """Subject and body; with only HTML (or MJML) the plain-text part is derived from it, with
    only text the HTML part is the text's paragraphs.

    `mjml` is the responsive-email markup (https://documentation.mjml.io) instead of `html`:
    saving the template compiles it once to HTML (`compiled_html`, set by Trigly); Jinja tags in
    its text and attributes survive compilation and are filled, autoescaped, when rendering.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=1000)
    html: str | None = Field(default=None, min_length=1, max_length=200_000)
    mjml: str | None = Field(
        default=None, min_length=1, max_length=200_000, description="MJML instead of `html`"
    )
    compiled_html: str | None = Field(
        default=None,
        max_length=MAX_COMPILED,
        description="The HTML compiled from `mjml` when the template was saved (read-only)",
    )
    text: str | None = Field(default=None, min_length=1, max_length=50_000)

    @model_validator(mode="after")
    def _a_body(self) -> Self:
        if self.html is not None and self.mjml is not None:
            raise ValueError("an email has `html` or `mjml`, not both")
        if self.compiled_html is not None and self.mjml is None:
            raise ValueError("`compiled_html` is compiled from `mjml`")
        if self.html is None and self.mjml is None and self.text is None:
            raise ValueError("an email needs `html`, `mjml` or `text`")
        return self

    def html_source(self) -> tuple[str, str] | None:
        """(part, HTML with Jinja tags) of the body: `html`, or `mjml` compiled (once, cached)."""
        if self.html is not None:
            return "email.html", self.html
        if self.mjml is not None:
            return "email.mjml", self.compiled_html or compile_mjml(self.mjml)
        return None

    def compiled(self) -> "EmailVariant":
        """This variant with its MJML compiled (what saving a template stores)."""
        if self.mjml is None:
            return self
        return self.model_copy(update={"compiled_html": compile_mjml(self.mjml)})


class Button(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000)


class TelegramVariant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=20_000)
    buttons: tuple[Button, ...] = Field(default=(), max_length=10)


class WhatsappVariant(BaseModel):
    """A template approved in the tenant's WhatsApp Business account (outside the 24-hour window
    only such a template may go) and how Trigly fills it: its named body parameters and the
    dynamic part of each URL button, all from variables. Without this variant the channel's
    default template gets the whole `text` as its one parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        pattern=r"^[a-z0-9_]{1,512}$", description="The approved template's name at Meta"
    )
    language: str = Field(default="ru", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    text: str = Field(
        min_length=1,
        max_length=1024,
        description="The approved body as the customer reads it (history, preview, outbox)",
    )
    parameters: dict[
        Annotated[str, Field(pattern=r"^[a-z0-9_]{1,100}$")],
        Annotated[str, Field(min_length=1, max_length=1024)],
    ] = Field(
        default_factory=dict,
        max_length=20,
        description="Named body parameter → its value (Jinja), e.g. "
        '{"first_name": "{{ customer.first_name }}"}',
    )
    buttons: tuple[Annotated[str, Field(min_length=1, max_length=2000)], ...] = Field(
        default=(),
        max_length=10,
        description="Each URL button's dynamic suffix (Jinja), in the template's button order",
    )


class PushVariant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=5000)


class MessageTemplate(BaseModel):
    """One message in every channel's shape. `text` is the body for SMS and messengers that
    have no variant of their own (MAX, WhatsApp, Viber; Telegram without buttons; push)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template_id: str = Field(min_length=1, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    sms: str | None = Field(default=None, min_length=1, max_length=5000)
    email: EmailVariant | None = None
    telegram: TelegramVariant | None = None
    whatsapp: WhatsappVariant | None = None
    push: PushVariant | None = None

    def channels(self) -> frozenset[Channel]:
        """The channels this template has something to say on."""
        found = {Channel.EMAIL} if self.email else set()
        if self.text is not None:
            found |= set(Channel) - {Channel.EMAIL}
        if self.sms is not None:
            found.add(Channel.SMS)
        if self.telegram is not None:
            found.add(Channel.TELEGRAM)
        if self.whatsapp is not None:
            found.add(Channel.WHATSAPP)
        if self.push is not None:
            found.add(Channel.PUSH)
        return frozenset(found)

    def uses_link(self, purpose: str) -> bool:
        """Whether any part names `links.<purpose>` (so a link costly to make is made only for
        templates that show it)."""
        pattern = rf"""links\s*(\.\s*{purpose}\b|\[\s*['"]{purpose}['"])"""
        return any(re.search(pattern, source) for _, source, _ in _parts(self, compiled=False))

    @classmethod
    def from_text(cls, text: str, subject: str) -> "MessageTemplate":
        """A one-off `text` (`POST /v1/messages`) as a template: the same text on every channel,
        for email under `subject`. The text may use variables like any template."""
        return cls(template_id="text", text=text, email=EmailVariant(subject=subject, text=text))


@dataclass(frozen=True)
class RenderedButton:
    text: str
    url: str


@dataclass(frozen=True)
class SmsSegments:
    """How an SMS text is split: GSM-7 (160 septets alone, 153 per part) or UCS-2 (70 UTF-16
    units alone, 67 per part — any Cyrillic letter or emoji makes the whole text UCS-2)."""

    encoding: Literal["gsm7", "ucs2"]
    length: int  # septets (extension characters count two) or UTF-16 code units
    segments: int
    per_segment: int
    remaining: int  # room left in the last segment


@dataclass(frozen=True)
class Rendered:
    channel: Channel
    text: str  # SMS/messenger body, email's plain-text part, push body
    subject: str | None = None  # email subject, push title
    html: str | None = None
    buttons: tuple[RenderedButton, ...] = ()
    sms: SmsSegments | None = None
    # WhatsApp: the approved template filled in, `{"name", "language", "parameters": {name:
    # value}, "buttons": [url suffix]}`; the provider sends it as the template's components.
    provider_template: dict[str, Any] | None = None

    def provider_parts(self) -> dict[str, Any]:
        """What the stored message keeps for its provider beyond the text (`StoredMessage`'s
        `buttons` and `provider_template`)."""
        return {
            "buttons": [{"text": b.text, "url": b.url} for b in self.buttons],
            "provider_template": self.provider_template,
        }


# --- variables --------------------------------------------------------------------------------


def customer_variables(profile: CustomerProfile) -> dict[str, Any]:
    """`customer.*` for templates: names as people write them, and `name` as a dealer addresses
    a customer (first name and patronymic when known: "Иван Петрович")."""
    first = format_name(profile.first_name) if profile.first_name else None
    middle = format_name(profile.middle_name) if profile.middle_name else None
    last = format_name(profile.last_name) if profile.last_name else None
    return {
        "first_name": first,
        "middle_name": middle,
        "last_name": last,
        "name": " ".join(p for p in (first, middle) if p) or None,
        "full_name": " ".join(p for p in (last, first, middle) if p) or None,
    }


def message_variables(
    variables: Mapping[str, Any],
    *,
    offer: Offer | None,
    include_offer: bool,
    **extra: Any,
) -> dict[str, Any]:
    """What a template sees: the intent's variables, `offer` (none when it may not ride along,
    so `{% if offer %}` works under strict rendering) and what the caller adds (`customer`,
    `links`, `car`...)."""
    shown = {"offer_id": offer.offer_id, **offer.variables} if offer and include_offer else None
    return {**variables, **extra, "offer": shown}


# --- formatting filters -----------------------------------------------------------------------


@dataclass(frozen=True)
class _RenderSettings:
    zone: ZoneInfo
    locale: str
    currency: str


_settings: contextvars.ContextVar[_RenderSettings] = contextvars.ContextVar("render_settings")


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


_OURS: dict[str, Callable[..., str]] = {
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
_KEPT = [
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


# --- the sandbox ------------------------------------------------------------------------------

MAX_OUTPUT = 200_000
_MAX_REPEAT = 10_000
_MAX_BITS = 1024  # numbers in messages are prices and dates, not cryptography
_DATE_FIELDS = frozenset({"year", "month", "day", "hour", "minute"})
_LOOP_FIELDS = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0"}
)
_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "macros",
    nodes.CallBlock: "call blocks",
    nodes.Include: "includes",
    nodes.Import: "imports",
    nodes.FromImport: "imports",
    nodes.Extends: "extends",
    nodes.Block: "blocks",
    nodes.EvalContextModifier: "autoescape switches",
    nodes.ScopedEvalContextModifier: "autoescape switches",
}


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, narrowed to plain data (see the module)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            finalize=lambda value: "" if value is None else value,
            auto_reload=False,
            cache_size=0,
        )
        self.globals.clear()
        self.filters = {name: JINJA_FILTERS[name] for name in _KEPT if name in JINJA_FILTERS}
        self.filters.update(_OURS)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            return self._key(obj, attribute)
        if isinstance(obj, date) and attribute in _DATE_FIELDS:
            return getattr(obj, attribute, self.undefined(obj=obj, name=attribute))
        if isinstance(obj, LoopContext) and attribute in _LOOP_FIELDS:
            return getattr(obj, attribute)
        if isinstance(obj, Undefined):
            return obj  # StrictUndefined raises when it is used
        return self.unsafe_undefined(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping):
            return self._key(obj, argument)
        if isinstance(obj, list | tuple | str) and isinstance(argument, int | slice):
            try:
                return obj[argument]
            except IndexError:
                return self.undefined(obj=obj, name=str(argument))
        if isinstance(obj, Undefined):
            return obj
        return self.unsafe_undefined(obj, str(argument))

    def _key(self, obj: Mapping[Any, Any], key: Any) -> Any:
        if isinstance(key, str) and key.startswith("_"):
            return self.unsafe_undefined(obj, key)
        try:
            return obj[key]
        except (KeyError, TypeError):
            return self.undefined(obj=obj, name=str(key))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not available; use filters")
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        if _is_int(left) and _is_int(right):
            bits = abs(left).bit_length()
            grown = bits * right if operator == "**" else bits + abs(right).bit_length()
            if operator in {"*", "**"} and grown > _MAX_BITS:
                raise SecurityError("the number would be too large")
        return super().call_binop(context, operator, left, right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_repeat(sequence: Any, times: Any) -> None:
    repeats = isinstance(sequence, str | list | tuple) and _is_int(times)
    if repeats and len(sequence) * times > _MAX_REPEAT:
        raise SecurityError("the repeated text would be too long")


_HTML = _Sandbox(autoescape=True)
_TEXT = _Sandbox(autoescape=False)


def _refused_construct(tree: nodes.Template) -> str | None:
    for node_type, what in _REFUSED_NODES.items():
        if tree.find(node_type) is not None:
            return what
    if any(name.name == "self" for name in tree.find_all(nodes.Name)):
        return "references to the template itself (`self`)"
    return None


@lru_cache(maxsize=512)
def _compile(source: str, html: bool) -> JinjaTemplate:
    env = _HTML if html else _TEXT
    tree = env.parse(source)
    refused = _refused_construct(tree)
    if refused is not None:
        raise SecurityError(f"{refused}: not available in message templates")
    return env.from_string(source)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"syntax error on line {exc.lineno}: {exc.message}"
    if isinstance(exc, SecurityError):
        return f"not allowed: {exc}"
    return str(exc) or type(exc).__name__


def _render_part(part: str, source: str, variables: Mapping[str, Any], *, html: bool) -> str:
    try:
        out = _compile(source, html).render(variables)
    except Exception as exc:  # untrusted template code: any failure is the template's
        raise TemplateError(part, _describe(exc)) from exc
    if len(out) > MAX_OUTPUT:
        raise TemplateError(part, f"the result is longer than {MAX_OUTPUT} characters")
    return out


def check_template(template: MessageTemplate) -> list[TemplateError]:
    """Every part that does not compile, or uses what templates may not (for the API on save)."""
    problems: list[TemplateError] = []
    try:
        parts = list(_parts(template))
    except TemplateError as exc:  # MJML that does not compile
        return [exc]
    for part, source, html in parts:
        try:
            _compile(source, html)
        except Exception as exc:
            problems.append(TemplateError(part, _describe(exc)))
    return problems


def _parts(template: MessageTemplate, *, compiled: bool = True) -> Iterator[tuple[str, str, bool]]:
    """(part, Jinja source, is HTML) of every part; MJML compiled, or as written."""
    if template.text is not None:
        yield "text", template.text, False
    if template.sms is not None:
        yield "sms", template.sms, False
    if template.email is not None:
        yield "email.subject", template.email.subject, False
        if not compiled and template.email.mjml is not None:
            yield "email.mjml", template.email.mjml, True
        elif (source := template.email.html_source()) is not None:
            yield source[0], source[1], True
        if template.email.text is not None:
            yield "email.text", template.email.text, False
    yield from _messenger_parts(template)
    if template.push is not None:
        yield "push.title", template.push.title, False
        yield "push.body", template.push.body, False


def _messenger_parts(template: MessageTemplate) -> Iterator[tuple[str, str, bool]]:
    if template.telegram is not None:
        yield "telegram.text", template.telegram.text, False
        for i, button in enumerate(template.telegram.buttons):
            yield f"telegram.buttons.{i}.text", button.text, False
            yield f"telegram.buttons.{i}.url", button.url, False
    if template.whatsapp is not None:
        yield "whatsapp.text", template.whatsapp.text, False
        for name, source in template.whatsapp.parameters.items():
            yield f"whatsapp.parameters.{name}", source, False
        for i, source in enumerate(template.whatsapp.buttons):
            yield f"whatsapp.buttons.{i}", source, False


# --- rendering --------------------------------------------------------------------------------

TELEGRAM_MAX = 4096
_SPACES = re.compile(r"[\u00a0\u2007\u202f\u2009]")  # no-break and thin spaces
_URL = re.compile(r"^(https?|tg)://\S+$")


def render(
    template: MessageTemplate,
    channel: Channel,
    variables: Mapping[str, Any],
    *,
    zone: ZoneInfo,
    locale: str = "ru_RU",
    currency: str = "RUB",
) -> Rendered:
    """The message for one channel, or `TemplateError` (the message fails: `template_error`).

    Times in variables are shown on the recipient's wall clock (`zone`).
    """
    if channel not in template.channels():
        raise TemplateError(channel.value, "the template has no variant for this channel")
    token = _settings.set(_RenderSettings(zone, locale, currency.upper()))
    try:
        return _render_channel(template, channel, variables)
    finally:
        _settings.reset(token)


def _render_channel(
    template: MessageTemplate, channel: Channel, variables: Mapping[str, Any]
) -> Rendered:
    if channel is Channel.EMAIL:
        assert template.email is not None
        return _render_email(template.email, variables)
    if channel is Channel.SMS:
        part, source = ("sms", template.sms) if template.sms else ("text", template.text)
        assert source is not None
        text = _SPACES.sub(" ", _render_part(part, source, variables, html=False)).strip()
        _not_empty(part, text)
        return Rendered(channel, text, sms=sms_segments(text))
    if channel is Channel.TELEGRAM and template.telegram is not None:
        return _render_telegram(template.telegram, variables)
    if channel is Channel.WHATSAPP and template.whatsapp is not None:
        return _render_whatsapp(template.whatsapp, variables)
    if channel is Channel.PUSH and template.push is not None:
        title = _one_line(_render_part("push.title", template.push.title, variables, html=False))
        body = _render_part("push.body", template.push.body, variables, html=False).strip()
        _not_empty("push.body", body)
        return Rendered(channel, body, subject=title or None)
    assert template.text is not None
    text = _render_part("text", template.text, variables, html=False).strip()
    _not_empty("text", text)
    if channel is Channel.TELEGRAM and len(text) > TELEGRAM_MAX:
        raise TemplateError("text", f"Telegram takes at most {TELEGRAM_MAX} characters")
    return Rendered(channel, text)


def _render_email(email: EmailVariant, variables: Mapping[str, Any]) -> Rendered:
    subject = _one_line(_render_part("email.subject", email.subject, variables, html=False))
    _not_empty("email.subject", subject)
    html = text = None
    source = email.html_source()
    if source is not None:
        html = _render_part(source[0], source[1], variables, html=True)
    if email.text is not None:
        text = _render_part("email.text", email.text, variables, html=False).strip()
    if text is None:
        assert html is not None
        text = html_to_text(html)
    if html is None:
        html = text_to_html(text)
    _not_empty("email.text", text)
    return Rendered(Channel.EMAIL, text, subject=subject, html=html)


def _render_telegram(variant: TelegramVariant, variables: Mapping[str, Any]) -> Rendered:
    text = _render_part("telegram.text", variant.text, variables, html=False).strip()
    _not_empty("telegram.text", text)
    if len(text) > TELEGRAM_MAX:
        raise TemplateError("telegram.text", f"Telegram takes at most {TELEGRAM_MAX} characters")
    buttons = []
    for i, button in enumerate(variant.buttons):
        label = _one_line(
            _render_part(f"telegram.buttons.{i}.text", button.text, variables, html=False)
        )
        url = _render_part(f"telegram.buttons.{i}.url", button.url, variables, html=False).strip()
        _not_empty(f"telegram.buttons.{i}.text", label)
        if not _URL.match(url):
            raise TemplateError(f"telegram.buttons.{i}.url", f"not a link: {url[:100]!r}")
        buttons.append(RenderedButton(label, url))
    return Rendered(Channel.TELEGRAM, text, buttons=tuple(buttons))


def _render_whatsapp(variant: WhatsappVariant, variables: Mapping[str, Any]) -> Rendered:
    text = _render_part("whatsapp.text", variant.text, variables, html=False).strip()
    _not_empty("whatsapp.text", text)
    parameters = {}
    for name, source in variant.parameters.items():
        # Meta refuses a parameter with a line break, a tab or more than four spaces in a row.
        value = _one_line(
            _render_part(f"whatsapp.parameters.{name}", source, variables, html=False)
        )
        _not_empty(f"whatsapp.parameters.{name}", value)
        parameters[name] = value
    buttons = []
    for i, source in enumerate(variant.buttons):
        suffix = _render_part(f"whatsapp.buttons.{i}", source, variables, html=False).strip()
        _not_empty(f"whatsapp.buttons.{i}", suffix)
        buttons.append(suffix)
    filled = {
        "name": variant.name,
        "language": variant.language,
        "parameters": parameters,
        "buttons": buttons,
    }
    return Rendered(Channel.WHATSAPP, text, provider_template=filled)


def _one_line(text: str) -> str:
    """Subjects, titles and button labels: one line, however the variables were written."""
    return " ".join(_SPACES.sub(" ", text).split())


def _not_empty(part: str, text: str) -> None:
    if not text:
        raise TemplateError(part, "renders to nothing")


# --- email plain text -------------------------------------------------------------------------


_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")


class _TextOfHtml(HTMLParser):
    _PARAGRAPHS = frozenset(
        {"p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote"}
    )
    _LINES = frozenset({"br", "tr"})
    _HIDDEN = frozenset({"style", "script", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0
        self._links: list[tuple[str | None, int]] = []  # href, where its label starts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._PARAGRAPHS:
            self.out.append("\n\n")
        elif tag in self._LINES:
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n• ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.out)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._PARAGRAPHS:
            self.out.append("\n\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.out[start:]).strip()
            if href and href != label and not href.startswith("mailto:"):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.out.append(_ASCII_SPACE.sub(" ", data))  # keeps no-break spaces


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs (blank lines part paragraphs, newlines break lines)."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    )


def html_to_text(html: str) -> str:
    """A readable plain-text part of an HTML email: paragraphs on lines, links as `text (url)`."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [_ASCII_SPACE.sub(" ", line).strip(" ") for line in "".join(parser.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- SMS segments -----------------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # sent as ESC + character: two septets each


def _split(units: list[int], single: int, part: int) -> tuple[int, int, int]:
    """(segments, per_segment, remaining) for characters of these sizes, never splitting one."""
    total = sum(units)
    if total == 0:
        return 0, single, single
    if total <= single:
        return 1, single, single - total
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments, part, part - used


def sms_segments(text: str) -> SmsSegments:
    """How many SMS parts a text costs (multipart headers take 7 septets / 3 UCS-2 units)."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        segments, per, remaining = _split(units, 160, 153)
        return SmsSegments("gsm7", sum(units), segments, per, remaining)
    units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]  # UTF-16 surrogate pairs
    segments, per, remaining = _split(units, 70, 67)
    return SmsSegments("ucs2", sum(units), segments, per, remaining)


# --- preview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    channel: Channel
    rendered: Rendered | None
    error: TemplateError | None


def preview(
    template: MessageTemplate,
    variables: Mapping[str, Any],
    *,
    zone: ZoneInfo,
    channels: frozenset[Channel] | None = None,
    locale: str = "ru_RU",
    currency: str = "RUB",
) -> list[Preview]:
    """Every channel's message with a customer's real data, or what stops it (SMS with its
    segment count), for the marketer's preview."""
    out = []
    for channel in Channel:
        if channel not in template.channels() or (channels is not None and channel not in channels):
            continue
        try:
            shown = render(
                template, channel, variables, zone=zone, locale=locale, currency=currency
            )
            out.append(Preview(channel, shown, None))
        except TemplateError as exc:
            out.append(Preview(channel, None, exc))
    return out
