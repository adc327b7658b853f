"""An MJML email template through the API: saved (compiled once), previewed with a customer's
data, and sent in sandbox mode with its HTML and plain-text parts in the outbox."""

import zlib
from datetime import time, timedelta, timezone
from typing import Any

import pytest

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_feedback import EMAIL_CONSENT, work_email_queue
from tests.integration.test_ingest_and_api import api
from tests.integration.test_messages import customer, send
from tests.support import days_ahead
from trigly.channels.sandbox import outbox
from trigly.platform import clock
from trigly.store.models import MessageItem


@pytest.fixture
def daytime(business_clock: clock.AdjustableClock) -> clock.AdjustableClock:
    business_clock.move_to(days_ahead(1, time(12), timezone(timedelta(hours=3))))
    return business_clock


MJML = """<mjml>
  <mj-body>
    <mj-section><mj-column>
      <mj-text>{{ customer.name }}, ваш {{ car }} ждёт ТО — {{ price|money }}.</mj-text>
      <mj-raw>{% if booking is defined %}</mj-raw>
      <mj-button href="{{ booking }}">Записаться</mj-button>
      <mj-raw>{% endif %}</mj-raw>
    </mj-column></mj-section>
  </mj-body>
</mjml>"""


def test_an_mjml_template_is_compiled_previewed_and_sent_as_html_and_text(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, daytime: Any
) -> None:
    customer_id = customer(dealer, drain, "MJ-1", consents=EMAIL_CONSENT, emails=["mj@example.com"])
    # MJML that does not compile is a field error
    broken = {"email": {"subject": "ТО", "mjml": "<mjml><mj-body><mj-nope/></mj-body></mjml>"}}
    status, problem = api("PUT", "/v1/templates/to-mail", dealer.api_key, body=broken)
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["email.mjml"]
    # The template is saved: its MJML as written (the compiled HTML is Trigly's)
    template = {"email": {"subject": "{{ customer.name }}, пора на ТО", "mjml": MJML}}
    status, saved = api("PUT", "/v1/templates/to-mail", dealer.api_key, body=template)
    assert status == 200 and saved["email"] == template["email"]
    # The preview shows the HTML filled with the customer's data, escaped
    variables = {"car": "Kia <Rio>", "price": 14600}
    status, preview = api(
        "POST",
        "/v1/templates/to-mail/preview",
        dealer.api_key,
        body={"customer_id": customer_id, "variables": variables},
    )
    assert status == 200
    [shown] = preview["items"]
    assert shown["channel"] == "email" and shown["subject"] == "Нина, пора на ТО"
    assert "Нина, ваш Kia &lt;Rio&gt; ждёт ТО — 14\xa0600\xa0₽." in shown["html"]
    assert "Записаться" not in shown["html"]  # no booking link in a preview without one
    # Sent with a booking link: the outbox has the HTML part and the text derived from it
    booking = "https://dealer.example/book?car=rio&x=1"
    status, sent = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        template_id="to-mail",
        variables={**variables, "booking": booking},
        channel="email",
        idempotency_key="mjml:1",
    )
    assert (status, sent["status"]) == (202, "queued")
    work_email_queue(stack)
    [mail] = [m for m in outbox(dealer.tenant.tenant_id) if m["meta"]["message_id"] == sent["id"]]
    assert mail["channel"] == "email" and mail["to"] == "mj@example.com"
    html = mail["html"]
    assert html.lstrip().startswith("<!doctype html>") and "@media only screen" in html
    assert "Нина, ваш Kia &lt;Rio&gt; ждёт ТО" in html
    assert 'href="https://dealer.example/book?car=rio&amp;x=1"' in html
    assert mail["body"].startswith("Нина, ваш Kia <Rio> ждёт ТО — 14\xa0600\xa0₽.")
    assert f"Записаться ({booking})" in mail["body"]
    # A service message leads to the preference centre in both parts
    [preferences] = [
        link["url"] for link in mail["meta"]["links"] if link["purpose"] == "preferences"
    ]
    assert preferences in mail["body"]
    assert "Настроить рассылки" in html
    # The HTML part was stored once beside the message, which stays small for its status writes
    [item] = list(
        MessageItem.query(
            f"T#{dealer.tenant.tenant_id}#C#{customer_id}", MessageItem.sk.startswith("MSG#")
        )
    )
    assert "<!doctype" not in item.doc and len(zlib.compress(item.doc.encode())) < 1024


def test_links_in_the_html_part_are_tracked_like_the_text_s(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    daytime: Any,
    public_url: str,
) -> None:
    customer_id = customer(
        dealer, drain, "MJ-2", consents=EMAIL_CONSENT, emails=["mj2@example.com"]
    )
    template = {"email": {"subject": "Шины", "mjml": MJML}}
    assert api("PUT", "/v1/templates/tyres-mail", dealer.api_key, body=template)[0] == 200
    target = "https://dealer.example/tyres?utm=1&x=2"
    _, sent = send(
        dealer,
        customer_id=customer_id,
        purpose="marketing",
        template_id="tyres-mail",
        variables={"car": "Kia Rio", "price": 100, "booking": target},
        channel="email",
        idempotency_key="mjml:2",
    )
    work_email_queue(stack)
    [mail] = [m for m in outbox(dealer.tenant.tenant_id) if m["meta"]["message_id"] == sent["id"]]
    [tracked] = [link["url"] for link in mail["meta"]["links"] if link["purpose"] == "tracking"]
    # One tracking link for the target, in both parts; the target itself in neither
    assert tracked.startswith(f"{public_url}/l/c/")
    assert f'href="{tracked}"' in mail["html"] and tracked in mail["body"]
    assert "dealer.example/tyres" not in mail["html"] + mail["body"]
    # Marketing: the way out in both parts, Trigly's own links untracked
    [unsubscribe] = [
        link["url"] for link in mail["meta"]["links"] if link["purpose"] == "unsubscribe"
    ]
    assert unsubscribe in mail["body"] and f'href="{unsubscribe}"' in mail["html"]
