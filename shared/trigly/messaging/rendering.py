"""Rendering a template for one channel (`render`), every channel for the marketer's preview
(`preview`), and the variables a template sees (`customer_variables`, `message_variables`)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from trigly.events.types import Channel
from trigly.messaging.email_text import html_to_text, text_to_html
from trigly.messaging.formatting import format_name, formatted_for
from trigly.messaging.intent import Offer
from trigly.messaging.sandbox import render_part
from trigly.messaging.sms import sms_segments
from trigly.messaging.templates import (
    EmailVariant,
    MessageTemplate,
    Rendered,
    RenderedButton,
    TelegramVariant,
    TemplateError,
    WhatsappVariant,
)
from trigly.profiles.model import CustomerProfile


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
    with formatted_for(zone, locale, currency.upper()):
        return _render_channel(template, channel, variables)


def _render_channel(
    template: MessageTemplate, channel: Channel, variables: Mapping[str, Any]
) -> Rendered:
    if channel is Channel.EMAIL:
        assert template.email is not None
        return _render_email(template.email, variables)
    if channel is Channel.SMS:
        part, source = ("sms", template.sms) if template.sms else ("text", template.text)
        assert source is not None
        text = _SPACES.sub(" ", render_part(part, source, variables, html=False)).strip()
        _not_empty(part, text)
        return Rendered(channel, text, sms=sms_segments(text))
    if channel is Channel.TELEGRAM and template.telegram is not None:
        return _render_telegram(template.telegram, variables)
    if channel is Channel.WHATSAPP and template.whatsapp is not None:
        return _render_whatsapp(template.whatsapp, variables)
    if channel is Channel.PUSH and template.push is not None:
        title = _one_line(render_part("push.title", template.push.title, variables, html=False))
        body = render_part("push.body", template.push.body, variables, html=False).strip()
        _not_empty("push.body", body)
        return Rendered(channel, body, subject=title or None)
    assert template.text is not None
    text = render_part("text", template.text, variables, html=False).strip()
    _not_empty("text", text)
    if channel is Channel.TELEGRAM and len(text) > TELEGRAM_MAX:
        raise TemplateError("text", f"Telegram takes at most {TELEGRAM_MAX} characters")
    return Rendered(channel, text)


def _render_email(email: EmailVariant, variables: Mapping[str, Any]) -> Rendered:
    subject = _one_line(render_part("email.subject", email.subject, variables, html=False))
    _not_empty("email.subject", subject)
    html = text = None
    source = email.html_source()
    if source is not None:
        html = render_part(source[0], source[1], variables, html=True)
    if email.text is not None:
        text = render_part("email.text", email.text, variables, html=False).strip()
    if text is None:
        assert html is not None
        text = html_to_text(html)
    if html is None:
        html = text_to_html(text)
    _not_empty("email.text", text)
    return Rendered(Channel.EMAIL, text, subject=subject, html=html)


def _render_telegram(variant: TelegramVariant, variables: Mapping[str, Any]) -> Rendered:
    text = render_part("telegram.text", variant.text, variables, html=False).strip()
    _not_empty("telegram.text", text)
    if len(text) > TELEGRAM_MAX:
        raise TemplateError("telegram.text", f"Telegram takes at most {TELEGRAM_MAX} characters")
    buttons = []
    for i, button in enumerate(variant.buttons):
        label = _one_line(
            render_part(f"telegram.buttons.{i}.text", button.text, variables, html=False)
        )
        url = render_part(f"telegram.buttons.{i}.url", button.url, variables, html=False).strip()
        _not_empty(f"telegram.buttons.{i}.text", label)
        if not _URL.match(url):
            raise TemplateError(f"telegram.buttons.{i}.url", f"not a link: {url[:100]!r}")
        buttons.append(RenderedButton(label, url))
    return Rendered(Channel.TELEGRAM, text, buttons=tuple(buttons))


def _render_whatsapp(variant: WhatsappVariant, variables: Mapping[str, Any]) -> Rendered:
    text = render_part("whatsapp.text", variant.text, variables, html=False).strip()
    _not_empty("whatsapp.text", text)
    parameters = {}
    for name, source in variant.parameters.items():
        # Meta refuses a parameter with a line break, a tab or more than four spaces in a row.
        value = _one_line(render_part(f"whatsapp.parameters.{name}", source, variables, html=False))
        _not_empty(f"whatsapp.parameters.{name}", value)
        parameters[name] = value
    buttons = []
    for i, source in enumerate(variant.buttons):
        suffix = render_part(f"whatsapp.buttons.{i}", source, variables, html=False).strip()
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
