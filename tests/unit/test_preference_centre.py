"""The preference centre's pure parts: which boxes a customer sees, what a submitted form changes,
and the page templates' escaping."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.consent_capture import ConsentChange
from trigly.messaging.preferences import changes_from_form, channels_of, mask
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.model import ConsentState, CustomerProfile
from trigly.web.pages import render_page, text_version

AT = datetime(2026, 1, 10, 7, 0, tzinfo=UTC)
OK, STALE = ContactStatus.OK, ContactStatus.STALE


def profile(**fields: object) -> CustomerProfile:
    return CustomerProfile.model_validate(
        {"customer_id": "cus_1", "created_at": AT, "updated_at": AT, **fields}
    )


def state(granted: bool) -> ConsentState:
    return ConsentState(granted=granted, at=AT, source="анкета")


def test_channels_are_those_with_a_usable_contact_or_a_consent_to_withdraw() -> None:
    customer = profile(
        phones=[Contact(value="+79161234567", status=OK)],
        emails=[Contact(value="old@example.ru", status=STALE)],
        consents={Channel.TELEGRAM: {ConsentPurpose.MARKETING: state(True)}},
    )
    rows = channels_of(customer)
    # SMS by the phone; no email (its only address is stale); Telegram, to withdraw its consent
    assert [row.channel for row in rows] == [Channel.SMS, Channel.TELEGRAM]
    assert rows[0].address == "+7 ··· ···-45-67"
    assert [(c.purpose, c.granted) for c in rows[1].choices] == [
        (ConsentPurpose.SERVICE, False),
        (ConsentPurpose.MARKETING, True),
    ]


def test_a_form_changes_only_the_boxes_it_showed_and_that_differ() -> None:
    customer = profile(
        phones=[Contact(value="+79161234567", status=OK)],
        emails=[Contact(value="a@example.ru", status=OK)],
        consents={
            Channel.SMS: {
                ConsentPurpose.SERVICE: state(True),
                ConsentPurpose.MARKETING: state(True),
            }
        },
    )
    form = urlencode(
        {"shown": ["sms.service", "sms.marketing", "email.service"], "sms.service": "yes"},
        doseq=True,
    )
    # SMS offers unticked: an opt-out; email service left unticked, never given: no statement;
    # email offers not shown: untouched; an unknown field is ignored
    assert changes_from_form(customer, form + "&push.marketing=yes") == [
        ConsentChange(Channel.SMS, ConsentPurpose.MARKETING, granted=False)
    ]
    ticked = urlencode({"shown": "email.marketing", "email.marketing": "yes"})
    assert changes_from_form(customer, ticked) == [
        ConsentChange(Channel.EMAIL, ConsentPurpose.MARKETING, granted=True)
    ]
    assert changes_from_form(customer, "") == []


def test_contacts_are_masked() -> None:
    assert mask("+79161234567") == "+7 ··· ···-45-67"
    assert mask("olga@example.ru") == "o···@example.ru"


def test_pages_escape_what_they_show_and_name_their_wording() -> None:
    html = render_page(
        "unsubscribe.html",
        title="Отписаться",
        dealer="<script>alert(1)</script>",
        channel_name="SMS",
        preferences_url="https://t.example/l/a?b=1&c=2",
    )
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert 'href="https://t.example/l/a?b=1&amp;c=2"' in html
    assert '<html lang="ru">' in html and 'name="viewport"' in html
    assert text_version("preferences.html").startswith("preferences@")
    assert len(text_version("preferences.html")) == len("preferences@") + 12
