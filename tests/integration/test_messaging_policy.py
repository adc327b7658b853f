"""The tenant's messaging policy (CONTRACT §3 `/v1/settings/messaging`): frequency caps that
hold under concurrent sends, sandbox mode as an explicit setting, the outbox's lifetime."""

import threading
from datetime import time, timedelta
from typing import Any

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture, new_tenant
from tests.integration.test_ingest_and_api import api
from tests.integration.test_messages import MSK, SMS_CONSENT, customer, work_sms_queue
from tests.support import days_ahead
from trigly.channels.sandbox import outbox
from trigly.messaging import service
from trigly.messaging.intent import MessagePurpose, SendIntent
from trigly.platform import clock


def settings(dealer: TenantFixture, change: dict[str, Any] | None = None) -> tuple[int, Any]:
    if change is None:
        return api("GET", "/v1/settings/messaging", dealer.api_key)
    return api("PUT", "/v1/settings/messaging", dealer.api_key, body=change)


def marketing(customer_id: str, key: str) -> SendIntent:
    return SendIntent(
        customer_id=customer_id,
        purpose=MessagePurpose.MARKETING,
        kind="campaign",
        text="Зимние шины со скидкой",
        idempotency_key=key,
    )


def send_at_once(dealer: TenantFixture, customer_id: str, senders: int) -> list[str]:
    """`senders` marketing messages to one customer, each from its own thread, released
    together (journeys and campaigns deciding at the same moment); their statuses."""
    start = threading.Barrier(senders)
    statuses: list[str] = []
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            start.wait()
            sent = service.send(dealer.tenant, marketing(customer_id, f"race:{n}"))
            statuses.append(sent.state.status.value)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return sorted(statuses)


def test_concurrent_marketing_sends_never_pass_the_daily_cap(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    # Given a customer with marketing consent at noon, and the default cap of one a day
    business_clock.move_to(days_ahead(1, time(12), MSK))
    customer_id = customer(dealer, drain, "CAP-1", consents=SMS_CONSENT, region="RU-MOW")
    # When six senders decide a marketing message for them at the same moment
    statuses = send_at_once(dealer, customer_id, senders=6)
    # Then exactly one goes; the others wait for the cap (none slipped past the read)
    assert statuses == ["held"] * 5 + ["queued"]


def test_concurrent_sends_respect_a_rolling_weekly_cap(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    # Given a tenant capping marketing at two in 7 days, and none a day
    status, _ = settings(
        dealer, {"frequency_caps": {"marketing": {"per_day": None, "per_week": 2}}}
    )
    assert status == 200
    business_clock.move_to(days_ahead(1, time(12), MSK))
    customer_id = customer(dealer, drain, "CAP-2", consents=SMS_CONSENT, region="RU-MOW")
    before = clock.now()
    # When five senders decide at once
    statuses = send_at_once(dealer, customer_id, senders=5)
    # Then two go and three wait
    assert statuses == ["held"] * 3 + ["queued"] * 2
    # And the next one waits until the older of the two is 7 days old
    held = service.send(dealer.tenant, marketing(customer_id, "race:later"))
    until = held.state.history[-1].until
    assert until is not None
    assert before + timedelta(days=7) <= until <= clock.now() + timedelta(days=7)


def api_messages(dealer: TenantFixture, customer_id: str) -> list[dict[str, Any]]:
    status, listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})
    assert status == 200
    items: list[dict[str, Any]] = listed["items"]
    return items


def test_settings_read_change_partially_and_refuse_what_is_invalid(
    dealer: TenantFixture,
) -> None:
    # A tenant that set nothing reads the CONTRACT §3 defaults
    status, current = settings(dealer)
    assert status == 200
    assert current["sending_hours"] == {"from": "09:00", "to": "21:00"}
    assert current["frequency_caps"] == {
        "marketing": {"per_day": 1, "per_week": None, "per_30_days": 4}
    }
    assert current["cascade"]["marketing"] == ["telegram", "sms", "email"]
    assert current["sandbox"] is True  # a test tenant, like the local demo ones
    # A partial PUT changes only what it names
    status, changed = settings(
        dealer,
        {
            "sending_hours": {"to": "20:00"},
            "frequency_caps": {"marketing": {"per_30_days": None}},
            "cascade": {"marketing": ["email", "sms"]},
        },
    )
    assert status == 200
    assert changed["sending_hours"] == {"from": "09:00", "to": "20:00"}
    assert changed["frequency_caps"]["marketing"] == {
        "per_day": 1,
        "per_week": None,
        "per_30_days": None,
    }
    assert changed["cascade"]["marketing"] == ["email", "sms"]
    assert changed["cascade"]["service"] == ["telegram", "sms", "email"]
    assert changed["sandbox"] is True
    assert settings(dealer) == (200, changed)
    # What is invalid is refused with its field path, and changes nothing
    for change, field in (
        ({"sending_hours": {"from": "21:00"}}, "sending_hours"),  # empty window
        ({"cascade": {"marketing": ["sms", "fax"]}}, "cascade.marketing.1"),
        ({"cascade": {"newsletter": ["sms"]}}, "cascade.newsletter"),
        ({"frequency_caps": {"marketing": {"per_day": 0}}}, "frequency_caps.marketing.per_day"),
        ({"quiet": True}, "quiet"),
    ):
        status, problem = settings(dealer, change)
        assert status == 422, change
        assert field in [e["field"] for e in problem["errors"]], problem
    assert settings(dealer) == (200, changed)


def test_a_changed_cap_applies_to_the_next_decision(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    business_clock.move_to(days_ahead(1, time(12), MSK))
    customer_id = customer(dealer, drain, "CAP-3", consents=SMS_CONSENT, region="RU-MOW")
    first = service.send(dealer.tenant, marketing(customer_id, "change:1"))
    second = service.send(dealer.tenant, marketing(customer_id, "change:2"))
    assert (first.state.status.value, second.state.status.value) == ("queued", "held")
    # When the tenant allows two a day, the next message decided goes
    settings(dealer, {"frequency_caps": {"marketing": {"per_day": 2}}})
    third = service.send(dealer.tenant, marketing(customer_id, "change:3"))
    assert third.state.status.value == "queued"
    # And a narrower sending window holds the next one (it is 12:00 in Moscow)
    settings(
        dealer,
        {"sending_hours": {"from": "13:00"}, "frequency_caps": {"marketing": {"per_day": 5}}},
    )
    fourth = service.send(dealer.tenant, marketing(customer_id, "change:4"))
    assert (fourth.state.status.value, fourth.state.reason) == ("held", "quiet_hours")


def test_without_sandbox_mode_nothing_pretends_a_delivery(
    stack: DeployedStack, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    # Given a tenant as deployed: no sandbox mode, no provider for any channel
    dealer = new_tenant("Без провайдеров", sandbox=False)
    business_clock.move_to(days_ahead(1, time(12), MSK))
    customer_id = customer(dealer, drain, "NS-1", consents=SMS_CONSENT, region="RU-MOW")
    # When a service message is sent
    status, answer = api(
        "POST",
        "/v1/messages",
        dealer.api_key,
        body={
            "customer_id": customer_id,
            "purpose": "service",
            "text": "Пора на ТО",
            "idempotency_key": "ns:1",
        },
    )
    # Then it fails for the missing provider: nothing recorded as sent or delivered
    assert (status, answer["status"]) == (202, "failed")
    [message] = api_messages(dealer, customer_id)
    assert message["reason"] == "channel_not_configured"
    assert [h["status"] for h in message["history"]] == ["failed"]
    work_sms_queue(stack)
    assert outbox(dealer.tenant.tenant_id) == []
    # And the channel list says so
    channels = api("GET", "/v1/channels", dealer.api_key)[1]["items"]
    modes = {c["channel"]: c["mode"] for c in channels}
    assert modes["sms"] == "not_configured"


def test_a_message_that_never_reached_a_provider_gives_its_cap_place_back(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    business_clock.move_to(days_ahead(1, time(12), MSK))
    customer_id = customer(dealer, drain, "CAP-4", consents=SMS_CONSENT, region="RU-MOW")
    first = service.send(dealer.tenant, marketing(customer_id, "back:1"))
    assert first.state.status.value == "queued"  # today's one place is taken
    # When the channel has no provider by the time the worker sends it (sandbox switched off)
    settings(dealer, {"sandbox": False})
    work_sms_queue(stack)
    [failed] = api_messages(dealer, customer_id)
    assert (failed["status"], failed["reason"]) == ("failed", "channel_not_configured")
    assert outbox(dealer.tenant.tenant_id) == []
    # Then its place is free again: the next marketing message today goes
    settings(dealer, {"sandbox": True})
    again = service.send(dealer.tenant, marketing(customer_id, "back:2"))
    assert again.state.status.value == "queued"


def test_the_sandbox_outbox_keeps_messages_400_days(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    business_clock.move_to(days_ahead(1, time(12), MSK))
    customer_id = customer(dealer, drain, "TTL-1", consents=SMS_CONSENT, region="RU-MOW")
    service.send(dealer.tenant, marketing(customer_id, "ttl:1"))
    work_sms_queue(stack)
    assert len(outbox(dealer.tenant.tenant_id)) == 1
    business_clock.advance(timedelta(days=399))
    assert len(outbox(dealer.tenant.tenant_id)) == 1
    business_clock.advance(timedelta(days=2))
    assert outbox(dealer.tenant.tenant_id) == []


def test_the_follow_up_of_a_message_that_never_went_takes_its_own_cap_place(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    from tests.integration.test_fallback import telegram_customer, work_channel_queues
    from tests.integration.test_messages import tick

    business_clock.move_to(days_ahead(1, time(11), MSK))
    customer_id = telegram_customer(dealer, drain, "CAP-5")
    first = service.send(dealer.tenant, marketing(customer_id, "follow:1"))
    assert (first.state.status.value, first.channel) == ("queued", "telegram")
    # When Telegram has no provider by the time the worker sends it
    settings(dealer, {"sandbox": False})
    work_channel_queues(stack)
    # and the next tick follows it up by SMS (sandbox mode is back)
    settings(dealer, {"sandbox": True})
    business_clock.advance(timedelta(minutes=15))
    tick(stack)
    work_channel_queues(stack)
    follow_up, original = api_messages(dealer, customer_id)
    assert (original["status"], original["reason"]) == ("failed", "channel_not_configured")
    assert (follow_up["channel"], follow_up["fallback_of"]) == ("sms", original["id"])
    assert [m["channel"] for m in outbox(dealer.tenant.tenant_id)] == ["sms"]
    # Then the follow-up holds today's one place: the next marketing message waits
    later = service.send(dealer.tenant, marketing(customer_id, "follow:2"))
    assert (later.state.status.value, later.state.reason) == ("held", "frequency_cap")
