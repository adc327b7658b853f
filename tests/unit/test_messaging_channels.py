"""Channel choice and fallback, and the whole decision: send now / hold until / refuse."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.channels import Recipient, addresses_for, channel_order, fallback_at
from trigly.messaging.decision import Hold, Refuse, SendNow, decide
from trigly.messaging.guardrails import Suppression, SuppressionKind
from trigly.messaging.intent import (
    HistoryEntry,
    MessageState,
    MessageStatus,
    Reason,
    SendIntent,
    record,
)
from trigly.messaging.policy import MessagingPolicy, MessagingSettings
from trigly.messaging.timezones import ZoneSource
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.model import ConsentState, CustomerProfile

T0 = datetime(2026, 11, 20, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
NIGHT = datetime(2026, 11, 20, 23, 0, tzinfo=MSK)
MORNING = "2026-11-21T09:00:00+03:00"
PHONE, EMAIL, CHAT = "+79123456789", "anna@example.com", "tg:5550001"
POLICY = MessagingPolicy()  # Telegram → SMS → email, Moscow
TG, SMS, MAIL = Channel.TELEGRAM, Channel.SMS, Channel.EMAIL
MAX = Channel.MAX
NO_CONTACT, UNSUBSCRIBED = Reason.NO_USABLE_CONTACT, Reason.UNSUBSCRIBED
CAPPED = Reason.FREQUENCY_CAP
ALL = frozenset(Channel)


def customer(
    *,
    phones: tuple[tuple[str, ContactStatus], ...] = ((PHONE, ContactStatus.OK),),
    emails: tuple[tuple[str, ContactStatus], ...] = ((EMAIL, ContactStatus.OK),),
    service: frozenset[Channel] = ALL,
    marketing: frozenset[Channel] = frozenset(),
    refused: frozenset[Channel] = frozenset(),
    preferred: Channel | None = None,
    **fields: Any,
) -> CustomerProfile:
    """A customer with consent `service`/`marketing` given on these channels, and both refused
    (an explicit `false`) on `refused`."""

    def state(granted: bool) -> ConsentState:
        return ConsentState(granted=granted, at=T0, source="dms")

    consents: dict[Channel, dict[ConsentPurpose, ConsentState]] = {}
    for channel in Channel:
        purposes = {}
        if channel in service:
            purposes[ConsentPurpose.SERVICE] = state(True)
        if channel in marketing:
            purposes[ConsentPurpose.MARKETING] = state(True)
        if channel in refused:
            purposes = {p: state(False) for p in ConsentPurpose}
        if purposes:
            consents[channel] = purposes
    return CustomerProfile(
        customer_id="cus_1",
        created_at=T0,
        updated_at=T0,
        phones=[Contact(value=v, status=s) for v, s in phones],
        emails=[Contact(value=v, status=s) for v, s in emails],
        consents=consents,
        preferred_channel=preferred,
        **fields,
    )


def intent(**fields: Any) -> SendIntent:
    base: dict[str, Any] = {
        "customer_id": "cus_1",
        "purpose": "service",
        "kind": "maintenance_reminder",
        "template_id": "tpl_to",
        "idempotency_key": "reminder:XTA21099012345678:3:1",
    }
    return SendIntent.model_validate(base | fields)


def linked_telegram(profile: CustomerProfile, **fields: Any) -> Recipient:
    return Recipient(profile=profile, linked={TG: CHAT}, **fields)


# --- addresses and order ----------------------------------------------------------------------

OK, BOUNCED, STALE, INVALID = (
    ContactStatus.OK,
    ContactStatus.BOUNCED,
    ContactStatus.STALE,
    ContactStatus.INVALID,
)


@pytest.mark.parametrize(
    ("channel", "phones", "emails", "linked", "usable", "reason"),
    [
        (SMS, ((PHONE, OK),), (), {}, (PHONE,), None),
        (Channel.WHATSAPP, (("+7000", INVALID), (PHONE, OK)), (), {}, (PHONE,), None),
        (Channel.VIBER, ((PHONE, STALE),), (), {}, (), Reason.NO_USABLE_CONTACT),
        (Channel.MAX, ((PHONE, OK),), (), {Channel.MAX: "max:42"}, ("max:42",), None),
        (MAIL, (), ((EMAIL, OK),), {}, (EMAIL,), None),
        (MAIL, (), ((EMAIL, BOUNCED),), {}, (), Reason.SUPPRESSED_CONTACT),
        (MAIL, (), ((EMAIL, ContactStatus.COMPLAINED),), {}, (), Reason.SUPPRESSED_CONTACT),
        (MAIL, (), (("anna@", INVALID),), {}, (), Reason.NO_USABLE_CONTACT),
        (TG, ((PHONE, OK),), (), {}, (), Reason.NO_USABLE_CONTACT),  # not linked
        (TG, (), (), {TG: CHAT}, (CHAT,), None),
        (Channel.PUSH, (), (), {Channel.PUSH: "fcm-token"}, ("fcm-token",), None),
    ],
)
def test_a_channel_uses_an_ok_address_of_its_kind(
    channel: Channel,
    phones: tuple[tuple[str, ContactStatus], ...],
    emails: tuple[tuple[str, ContactStatus], ...],
    linked: dict[Channel, str],
    usable: tuple[str, ...],
    reason: Reason | None,
) -> None:
    recipient = Recipient(customer(phones=phones, emails=emails), linked=linked)
    found = addresses_for(recipient, channel)
    assert (found.usable, found.reason) == (usable, reason)


@pytest.mark.parametrize(
    ("fields", "preferred", "order"),
    [
        ({}, None, [TG, SMS, MAIL]),
        ({"channels": ["email"]}, None, [MAIL, TG, SMS]),
        ({"channels": ["whatsapp", "sms"]}, MAX, [Channel.WHATSAPP, SMS, MAX, TG, MAIL]),
        ({}, MAIL, [MAIL, TG, SMS]),
        ({"channels": ["sms"], "only_listed_channels": True}, MAIL, [SMS]),
    ],
)  # fmt: skip
def test_the_order_is_intent_then_customer_then_tenant_cascade(
    fields: dict[str, Any], preferred: Channel | None, order: list[Channel]
) -> None:
    assert channel_order(intent(**fields), customer(preferred=preferred), POLICY) == order


# --- choice and decision ----------------------------------------------------------------------


def test_a_service_reminder_goes_now_by_the_first_channel_of_the_cascade() -> None:
    # Given a customer with Telegram linked and service consent everywhere
    recipient = linked_telegram(customer())
    # When a service reminder is decided at noon
    decision = decide(intent(), recipient, POLICY, now=NOON)
    # Then it goes now by Telegram to the chat
    assert isinstance(decision, SendNow)
    assert (decision.route.channel, decision.route.address) == (TG, CHAT)
    assert decision.skipped == () and not decision.counts_against_cap


@pytest.mark.parametrize(
    ("profile", "linked", "channel", "skipped"),
    [
        # Telegram not linked → SMS
        (customer(), {}, SMS, [(TG, NO_CONTACT)]),
        # Telegram linked but no consent there → SMS
        (customer(service=frozenset({SMS, MAIL})), {TG: CHAT}, SMS, [(TG, Reason.NO_CONSENT)]),
        # no phone and no Telegram → email
        (customer(phones=()), {}, MAIL, [(TG, NO_CONTACT), (SMS, NO_CONTACT)]),
        # the phone is stale → email
        (customer(phones=((PHONE, STALE),)), {}, MAIL, [(TG, NO_CONTACT), (SMS, NO_CONTACT)]),
        # SMS refused by the customer → email
        (customer(refused=frozenset({SMS})), {}, MAIL, [(TG, NO_CONTACT), (SMS, UNSUBSCRIBED)]),
    ],
)  # fmt: skip
def test_an_unavailable_channel_falls_back_along_the_cascade(
    profile: CustomerProfile,
    linked: dict[Channel, str],
    channel: Channel,
    skipped: list[tuple[Channel, Reason]],
) -> None:
    decision = decide(intent(), Recipient(profile, linked=linked), POLICY, now=NOON)
    assert isinstance(decision, SendNow)
    assert decision.route.channel is channel
    assert [(s.channel, s.reason) for s in decision.skipped] == skipped


def test_a_channel_without_a_provider_is_skipped_never_pretended() -> None:
    # Given a tenant (not in sandbox mode) with a provider for email only
    recipient = linked_telegram(customer())
    # When a service reminder is decided
    decision = decide(intent(), recipient, POLICY, now=NOON, configured={MAIL})
    # Then Telegram and SMS are passed over for the missing provider, and email carries it
    assert isinstance(decision, SendNow)
    assert decision.route.channel is MAIL
    not_configured = Reason.CHANNEL_NOT_CONFIGURED
    assert [(s.channel, s.reason) for s in decision.skipped] == [
        (TG, not_configured),
        (SMS, not_configured),
    ]
    # With no provider at all it fails for that reason (the dealer's fix), not a consent one
    refused = decide(intent(), recipient, POLICY, now=NOON, configured=frozenset())
    assert isinstance(refused, Refuse)
    assert (refused.reason, refused.status) == (not_configured, MessageStatus.FAILED)


def test_the_cascade_is_per_purpose() -> None:
    settings = MessagingSettings.model_validate({"cascade": {"marketing": ["email", "sms"]}})
    policy = MessagingPolicy.of(settings, timezone="Europe/Moscow")
    recipient = linked_telegram(customer(marketing=ALL))
    marketing = decide(intent(purpose="marketing"), recipient, policy, now=NOON)
    service = decide(intent(), recipient, policy, now=NOON)
    assert isinstance(marketing, SendNow) and marketing.route.channel is MAIL
    assert isinstance(service, SendNow) and service.route.channel is TG


def test_a_suppressed_address_falls_back_to_the_customers_next_phone() -> None:
    second = "+79234567890"
    profile = customer(phones=((PHONE, OK), (second, OK)))
    refused = [Suppression(address=PHONE, kind=SuppressionKind.CARRIER_REFUSAL)]
    decision = decide(intent(), Recipient(profile), POLICY, now=NOON, suppressions=refused)
    assert isinstance(decision, SendNow)
    assert (decision.route.channel, decision.route.address) == (SMS, second)


@pytest.mark.parametrize(
    ("profile", "linked", "fields", "suppressions", "reason"),
    [
        # no address at all
        (customer(phones=(), emails=()), {}, {}, [], Reason.NO_USABLE_CONTACT),
        # addresses but no consent for marketing anywhere
        (customer(), {TG: CHAT}, {"purpose": "marketing"}, [], Reason.NO_CONSENT),
        # the customer refused everything they have an address for
        (customer(refused=ALL), {}, {}, [], Reason.UNSUBSCRIBED),
        # the only email bounced and there is no phone: suppressed contact
        (customer(phones=(), emails=((EMAIL, BOUNCED),)), {}, {}, [], Reason.SUPPRESSED_CONTACT),
        # the suppression list refuses the phone; email has no consent: the closest reason wins
        (
            customer(service=frozenset({SMS})),
            {},
            {},
            [Suppression(address=PHONE, kind=SuppressionKind.COMPLAINED)],
            Reason.SUPPRESSED_CONTACT,
        ),
        # the customer unsubscribed by the one-click link; the list says so
        (
            customer(phones=(), marketing=ALL),
            {},
            {"purpose": "marketing"},
            [Suppression(address=EMAIL, kind=SuppressionKind.UNSUBSCRIBED)],
            Reason.UNSUBSCRIBED,
        ),
        # consent for SMS only, but the intent insists on email
        (
            customer(service=frozenset({SMS})),
            {},
            {"channels": ["email"], "only_listed_channels": True},
            [],
            Reason.NO_CONSENT,
        ),
    ],
)
def test_with_no_available_channel_the_message_is_suppressed_with_the_closest_reason(
    profile: CustomerProfile,
    linked: dict[Channel, str],
    fields: dict[str, Any],
    suppressions: list[Suppression],
    reason: Reason,
) -> None:
    recipient = Recipient(profile, linked=linked)
    decision = decide(intent(**fields), recipient, POLICY, now=NOON, suppressions=suppressions)
    assert isinstance(decision, Refuse)
    assert (decision.status, decision.reason) == (MessageStatus.SUPPRESSED, reason)
    entry = decision.entry(NOON)
    assert (entry.status, entry.reason) == (MessageStatus.SUPPRESSED, reason)


def test_a_template_without_a_variant_for_any_usable_channel_fails_with_template_error() -> None:
    # Given a template with an email variant only, and a customer with only a phone
    decision = decide(intent(), Recipient(customer(emails=())), POLICY, now=NOON, supported={MAIL})
    # Then the message fails: the marketer must add an SMS variant
    assert isinstance(decision, Refuse)
    assert (decision.status, decision.reason) == (MessageStatus.FAILED, Reason.TEMPLATE_ERROR)


def test_a_template_variant_steers_the_channel() -> None:
    decision = decide(intent(), linked_telegram(customer()), POLICY, now=NOON, supported={MAIL})
    assert isinstance(decision, SendNow) and decision.route.channel is MAIL


@pytest.mark.parametrize(
    ("marketing", "channel", "include_offer"),
    [
        (frozenset({TG, SMS}), TG, True),
        (frozenset({SMS}), TG, False),  # the reminder goes by Telegram, without the offer
        (frozenset(), TG, False),
    ],
)
def test_an_offer_in_a_service_reminder_rides_only_with_marketing_consent(
    marketing: frozenset[Channel], channel: Channel, include_offer: bool
) -> None:
    reminder = intent(offer={"offer_id": "off_brakes", "variables": {"discount": 15}})
    decision = decide(reminder, linked_telegram(customer(marketing=marketing)), POLICY, now=NOON)
    assert isinstance(decision, SendNow)
    assert (decision.route.channel, decision.route.include_offer) == (channel, include_offer)


def test_a_marketing_message_counts_against_the_cap() -> None:
    offer = intent(purpose="marketing", kind="tyre_season")
    decision = decide(offer, Recipient(customer(marketing=ALL)), POLICY, now=NOON)
    assert isinstance(decision, SendNow) and decision.counts_against_cap


@pytest.mark.parametrize(
    ("fields", "recent", "now", "until", "reason"),
    [
        ({"purpose": "marketing"}, [], NIGHT, MORNING, Reason.QUIET_HOURS),
        ({"purpose": "service"}, [], NIGHT, MORNING, Reason.QUIET_HOURS),
        ({"purpose": "marketing"}, [NOON - timedelta(hours=2)], NOON, MORNING, CAPPED),
    ],
)  # fmt: skip
def test_a_message_that_may_not_go_now_is_held_until_it_may(
    fields: dict[str, Any],
    recent: list[datetime],
    now: datetime,
    until: str,
    reason: Reason,
) -> None:
    # Given a customer who accepts everything by SMS
    recipient = Recipient(customer(marketing=ALL))
    # When the message is decided
    decision = decide(intent(**fields), recipient, POLICY, now=now, recent_marketing=recent)
    # Then it is held, and its history entry says until when and why
    assert isinstance(decision, Hold)
    assert (decision.until, decision.reason) == (datetime.fromisoformat(until), reason)
    assert decision.route.channel is SMS
    entry = decision.entry(now)
    assert (entry.status, entry.until, entry.reason) == (MessageStatus.HELD, decision.until, reason)


def test_a_transactional_message_goes_at_night_and_past_the_cap() -> None:
    ready = intent(purpose="transactional", kind="order_status")
    decision = decide(
        ready, Recipient(customer()), POLICY, now=NIGHT, recent_marketing=[NIGHT, NOON]
    )
    assert isinstance(decision, SendNow) and decision.route.channel is SMS


@pytest.mark.parametrize(
    ("now", "recent", "reason"),
    [(NIGHT, [], Reason.QUIET_HOURS), (NOON, [NOON - timedelta(hours=1)], Reason.FREQUENCY_CAP)],
)
def test_with_policy_skip_a_message_that_may_not_go_now_is_suppressed(
    now: datetime, recent: list[datetime], reason: Reason
) -> None:
    flash_sale = intent(purpose="marketing", kind="one_off", when_held="skip")
    decision = decide(
        flash_sale, Recipient(customer(marketing=ALL)), POLICY, now=now, recent_marketing=recent
    )
    assert isinstance(decision, Refuse)
    assert (decision.status, decision.reason) == (MessageStatus.SUPPRESSED, reason)


def test_priority_does_not_bypass_the_cap() -> None:
    urgent = intent(purpose="marketing", priority="high")
    decision = decide(
        urgent, Recipient(customer(marketing=ALL)), POLICY, now=NOON, recent_marketing=[NOON]
    )
    assert isinstance(decision, Hold) and decision.reason is Reason.FREQUENCY_CAP


def test_quiet_hours_use_the_recipients_zone() -> None:
    # Given 23:00 in Moscow and a customer in Primorsky krai (06:00 there)
    recipient = Recipient(customer(region="RU-PRI"))
    decision = decide(intent(), recipient, POLICY, now=NIGHT)
    # Then the reminder waits for 09:00 Vladivostok time, 02:00 Moscow time
    assert isinstance(decision, Hold)
    assert decision.until == datetime(2026, 11, 21, 2, 0, tzinfo=MSK)
    assert decision.zone.source is ZoneSource.REGION
    # And at 02:00 Moscow time it goes
    assert isinstance(decide(intent(), recipient, POLICY, now=decision.until), SendNow)


def test_the_location_zone_is_used_when_the_profile_names_none() -> None:
    # Given a customer of the Vladivostok service station, nothing in the profile about zones
    recipient = Recipient(customer(), location_timezone="Asia/Vladivostok")
    # When a reminder is decided at 14:30 in Moscow — 21:30 in Vladivostok
    decision = decide(intent(), recipient, POLICY, now=datetime(2026, 11, 20, 14, 30, tzinfo=MSK))
    # Then it waits for the morning there
    assert isinstance(decision, Hold)
    assert decision.zone.source is ZoneSource.LOCATION
    assert decision.until == datetime(2026, 11, 21, 9, 0, tzinfo=ZoneInfo("Asia/Vladivostok"))


# --- fallback after sending -------------------------------------------------------------------


def test_fallback_never_repeats_a_channel_and_recounts_nothing() -> None:
    # Given a marketing message already sent by Telegram, not clicked within 4 hours
    offer = intent(purpose="marketing", kind="tyre_season")
    recipient = linked_telegram(customer(marketing=ALL))
    sent_at = NOON
    state, _ = record(
        MessageState.queued(sent_at), HistoryEntry(status=MessageStatus.SENT, at=sent_at)
    )
    due = fallback_at(POLICY, TG, state, sent_at)
    assert due == sent_at + timedelta(hours=4)
    # When the fallback is decided then
    decision = decide(
        offer, recipient, POLICY, now=due, tried={TG}, recent_marketing=[sent_at], cap_counted=True
    )
    # Then it goes by SMS, not Telegram again, and the cap does not count it twice
    assert isinstance(decision, SendNow)
    assert decision.route.channel is SMS and not decision.counts_against_cap
    # And with every channel tried there is nothing left
    spent = decide(offer, recipient, POLICY, now=due, tried={TG, SMS, MAIL}, cap_counted=True)
    assert isinstance(spent, Refuse)


def at_status(status: MessageStatus, reason: Reason | None = None) -> MessageState:
    state = MessageState.queued(NOON)
    if status not in {MessageStatus.QUEUED, MessageStatus.FAILED}:
        state, _ = record(state, HistoryEntry(status=MessageStatus.SENT, at=NOON))
    state, _ = record(state, HistoryEntry(status=status, at=NOON, reason=reason))
    return state


@pytest.mark.parametrize(
    ("channel", "state", "after"),
    [
        (TG, at_status(MessageStatus.SENT), timedelta(hours=4)),
        (TG, at_status(MessageStatus.DELIVERED), timedelta(hours=4)),  # delivered is not a reaction
        (TG, at_status(MessageStatus.CLICKED), None),
        (SMS, at_status(MessageStatus.SENT), timedelta(hours=2)),
        (SMS, at_status(MessageStatus.DELIVERED), None),
        (SMS, at_status(MessageStatus.FAILED, Reason.PROVIDER_REJECTED), timedelta(0)),
        (SMS, at_status(MessageStatus.FAILED, Reason.UNKNOWN_OUTCOME), timedelta(hours=2)),
        (MAIL, at_status(MessageStatus.SENT), None),  # no rule for email: only a failure
        (MAIL, at_status(MessageStatus.FAILED, Reason.PROVIDER_REJECTED), timedelta(0)),
    ],
)  # fmt: skip
def test_when_to_try_the_next_channel(
    channel: Channel, state: MessageState, after: timedelta | None
) -> None:
    due = fallback_at(POLICY, channel, state, NOON)
    assert due == (NOON + after if after is not None else None)
