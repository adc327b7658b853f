"""The local stack itself (CONTRACT §5): its clock, its gateway, its outbox, its demo tenant."""

import itertools
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

HOURLY = "trigly-dev-hourly-tick"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_local_json_names_two_tenants(local_stack: LocalStack) -> None:
    # Given the stack has started, local.json gives the API without /v1 and two tenants
    assert not local_stack.api_url.endswith("/v1")
    assert local_stack.tenant_id != local_stack.other_tenant.tenant_id
    assert local_stack.webhook_secret.startswith("whsec_")
    assert local_stack.other_tenant.webhook_secret.startswith("whsec_")


def test_clock_advance_fires_hourly_ticks_in_order(local_stack: LocalStack) -> None:
    # Given the business time now
    before = local_stack.now()
    # When the clock moves three hours
    moved = local_stack.advance("PT3H")
    # Then the contract's shape comes back
    assert set(moved) == {"now", "fired", "processed"}
    assert isinstance(moved["processed"], int)
    now = at(moved["now"])
    assert now >= before + timedelta(hours=3)
    # And the hourly schedule fired every hour on the way, in order, never ahead of the clock
    fired = moved["fired"]
    assert len(fired) >= 3
    assert {f["schedule"] for f in fired} == {HOURLY}
    moments = [at(f["at"]) for f in fired]
    assert moments == sorted(moments)
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(moments))
    assert before < moments[0] and moments[-1] <= now < moments[-1] + timedelta(hours=1)
    assert all(f["at"].endswith("Z") for f in fired)


def test_clock_advance_by_nothing_fires_nothing_and_drains(local_stack: LocalStack) -> None:
    moved = local_stack.advance("PT0S")

    assert moved["fired"] == []
    assert moved["processed"] >= 0


def test_clock_moves_to_a_time_with_an_offset(local_stack: LocalStack) -> None:
    # Given a target two days ahead, written in Moscow time
    target = (local_stack.now() + timedelta(days=2)).astimezone(timezone(timedelta(hours=3)))
    # When the clock is moved to it
    response = local_stack.move_to(target.isoformat())
    # Then business time is there, and 48 hourly ticks fired on the way
    assert response.status_code == 200
    assert at(response.json()["now"]) >= target
    assert len(response.json()["fired"]) in {48, 49}
    assert at(local_stack.client.get("/_local/clock").json()["now"]) >= target


def test_clock_never_goes_back(local_stack: LocalStack) -> None:
    # When the clock is asked to go to a time before now
    response = local_stack.move_to(local_stack.now() - timedelta(days=1))
    # Then it refuses with a problem
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 409


@pytest.mark.parametrize(
    "body",
    [{"advance": "14 days"}, {"to": "2030-01-01T09:00:00"}, {"advance": "P1D", "to": "x"}, {}],
)
def test_clock_refuses_malformed_moves(local_stack: LocalStack, body: dict[str, str]) -> None:
    response = local_stack.client.post("/_local/clock", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_thirty_days_replay_fires_every_tick(local_stack: LocalStack) -> None:
    # When a month of business time passes (how fast: benchmarks/local_replay.py)
    moved = local_stack.advance("P30D")
    # Then every hourly tick of it fired, in order
    assert len(moved["fired"]) in {720, 721}
    fired_at = [m["at"] for m in moved["fired"]]
    assert fired_at == sorted(fired_at)


def test_unknown_route_is_api_gateways_404(local_stack: LocalStack) -> None:
    response = local_stack.client.get("/nothing/here")

    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_unknown_local_endpoint_is_404(local_stack: LocalStack) -> None:
    assert local_stack.client.get("/_local/nothing").status_code == 404


def test_outbox_answers_the_contracts_shape(local_stack: LocalStack) -> None:
    # When the outbox is read, with and without filters
    everything = local_stack.client.get("/_local/outbox")
    filtered = local_stack.client.get(
        "/_local/outbox", params={"to": "+79123456789", "channel": "sms", "customer_id": "x"}
    )
    # Then each is a list of messages under "messages"
    for response in (everything, filtered):
        assert response.status_code == 200
        assert isinstance(response.json()["messages"], list)
    for message in everything.json()["messages"]:
        assert {"id", "channel", "to", "body", "customer_id", "sent_at", "meta"} <= set(message)


def test_outbox_lists_mail_that_moto_ses_accepted(local_stack: LocalStack) -> None:
    # Given an email sent through the stack's SES, as the email channel will send it
    ses = boto3.client(
        "ses",
        endpoint_url=local_stack.aws_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # the emulator's dummy
    )
    ses.verify_email_identity(EmailAddress="service@dealer.example")
    ses.send_email(
        Source="service@dealer.example",
        Destination={"ToAddresses": ["e2e@example.com"]},
        Message={"Subject": {"Data": "Проверка"}, "Body": {"Text": {"Data": "Текст письма"}}},
    )
    # When the outbox is read for that address
    [message] = local_stack.outbox(to="e2e@example.com")
    # Then it shows the email, its decoded text and a business time
    assert (message["channel"], message["subject"], message["body"]) == (
        "email",
        "Проверка",
        "Текст письма",
    )
    assert message["sent_at"].endswith("Z")


def test_outbox_pages_follow_the_cursor(local_stack: LocalStack) -> None:
    # Given three emails to one address
    ses = boto3.client(
        "ses",
        endpoint_url=local_stack.aws_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # the emulator's dummy
    )
    ses.verify_email_identity(EmailAddress="service@dealer.example")
    for n in range(3):
        ses.send_email(
            Source="service@dealer.example",
            Destination={"ToAddresses": ["pages@example.com"]},
            Message={"Subject": {"Data": f"Письмо {n}"}, "Body": {"Text": {"Data": "Текст"}}},
        )
    everything = local_stack.client.get("/_local/outbox", params={"to": "pages@example.com"})
    assert everything.json()["cursor"] is None  # no limit: all of it at once
    # When it is read two at a time, following the cursor
    seen: list[str] = []
    params = {"to": "pages@example.com", "limit": "2"}
    for _ in range(3):
        page = local_stack.client.get("/_local/outbox", params=params).json()
        seen += [m["id"] for m in page["messages"]]
        if page["cursor"] is None:
            break
        params["cursor"] = page["cursor"]
    # Then the pages hold every message once, in the same order
    assert seen == [m["id"] for m in everything.json()["messages"]]
    assert len(seen) == 3
    bad = local_stack.client.get("/_local/outbox", params={"cursor": "nope", "limit": "2"})
    assert bad.status_code == 422


def test_demo_tenants_are_in_sandbox_mode(local_stack: LocalStack) -> None:
    for tenant in ("demo", "other"):
        found = local_stack.client.get("/v1/settings/messaging", headers=local_stack.auth(tenant))
        assert found.status_code == 200
        assert found.json()["sandbox"] is True


def test_demo_customers_were_applied(local_stack: LocalStack) -> None:
    # The demo DMS sent "8 (912) 345-67-89"; any other human format finds the same person
    found = local_stack.client.get(
        "/v1/customers", params={"phone": "+7 912 345 67 89"}, headers=local_stack.auth()
    )

    assert found.status_code == 200
    # (other e2e tests share the stack and may add people with the same number)
    assert "Иванов" in [c.get("last_name") for c in found.json()["items"]]


def test_the_demo_tenant_has_a_finished_campaign_with_its_counts(local_stack: LocalStack) -> None:
    listed = local_stack.client.get("/v1/campaigns", headers=local_stack.auth())
    assert listed.status_code == 200
    [demo] = [c for c in listed.json()["items"] if c["segment_id"] == "moscow-sms-marketing"]
    found = local_stack.client.get(f"/v1/campaigns/{demo['id']}", headers=local_stack.auth())
    assert found.status_code == 200
    campaign = found.json()
    counts = campaign["counts"]
    assert campaign["status"] == "sent" and counts["queued"] == 0
    assert counts["audience"] > 0 and counts["sent"] == counts["delivered"] > 0
    # Its SMS are in the outbox, each with the message's own booking link and the erid
    sent = [
        m for m in local_stack.outbox(channel="sms") if m["meta"].get("campaign_id") == demo["id"]
    ]
    assert len(sent) == counts["sent"]
    assert all("/l/" in m["body"] and "erid 2VtzqwXyZ1" in m["body"] for m in sent)


def test_the_other_tenant_sees_none_of_the_demo(local_stack: LocalStack) -> None:
    found = local_stack.client.get(
        "/v1/customers", params={"phone": "+79123456789"}, headers=local_stack.auth("other")
    )

    assert found.status_code == 200
    assert found.json()["items"] == []


def test_a_signed_webhook_is_readable_after_advancing_by_nothing(local_stack: LocalStack) -> None:
    # Given a DMS sends a new customer, signed with the connector's secret
    external_id = f"E2E-{time.time_ns()}"
    event = {
        "id": f"evt-{external_id}",
        "type": "customer.upserted",
        "occurred_at": "2026-11-20T10:15:00+03:00",
        "data": {"external_id": external_id, "first_name": "Ольга", "phones": ["8 999 000-11-22"]},
    }
    sent = local_stack.sign_and_post([event])
    assert sent.status_code == 202, sent.text
    assert sent.json()["accepted"] == 1
    # When the clock advances by nothing (every queue drained)
    local_stack.advance()
    # Then the customer is there
    found = local_stack.client.get(
        "/v1/customers", params={"external_id": external_id}, headers=local_stack.auth()
    )
    assert [c.get("first_name") for c in found.json()["items"]] == ["Ольга"]


def test_a_badly_signed_webhook_is_refused(local_stack: LocalStack) -> None:
    response = local_stack.sign_and_post(
        {"id": "x", "type": "customer.upserted", "occurred_at": "2026-11-20T10:15:00+03:00"},
        secret="whsec_" + "A" * 44,
    )

    assert response.status_code == 401


def test_the_terminal_gets_a_line_per_batch_and_the_log_gets_everything(
    local_stack: LocalStack,
) -> None:
    # Given a webhook batch and a clock move
    answer = local_stack.sign_and_post(
        [
            {
                "id": f"quiet-{time.time_ns()}",
                "type": "customer.upserted",
                "occurred_at": "2026-11-20T10:15:00+03:00",
                "data": {"external_id": f"Q-{time.time_ns()}", "first_name": "Тихон"},
            }
        ]
    )
    assert answer.status_code == 202
    local_stack.advance()
    terminal = local_stack.logs["stdout"].read_text(encoding="utf-8")
    stack_log = (local_stack.local_json.parent / "stack.log").read_text(encoding="utf-8")
    # Then the terminal has a line for each, and none of the handlers' JSON log lines
    assert "webhook: 1 accepted, 0 duplicates, 0 rejected" in terminal
    assert "clock: now " in terminal
    assert '{"level"' not in terminal
    assert '"webhook received"' not in local_stack.logs["stderr"].read_text(encoding="utf-8")
    # And .trigly/stack.log has every invocation's log lines and the terminal's lines too
    assert '"webhook received"' in stack_log
    assert "webhook: 1 accepted" in stack_log
