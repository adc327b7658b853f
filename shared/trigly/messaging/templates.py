"""Marketer-written message templates: one template, a variant per channel (the model the API
saves), its parts, MJML compiled to HTML, and what rendering one gives (`Rendered`).

Rendering is elsewhere in the package: `sandbox` (the Jinja2 sandbox a template runs in, and
`check_template`), `formatting` (the Russian formatting filters), `rendering` (`render`,
`preview`, the variables a template sees), `email_text` (the plain-text part of an email) and
`sms` (SMS segments).
"""

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trigly.events.types import Channel
from trigly.messaging.sms import SmsSegments


class TemplateError(Exception):
    """The template cannot make this message; `part` names where (`sms`, `email.subject`...)."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part}: {message}")
        self.part = part
        self.message = message


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
        return any(
            re.search(pattern, source) for _, source, _ in template_parts(self, compiled=False)
        )

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


def template_parts(
    template: MessageTemplate, *, compiled: bool = True
) -> Iterator[tuple[str, str, bool]]:
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
