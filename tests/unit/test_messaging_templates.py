"""Templates: per-channel variants, strict variables, the sandbox against injection, Russian
formatting, SMS segments, preview."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from trigly.events.types import Channel
from trigly.messaging.email_text import html_to_text
from trigly.messaging.intent import Offer
from trigly.messaging.rendering import customer_variables, message_variables, preview, render
from trigly.messaging.sandbox import check_template
from trigly.messaging.sms import sms_segments
from trigly.messaging.templates import (
    Button,
    EmailVariant,
    MessageTemplate,
    PushVariant,
    Rendered,
    TelegramVariant,
    TemplateError,
)
from trigly.profiles.model import CustomerProfile

MSK = ZoneInfo("Europe/Moscow")
VVO = ZoneInfo("Asia/Vladivostok")

REMINDER = MessageTemplate(
    template_id="tpl_to",
    text="{{ customer.name }}, пора на ТО {{ car.model }}: {{ due_on|date }}.",
    sms="{{ customer.name }}, пора на ТО: {{ due_on|date }}. Запись: {{ links.booking }}",
    email=EmailVariant(
        subject="{{ customer.name }}, пора на ТО {{ car.model }}",
        html=(
            "<h1>Здравствуйте, {{ customer.name }}!</h1>"
            "<p>ТО {{ car.model }} — {{ due_on|date }}, {{ price|money }}.</p>"
            "{% if offer %}<p>Скидка {{ offer.discount }}% на {{ offer.item }}</p>{% endif %}"
            '<p><a href="{{ links.booking }}">Записаться</a></p>'
        ),
    ),
    telegram=TelegramVariant(
        text="{{ customer.name }}, пора на ТО {{ car.model }} — {{ due_on|date }}.",
        buttons=(Button(text="Записаться", url="{{ links.booking }}"),),
    ),
    push=PushVariant(title="ТО {{ car.model }}", body="Запишитесь до {{ due_on|date }}"),
)

VARIABLES: dict[str, Any] = {
    "customer": {"name": "Анна"},
    "car": {"model": "Rio"},
    "due_on": "2026-11-25",
    "price": 12500,
    "links": {"booking": "https://trigly.example/l/tok_123"},
    "offer": None,
}


def render_sms(source: str, zone: ZoneInfo = MSK, **variables: Any) -> str:
    template = MessageTemplate(template_id="t", sms=source)
    return render(template, Channel.SMS, variables, zone=zone).text


# --- variants ---------------------------------------------------------------------------------


def test_one_template_renders_in_each_channels_shape() -> None:
    # Given a maintenance reminder with a variant per channel
    # When it is rendered for each channel
    sms = render(REMINDER, Channel.SMS, VARIABLES, zone=MSK)
    email = render(REMINDER, Channel.EMAIL, VARIABLES, zone=MSK)
    telegram = render(REMINDER, Channel.TELEGRAM, VARIABLES, zone=MSK)
    push = render(REMINDER, Channel.PUSH, VARIABLES, zone=MSK)
    whatsapp = render(REMINDER, Channel.WHATSAPP, VARIABLES, zone=MSK)
    # Then each has its own shape
    assert sms.text == "Анна, пора на ТО: 25 ноября. Запись: https://trigly.example/l/tok_123"
    assert sms.sms is not None and (sms.sms.encoding, sms.sms.segments) == ("ucs2", 1)
    assert email.subject == "Анна, пора на ТО Rio"
    assert email.html is not None and "12\xa0500\xa0₽" in email.html
    assert email.text.startswith("Здравствуйте, Анна!\n\nТО Rio — 25 ноября, 12\xa0500\xa0₽.")
    assert "Записаться (https://trigly.example/l/tok_123)" in email.text
    assert telegram.text == "Анна, пора на ТО Rio — 25 ноября."
    assert [(b.text, b.url) for b in telegram.buttons] == [
        ("Записаться", "https://trigly.example/l/tok_123")
    ]
    assert (push.subject, push.text) == ("ТО Rio", "Запишитесь до 25 ноября")
    assert whatsapp.text == "Анна, пора на ТО Rio: 25 ноября."


@pytest.mark.parametrize(
    ("template", "channels"),
    [
        (REMINDER, frozenset(Channel)),
        (MessageTemplate(template_id="t", sms="x"), frozenset({Channel.SMS})),
        (
            MessageTemplate(template_id="t", email=EmailVariant(subject="s", text="x")),
            frozenset({Channel.EMAIL}),
        ),
        (MessageTemplate(template_id="t", text="x"), frozenset(Channel) - {Channel.EMAIL}),
    ],
)
def test_a_template_speaks_on_the_channels_it_has_a_variant_for(
    template: MessageTemplate, channels: frozenset[Channel]
) -> None:
    assert template.channels() == channels


def test_a_channel_without_a_variant_is_a_template_error() -> None:
    template = MessageTemplate(template_id="t", sms="Привет")
    with pytest.raises(TemplateError, match="no variant for this channel"):
        render(template, Channel.EMAIL, {}, zone=MSK)


def test_a_one_off_text_goes_everywhere_and_as_escaped_email_paragraphs() -> None:
    # Given a one-off text from POST /v1/messages, with a variable and characters HTML cares for
    one_off = MessageTemplate.from_text(
        "{{ name }}, ваш автомобиль <готов>.\nЖдём вас.\n\nТел.: 8 800", subject="Автомобиль готов"
    )
    # When rendered for email and SMS
    email = render(one_off, Channel.EMAIL, {"name": "Анна & Борис"}, zone=MSK)
    sms = render(one_off, Channel.SMS, {"name": "Анна"}, zone=MSK)
    # Then the HTML part is the text's paragraphs, escaped; the text part is the text
    assert email.html == (
        "<p>Анна &amp; Борис, ваш автомобиль &lt;готов&gt;.<br>Ждём вас.</p><p>Тел.: 8 800</p>"
    )
    assert email.text == "Анна & Борис, ваш автомобиль <готов>.\nЖдём вас.\n\nТел.: 8 800"
    assert email.subject == "Автомобиль готов"
    assert sms.text.startswith("Анна, ваш автомобиль <готов>.")


def test_an_email_without_a_body_is_refused() -> None:
    with pytest.raises(ValueError, match="needs `html`, `mjml` or `text`"):
        EmailVariant(subject="s")


# --- strict variables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ("Здравствуйте, {{ name }}!", {}),
        ("Здравствуйте, {{ customer.first_name }}!", {"customer": {"name": "Анна"}}),
        ("{{ car['vin'] }}", {"car": {}}),
        ("{{ items[3] }}", {"items": [1]}),
        ("{{ missing.deeper.still }}", {}),
        ("{% if dealer.phone %}{{ dealer.phone }}{% endif %}", {}),
    ],
)
def test_a_missing_variable_fails_the_render_instead_of_sending_a_placeholder(
    source: str, variables: dict[str, Any]
) -> None:
    with pytest.raises(TemplateError, match=r"undefined|no attribute"):
        render_sms(source, **variables)


def test_optional_parts_are_tested_explicitly() -> None:
    source = "Здравствуйте{% if name is defined %}, {{ name }}{% endif %}!"
    assert render_sms(source) == "Здравствуйте!"
    assert render_sms(source, name="Анна") == "Здравствуйте, Анна!"
    assert render_sms("Здравствуйте, {{ name|default('друг') }}!") == "Здравствуйте, друг!"


def test_an_explicit_none_renders_as_nothing_and_an_empty_message_fails() -> None:
    assert render_sms("Привет{{ middle }}!", middle=None) == "Привет!"
    with pytest.raises(TemplateError, match="renders to nothing"):
        render_sms("{{ x }}", x="  ")


def test_html_is_escaped_text_parts_are_not() -> None:
    template = MessageTemplate(
        template_id="t",
        email=EmailVariant(subject="{{ name }}", html="<p>{{ name }}</p>", text="{{ name }}"),
    )
    email = render(template, Channel.EMAIL, {"name": "<b>Анна</b> & Co"}, zone=MSK)
    assert email.html == "<p>&lt;b&gt;Анна&lt;/b&gt; &amp; Co</p>"
    assert email.text == email.subject == "<b>Анна</b> & Co"


def test_a_subject_is_one_line_whatever_the_variables_hold() -> None:
    template = MessageTemplate(
        template_id="t", email=EmailVariant(subject="ТО {{ model }}", text="x")
    )
    email = render(template, Channel.EMAIL, {"model": "Rio\r\nBcc: all@example.com"}, zone=MSK)
    assert email.subject == "ТО Rio Bcc: all@example.com"


# --- injection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ range.__self__ }}",
        "{{ self }}",
        "{{ self.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ config.items() }}",
        "{{ request.application.__globals__ }}",
        "{{ customer.__class__ }}",
        "{{ customer['__class__'] }}",
        "{{ customer.items() }}",
        "{{ customer.get('name') }}",
        "{{ customer.name.upper() }}",
        "{{ customer.name.__class__.__base__ }}",
        "{{ due.__class__ }}",
        "{{ (customer|list).append(1) }}",
        # format-string tricks
        "{{ '{0.__class__}'.format(customer) }}",
        "{{ '{0.__init__.__globals__}'.format_map(customer) }}",
        "{{ '%s' % customer }}",
        "{{ '%(name)s' % customer }}",
        "{{ '%.999999999f' % 1 }}",
        "{{ customer|format('%s') }}",
        "{{ customer|attr('__class__') }}",
        "{{ customer|map(attribute='__class__')|first }}",
        "{{ customer|pprint }}",
        # resources
        "{{ 'a' * 100000000 }}",
        "{{ 9 ** 99999 }}",
        "{{ (2 ** 500) * (2 ** 600) }}",
        "{{ ' '|center(999999999) }}",
        "{% for i in range(999999999) %}{% endfor %}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        # other files and escaping switches
        "{% include '/etc/passwd' %}",
        "{% extends 'base.html' %}",
        "{% import 'macros' as m %}",
        "{% from 'macros' import x %}",
        "{% block b %}{% endblock %}",
        "{% autoescape false %}{{ customer.name }}{% endautoescape %}",
        # syntax errors are template errors too
        "{{ customer.name ",
        "{% if %}",
    ],
)
def test_template_injection_attempts_fail_safely(source: str) -> None:
    # Given a marketer's template that reaches for internals, When it is checked and rendered
    template = MessageTemplate(template_id="t", sms=source)
    variables = {"customer": {"name": "Анна"}, "due": date(2026, 11, 25)}
    # Then it is refused as a template error, and nothing renders
    with pytest.raises(TemplateError) as caught:
        render(template, Channel.SMS, variables, zone=MSK)
    assert caught.value.part == "sms"
    assert "Traceback" not in caught.value.message


def test_what_templates_may_do_still_works() -> None:
    source = (
        "{% set total = price * 2 %}{{ total|money }}; {{ due.year }}; "
        "{% for job in jobs %}{{ loop.index }}. {{ job.name|upper }}{% if not loop.last %}, "
        "{% endif %}{% endfor %}; {{ jobs|length }}; {{ name[:3] }}; {{ 3 * 'ab' }}; "
        "{{ 2 ** 10 }}; {{ jobs|sort(attribute='name')|first|dictsort|first|last }}"
    )
    rendered = render_sms(
        source,
        price=6250,
        due=date(2026, 11, 25),
        jobs=[{"name": "масло"}, {"name": "фильтр"}],
        name="Анна",
    )
    assert rendered == "12 500 ₽; 2026; 1. МАСЛО, 2. ФИЛЬТР; 2; Анн; ababab; 1024; масло"


# --- Russian formatting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "variables", "expected"),
    [
        ("{{ v|money }}", {"v": 12500}, "12\xa0500\xa0₽"),
        ("{{ v|money }}", {"v": "12500.00"}, "12\xa0500\xa0₽"),
        ("{{ v|money }}", {"v": 12500.5}, "12\xa0500,50\xa0₽"),
        ("{{ v|money }}", {"v": Decimal("1234567.89")}, "1\xa0234\xa0567,89\xa0₽"),
        ("{{ v|money('EUR') }}", {"v": 990}, "990\xa0€"),
        ("{{ v|number }}", {"v": 45000}, "45\xa0000"),
        ("{{ v|date }}", {"v": "2026-11-25"}, "25 ноября"),
        ("{{ v|date }}", {"v": date(2026, 3, 1)}, "1 марта"),
        ("{{ v|date('long') }}", {"v": "2026-11-25"}, "25 ноября 2026\u202fг."),
        ("{{ v|date('EEEE, d MMMM') }}", {"v": "2026-11-25"}, "среда, 25 ноября"),
        # times show on the recipient's clock (here Moscow)
        ("{{ v|time }}", {"v": "2026-11-25T07:00:00Z"}, "10:00"),
        ("{{ v|datetime }}", {"v": "2026-11-25T07:00:00Z"}, "25 ноября в 10:00"),
        ("{{ v|date }}", {"v": "2026-11-25T22:30:00Z"}, "26 ноября"),  # already tomorrow
        ("{{ v|name }}", {"v": "иВАН"}, "Иван"),
        ("{{ v|name }}", {"v": " анна-мария  петрова "}, "Анна-Мария Петрова"),
        ("{{ v|phone }}", {"v": "+79123456789"}, "+7 912 345-67-89"),
    ],
)
def test_russian_formatting_filters(source: str, variables: dict[str, Any], expected: str) -> None:
    template = MessageTemplate(template_id="t", text=source)
    assert render(template, Channel.TELEGRAM, variables, zone=MSK).text == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1 день"), (2, "2 дня"), (5, "5 дней"), (11, "11 дней"), (21, "21 день"),
     (22, "22 дня"), (25, "25 дней"), (111, "111 дней"), (1000, "1\xa0000 дней")],
)  # fmt: skip
def test_russian_plurals(n: int, expected: str) -> None:
    template = MessageTemplate(template_id="t", text="{{ n|plural('день', 'дня', 'дней') }}")
    assert render(template, Channel.TELEGRAM, {"n": n}, zone=MSK).text == expected


def test_a_booking_time_is_shown_on_the_vladivostok_customers_clock() -> None:
    # Given a slot booked at 10:00 Vladivostok time, stored in UTC
    slot = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    # Then the Vladivostok customer reads 10:00, not Moscow's 03:00
    assert render_sms("Ждём вас {{ slot|datetime }}", zone=VVO, slot=slot) == (
        "Ждём вас 25 ноября в 10:00"
    )


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("{{ v|money }}", "двенадцать"),
        ("{{ v|money }}", True),
        ("{{ v|money }}", "NaN"),
        ("{{ v|date }}", "завтра"),
        ("{{ v|time }}", "2026-11-25T10:00:00"),  # no offset: whose 10:00?
        ("{{ v|time }}", "2026-11-25"),  # a date has no time of day
        ("{{ v|phone }}", "позвоните"),
        ("{{ v|plural('a', 'b', 'c') }}", "много"),
    ],
)
def test_a_value_a_filter_cannot_format_is_a_template_error(source: str, value: Any) -> None:
    with pytest.raises(TemplateError):
        render_sms(source, v=value)


def test_sms_text_uses_plain_spaces() -> None:
    # babel's no-break spaces would be two more UCS-2 headaches on old phones
    assert render_sms("{{ v|money }}", v=12500) == "12 500 ₽"


def test_customer_variables_address_the_customer_as_a_dealer_does() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    profile = CustomerProfile(
        customer_id="c",
        created_at=at,
        updated_at=at,
        first_name="ИВАН",
        middle_name="петрович",
        last_name="сидоров",
    )
    assert customer_variables(profile) == {
        "first_name": "Иван",
        "middle_name": "Петрович",
        "last_name": "Сидоров",
        "name": "Иван Петрович",
        "full_name": "Сидоров Иван Петрович",
    }


@pytest.mark.parametrize(("include", "shows_offer"), [(True, True), (False, False)])
def test_the_offer_block_is_rendered_only_when_it_may_ride_along(
    include: bool, shows_offer: bool
) -> None:
    offer = Offer(offer_id="off_1", variables={"discount": 15, "item": "тормозные колодки"})
    variables = message_variables(
        {"due_on": "2026-11-25", "price": 12500},
        offer=offer,
        include_offer=include,
        customer={"name": "Анна"},
        car={"model": "Rio"},
        links={"booking": "https://trigly.example/l/tok"},
    )
    email = render(REMINDER, Channel.EMAIL, variables, zone=MSK)
    assert ("Скидка 15% на тормозные колодки" in email.text) is shows_offer
    assert "Записаться" in email.text  # the reminder goes either way


# --- Telegram and push ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "", "data:text/html,x", "//evil.example", "https://a b"]
)
def test_a_button_must_be_a_link(url: str) -> None:
    template = MessageTemplate(
        template_id="t",
        telegram=TelegramVariant(text="x", buttons=(Button(text="Go", url="{{ url }}"),)),
    )
    with pytest.raises(TemplateError, match=r"telegram\.buttons\.0\.(url|text)"):
        render(template, Channel.TELEGRAM, {"url": url}, zone=MSK)


def test_telegram_takes_at_most_4096_characters() -> None:
    template = MessageTemplate(template_id="t", text="{{ body }}")
    render(template, Channel.TELEGRAM, {"body": "я" * 4096}, zone=MSK)
    with pytest.raises(TemplateError, match="4096"):
        render(template, Channel.TELEGRAM, {"body": "я" * 4097}, zone=MSK)


# --- SMS segments -----------------------------------------------------------------------------

EURO = "€"  # GSM-7 extension: two septets
SMILE = "😀"  # outside the BMP: two UTF-16 units


@pytest.mark.parametrize(
    ("text", "encoding", "length", "segments", "remaining"),
    [
        ("", "gsm7", 0, 0, 160),
        ("a" * 160, "gsm7", 160, 1, 0),
        ("a" * 161, "gsm7", 161, 2, 145),
        ("a" * 306, "gsm7", 306, 2, 0),
        ("a" * 307, "gsm7", 307, 3, 152),
        ("Ça coûte 5 £ @ Åre", "ucs2", 18, 1, 52),  # û is not GSM-7
        ("Ca coute 5 £ @ Åre", "gsm7", 18, 1, 142),
        (EURO * 80, "gsm7", 160, 1, 0),
        (EURO * 81, "gsm7", 162, 2, 143),  # 76 € fill part one (152), 5 go to part two
        # an escape pair is never split: 152 + € does not fit 153, € opens part two
        ("a" * 152 + EURO + "a" * 152, "gsm7", 306, 3, 152),
        ("я" * 70, "ucs2", 70, 1, 0),
        ("я" * 71, "ucs2", 71, 2, 63),
        ("я" * 134, "ucs2", 134, 2, 0),
        ("я" * 135, "ucs2", 135, 3, 66),
        ("Hello, Анна", "ucs2", 11, 1, 59),  # one Cyrillic letter makes it all UCS-2
        ("12 500 ₽", "ucs2", 8, 1, 62),
        (SMILE * 35, "ucs2", 70, 1, 0),
        # a surrogate pair is never split either
        ("я" * 66 + SMILE + "я" * 66, "ucs2", 134, 3, 66),
    ],
)
def test_sms_segments(text: str, encoding: str, length: int, segments: int, remaining: int) -> None:
    counted = sms_segments(text)
    assert (counted.encoding, counted.length, counted.segments, counted.remaining) == (
        encoding,
        length,
        segments,
        remaining,
    )


# --- checking and preview ---------------------------------------------------------------------


def test_checking_a_template_reports_each_broken_part() -> None:
    broken = MessageTemplate(
        template_id="t",
        sms="{{ name",
        email=EmailVariant(subject="ok {{ name }}", html="{% include 'x' %}"),
        telegram=TelegramVariant(text="ok", buttons=(Button(text="{% if %}", url="https://x"),)),
    )
    problems = check_template(broken)
    assert [p.part for p in problems] == ["sms", "email.html", "telegram.buttons.0.text"]
    assert "syntax error on line 1" in problems[0].message
    assert check_template(REMINDER) == []
    # A WhatsApp variant's parameters and button suffixes are checked too
    whatsapp = MessageTemplate.model_validate(
        {
            "template_id": "w",
            "whatsapp": {
                "name": "car_ready",
                "text": "ok",
                "parameters": {"first_name": "{{ customer.first_name"},
                "buttons": ["{% endif %}"],
            },
        }
    )
    assert [p.part for p in check_template(whatsapp)] == [
        "whatsapp.parameters.first_name",
        "whatsapp.buttons.0",
    ]
    assert whatsapp.channels() == {Channel.WHATSAPP}


def test_preview_shows_every_channel_with_real_data_and_what_stops_one() -> None:
    # Given a customer's data without a booking link (the link is made when sending)
    variables = {**VARIABLES, "links": {}}
    # When the marketer previews the reminder
    shown = preview(REMINDER, variables, zone=MSK)
    by_channel = {p.channel: p for p in shown}
    # Then channels that need the link say so, the others show the message
    assert set(by_channel) == set(Channel)
    sms_error = by_channel[Channel.SMS].error
    assert sms_error is not None and "booking" in sms_error.message
    push = by_channel[Channel.PUSH].rendered
    assert isinstance(push, Rendered) and push.text == "Запишитесь до 25 ноября"
    # And an SMS preview carries its segment count
    sms = preview(REMINDER, VARIABLES, zone=MSK, channels=frozenset({Channel.SMS}))
    assert len(sms) == 1 and sms[0].rendered is not None and sms[0].rendered.sms is not None
    assert (sms[0].rendered.sms.segments, sms[0].rendered.sms.remaining) == (1, 1)


def test_plain_text_of_an_html_email() -> None:
    html = (
        "<html><head><title>t</title><style>p { color: red }</style></head><body>"
        "<h1>Здравствуйте!</h1><p>Строка<br>вторая &amp; третья</p>"
        "<ul><li>Масло</li><li>Фильтр</li></ul>"
        '<p><a href="https://x.example/l/1">Записаться</a> · '
        '<a href="https://x.example/u">https://x.example/u</a></p></body></html>'
    )
    assert html_to_text(html) == (
        "Здравствуйте!\n\nСтрока\nвторая & третья\n\n• Масло\n• Фильтр\n\n"
        "Записаться (https://x.example/l/1) · https://x.example/u"
    )
