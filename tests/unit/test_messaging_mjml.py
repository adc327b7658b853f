"""Email templates in MJML: compiled once to responsive HTML, Jinja tags kept through the
compiler and filled (autoescaped) when rendering; the built-in templates' shared layout."""

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from trigly.events.types import Channel
from trigly.messaging import defaults
from trigly.messaging.rendering import render
from trigly.messaging.sandbox import check_template
from trigly.messaging.templates import EmailVariant, MessageTemplate, TemplateError, compile_mjml

MSK = ZoneInfo("Europe/Moscow")

MJML = """<mjml><mj-body><mj-section><mj-column>
  <mj-text>Здравствуйте, {{ customer.name }}!{% if offer %}
    <b>{{ offer.text }}</b>{% endif %}</mj-text>
  <mj-raw>{% if links.booking is defined %}</mj-raw>
  <mj-button href="{{ links.booking }}">Записаться</mj-button>
  <mj-raw>{% endif %}</mj-raw>
</mj-column></mj-section></mj-body></mjml>"""


def email(mjml: str, **kw: Any) -> MessageTemplate:
    return MessageTemplate(template_id="t", email=EmailVariant(subject="ТО", mjml=mjml, **kw))


def test_mjml_compiles_to_responsive_html_with_its_jinja_tags_intact() -> None:
    html = compile_mjml(MJML)
    assert html.lstrip().startswith("<!doctype html>")
    assert "@media only screen" in html  # responsive columns
    for tag in (
        "{{ customer.name }}",
        "{% if offer %}",
        "{{ offer.text }}",
        '"{{ links.booking }}"',
        "{% if links.booking is defined %}",
    ):
        assert tag in html


def test_rendering_fills_the_compiled_html_autoescaped_and_derives_the_text() -> None:
    # Given an MJML email and a customer whose name is markup
    template = email(MJML)
    variables = {
        "customer": {"name": '<script>alert(1)</script>"'},
        "offer": {"text": "Скидка 10%"},
        "links": {"booking": "https://trigly.example/l/b?x=1&y=2"},
    }
    # When it is rendered
    out = render(template, Channel.EMAIL, variables, zone=MSK)
    # Then the HTML is MJML's with the values escaped, the link in its button
    assert out.html is not None
    assert "<script>alert" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in out.html
    assert 'href="https://trigly.example/l/b?x=1&amp;y=2"' in out.html
    assert "<b>Скидка 10%</b>" in out.html
    # And the plain-text part comes from the HTML (no text given)
    assert out.text.splitlines()[0] == 'Здравствуйте, <script>alert(1)</script>"! Скидка 10%'
    assert "Записаться (https://trigly.example/l/b?x=1&y=2)" in out.text
    # And without a booking link there is no button
    bare = render(template, Channel.EMAIL, {**variables, "links": {}}, zone=MSK)
    assert bare.html is not None and "Записаться" not in bare.html


@pytest.mark.parametrize(
    ("inside", "refused"),
    [
        ("{% include 'x' %}", "includes"),
        ("{% macro m() %}{% endmacro %}", "macros"),
        ("{% autoescape false %}{{ x }}{% endautoescape %}", "autoescape"),
    ],
)
def test_injection_inside_mjml_is_refused_like_in_html(inside: str, refused: str) -> None:
    template = email(f"<mjml><mj-body><mj-text>{inside}</mj-text></mj-body></mjml>")
    problems = check_template(template)
    assert [p.part for p in problems] == ["email.mjml"]
    assert refused in problems[0].message
    # the render refuses it too
    with pytest.raises(TemplateError) as exc:
        render(template, Channel.EMAIL, {"x": "A"}, zone=MSK)
    assert exc.value.part == "email.mjml"


@pytest.mark.parametrize(
    "inside",
    ["{{ x.__class__.__mro__ }}", "{{ x.upper() }}", "{{ '%s' % x }}", "{{ x * 100000 }}"],
)
def test_attribute_access_to_internals_in_mjml_fails_the_render(inside: str) -> None:
    template = email(f"<mjml><mj-body><mj-text>{inside}</mj-text></mj-body></mjml>")
    with pytest.raises(TemplateError) as exc:
        render(template, Channel.EMAIL, {"x": "a"}, zone=MSK)
    assert exc.value.part == "email.mjml"


@pytest.mark.parametrize(
    ("mjml", "says"),
    [
        ("<mjml><mj-body><mj-bogus>x</mj-bogus></mj-body></mjml>", "unknown element"),
        ("just text, no MJML", "not valid MJML"),
        (
            "<mjml><mj-body><mj-section><mj-column>{% if x %}<mj-text>a</mj-text>{% endif %}"
            "</mj-column></mj-section></mj-body></mjml>",
            "<mj-raw>",
        ),
    ],
)
def test_mjml_that_does_not_compile_is_a_field_error(mjml: str, says: str) -> None:
    problems = check_template(email(mjml))
    assert [p.part for p in problems] == ["email.mjml"]
    assert says in problems[0].message


def test_html_and_mjml_are_exclusive_and_compiled_html_is_trigly_s() -> None:
    with pytest.raises(ValidationError, match="`html` or `mjml`, not both"):
        EmailVariant(subject="s", html="<p>x</p>", mjml=MJML)
    with pytest.raises(ValidationError, match="compiled from `mjml`"):
        EmailVariant(subject="s", html="<p>x</p>", compiled_html="<p>y</p>")
    compiled = EmailVariant(subject="s", mjml=MJML).compiled()
    assert compiled.compiled_html == compile_mjml(MJML)


VARIABLES: dict[str, Any] = {
    "customer": {"name": "Анна"},
    "car": {"make": "Kia", "model": "Rio", "plate": None},
    "maintenance": {"service": "ТО-2", "due_km": 30000, "price": 12500},
    "offer": None,
    "dealer": {"name": "Автоцентр «Север» & Co"},
}


def test_built_in_templates_share_one_layout_compiled_once() -> None:
    # Given the built-in maintenance reminder with a booking link and an unsubscribe link
    links = {"booking": "https://t.example/l/b", "unsubscribe": "https://t.example/l/u"}
    template = defaults.template("maintenance_reminder")
    assert template is not None and template.email is not None
    # When it is rendered for email
    out = render(template, Channel.EMAIL, {**VARIABLES, "links": links}, zone=MSK)
    # Then the HTML has the dealer's header, the message, the button and the footer
    assert out.html is not None
    assert "Автоцентр «Север» &amp; Co" in out.html
    assert "Вашему Kia Rio пора на ТО-2" in out.html
    assert 'href="https://t.example/l/b"' in out.html and "Записаться онлайн" in out.html
    assert 'href="https://t.example/l/u"' in out.html and "Отписаться" in out.html
    assert "Настроить рассылки" not in out.html  # no preferences link in this message
    # And the plain-text part is the text as before
    assert out.text.endswith("Выберите удобное время: https://t.example/l/b")
    # And every built-in template is the same compiled layout (one compile)
    assert defaults.compiled_layout.cache_info().misses == 1
    same = defaults.template("nps_request")
    assert same is not None and same.email is not None and same.email.compiled_html
    head = defaults.compiled_layout().split("{{ message }}")[0]
    assert same.email.compiled_html.startswith(head)


def test_every_built_in_template_checks_and_renders_its_email() -> None:
    for template_id in defaults.DEFAULT_TEMPLATES:
        template = defaults.template(template_id)
        assert template is not None and template.email is not None, template_id
        assert check_template(template) == [], template_id
        assert template.email.mjml is not None
