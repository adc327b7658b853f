"""The guardrails one by one: consent (CONTRACT §3), suppression, frequency cap, quiet hours."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.guardrails import (
    Suppression,
    SuppressionKind,
    check_consent,
    check_suppression,
    earliest_allowed,
    frequency_cap_until,
    quiet_hours_until,
)
from trigly.messaging.intent import MessagePurpose, Reason
from trigly.messaging.policy import FrequencyCap, QuietHours
from trigly.profiles.model import ConsentState, CustomerProfile

T0 = datetime(2026, 11, 20, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")
VVO = ZoneInfo("Asia/Vladivostok")
BERLIN = ZoneInfo("Europe/Berlin")
M, S, T = MessagePurpose.MARKETING, MessagePurpose.SERVICE, MessagePurpose.TRANSACTIONAL


def with_consents(
    channel: Channel = Channel.SMS,
    *,
    marketing: bool | None = None,
    service: bool | None = None,
) -> CustomerProfile:
    given = {ConsentPurpose.MARKETING: marketing, ConsentPurpose.SERVICE: service}
    states = {
        purpose: ConsentState(granted=granted, at=T0, source="dms")
        for purpose, granted in given.items()
        if granted is not None
    }
    return CustomerProfile(
        customer_id="cus_1",
        created_at=T0,
        updated_at=T0,
        consents={channel: states} if states else {},
    )


def local(zone: ZoneInfo, text: str) -> datetime:
    """A wall-clock time in a zone, e.g. local(MSK, "2026-11-20 20:59")."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# --- 1. consent -------------------------------------------------------------------------------

Y, N, _ = True, False, None


@pytest.mark.parametrize(
    ("purpose", "marketing", "service", "opt_out_basis", "allowed", "reason", "offer"),
    [
        # marketing needs the channel's marketing opt-in
        (M, Y, _, False, True, None, True),
        (M, _, Y, False, False, Reason.NO_CONSENT, False),  # service consent is not enough
        (M, N, Y, False, False, Reason.UNSUBSCRIBED, False),
        (M, _, _, True, False, Reason.NO_CONSENT, False),  # opt-out basis is for service only
        # service reminders need the service opt-in...
        (S, _, Y, False, True, None, False),
        (S, Y, _, False, False, Reason.NO_CONSENT, False),  # marketing consent is not enough
        (S, _, _, False, False, Reason.NO_CONSENT, False),
        (S, _, N, False, False, Reason.UNSUBSCRIBED, False),
        # ...unless the tenant's legal basis allows opt-out: then only an opt-out stops them
        (S, _, _, True, True, None, False),
        (S, _, N, True, False, Reason.UNSUBSCRIBED, False),
        # an offer inside a service reminder only with marketing consent
        (S, Y, Y, False, True, None, True),
        (S, N, Y, False, True, None, False),
        # transactional goes unless the customer opted out of service on the channel
        (T, _, _, False, True, None, False),
        (T, N, _, False, True, None, False),  # a marketing opt-out does not stop it
        (T, _, Y, False, True, None, False),
        (T, Y, N, False, False, Reason.UNSUBSCRIBED, True),
    ],
)
def test_consent_follows_the_contract_for_each_purpose(
    purpose: MessagePurpose,
    marketing: bool | None,
    service: bool | None,
    opt_out_basis: bool,
    allowed: bool,
    reason: Reason | None,
    offer: bool,
) -> None:
    # Given a customer's SMS consents, When a message of this purpose asks to go by SMS
    verdict = check_consent(
        with_consents(marketing=marketing, service=service),
        Channel.SMS,
        purpose,
        service_opt_out=opt_out_basis,
    )
    # Then it goes or not, with the contract's reason, and an offer rides along or not
    assert (verdict.allowed, verdict.reason) == (allowed, reason)
    if allowed:
        assert verdict.offer_allowed is offer


def test_consent_is_per_channel() -> None:
    # Given marketing consent on email only
    customer = with_consents(Channel.EMAIL, marketing=True)
    # Then marketing may go by email and not by SMS
    assert check_consent(customer, Channel.EMAIL, M).allowed
    assert check_consent(customer, Channel.SMS, M).reason is Reason.NO_CONSENT


# --- 2. suppression ---------------------------------------------------------------------------

PHONE, EMAIL = "+79123456789", "anna@example.com"
K = SuppressionKind


MK, SV = ConsentPurpose.MARKETING, ConsentPurpose.SERVICE


def sup(
    kind: SuppressionKind,
    address: str = PHONE,
    only: Channel | None = None,
    purpose: ConsentPurpose | None = None,
) -> Suppression:
    channels = frozenset({only}) if only else frozenset()
    return Suppression(address=address, kind=kind, channels=channels, purpose=purpose)


@pytest.mark.parametrize(
    ("entry", "channel", "address", "purpose", "reason"),
    [
        (sup(K.BOUNCED, EMAIL), Channel.EMAIL, EMAIL, T, Reason.SUPPRESSED_CONTACT),
        (sup(K.COMPLAINED, EMAIL), Channel.EMAIL, EMAIL, S, Reason.SUPPRESSED_CONTACT),
        (
            sup(K.CARRIER_REFUSAL, only=Channel.SMS),
            Channel.SMS,
            PHONE,
            M,
            Reason.SUPPRESSED_CONTACT,
        ),
        # a carrier's refusal of SMS says nothing about WhatsApp on the same number
        (sup(K.CARRIER_REFUSAL, only=Channel.SMS), Channel.WHATSAPP, PHONE, M, None),
        # an unsubscribe names what it stops
        (sup(K.UNSUBSCRIBED), Channel.SMS, PHONE, T, Reason.UNSUBSCRIBED),
        (sup(K.UNSUBSCRIBED, purpose=MK), Channel.SMS, PHONE, M, Reason.UNSUBSCRIBED),
        (sup(K.UNSUBSCRIBED, purpose=MK), Channel.SMS, PHONE, S, None),
        (sup(K.UNSUBSCRIBED, purpose=MK), Channel.SMS, PHONE, T, None),
        (sup(K.UNSUBSCRIBED, purpose=SV), Channel.SMS, PHONE, T, Reason.UNSUBSCRIBED),
        # another address is not this one
        (sup(K.BOUNCED, "+79990000000"), Channel.SMS, PHONE, T, None),
    ],
)
def test_the_suppression_list_refuses_what_each_entry_names(
    entry: Suppression,
    channel: Channel,
    address: str,
    purpose: MessagePurpose,
    reason: Reason | None,
) -> None:
    assert check_suppression([entry], channel, address, purpose) is reason


def test_a_hard_suppression_outranks_an_unsubscribe_of_the_same_address() -> None:
    entries = [
        Suppression(address=EMAIL, kind=K.UNSUBSCRIBED),
        Suppression(address=EMAIL, kind=K.COMPLAINED),
    ]
    assert check_suppression(entries, Channel.EMAIL, EMAIL, M) is Reason.SUPPRESSED_CONTACT


# --- 3. frequency cap -------------------------------------------------------------------------

CAP = FrequencyCap()  # 1 a day, 4 in 30 days


@pytest.mark.parametrize(
    ("recent", "now", "until"),
    [
        # nothing sent: goes
        ([], "2026-11-20 12:00", None),
        # one sent today (local day): the next waits for local midnight
        (["2026-11-20 09:30"], "2026-11-20 12:00", "2026-11-21 00:00"),
        # one sent late yesterday: a new day, it goes
        (["2026-11-19 20:30"], "2026-11-20 09:00", None),
        # three in 30 days, none today: goes
        (["2026-10-25 10:00", "2026-11-01 10:00", "2026-11-10 10:00"], "2026-11-20 12:00", None),
        # four in 30 days: waits until the oldest leaves the window
        (
            ["2026-10-25 10:00", "2026-11-01 10:00", "2026-11-10 10:00", "2026-11-15 10:00"],
            "2026-11-20 12:00",
            "2026-11-24 10:00",
        ),
        # the oldest left the window exactly now: goes
        (
            ["2026-10-21 12:00", "2026-11-01 10:00", "2026-11-10 10:00", "2026-11-15 10:00"],
            "2026-11-20 12:00",
            None,
        ),
        # both limits at once: the later of the two
        (
            ["2026-10-25 10:00", "2026-11-01 10:00", "2026-11-10 10:00", "2026-11-20 09:10"],
            "2026-11-20 12:00",
            "2026-11-24 10:00",
        ),
    ],
)
def test_the_frequency_cap_at_its_limits(recent: list[str], now: str, until: str | None) -> None:
    # Given marketing messages already counted (Moscow time), When one more asks to go at `now`
    found = frequency_cap_until(local(MSK, now), [local(MSK, r) for r in recent], CAP, MSK)
    # Then it goes, or waits until the cap allows
    assert found == (local(MSK, until) if until else None)


def test_the_day_of_the_cap_is_the_recipients_day() -> None:
    # Given a message at 23:30 Moscow time — 06:30 the next day in Vladivostok
    sent = local(MSK, "2026-11-19 23:30")
    # When another asks to go at 10:00 Vladivostok time the same (Vladivostok) day
    now = local(VVO, "2026-11-20 10:00")
    # Then the Vladivostok customer already had one today; but a Moscow customer did not
    assert frequency_cap_until(now, [sent], CAP, VVO) == local(VVO, "2026-11-21 00:00")
    assert frequency_cap_until(now, [sent], CAP, MSK) is None


def test_a_tenant_may_set_its_own_cap() -> None:
    generous = FrequencyCap(per_day=2, per_30_days=10)
    now = local(MSK, "2026-11-20 12:00")
    assert frequency_cap_until(now, [local(MSK, "2026-11-20 10:00")], generous, MSK) is None


def test_the_weekly_cap_rolls_over_seven_days() -> None:
    weekly = FrequencyCap(per_day=None, per_week=2, per_30_days=None)
    first, second = local(MSK, "2026-11-16 12:00"), local(MSK, "2026-11-18 12:00")
    now = local(MSK, "2026-11-20 12:00")
    # Two in the last 7 days: the next fits 7 days after the older of them
    assert frequency_cap_until(now, [first, second], weekly, MSK) == first + timedelta(days=7)
    assert frequency_cap_until(first + timedelta(days=7), [first, second], weekly, MSK) is None


def test_null_caps_do_not_limit() -> None:
    unlimited = FrequencyCap(per_day=None, per_week=None, per_30_days=None)
    now = local(MSK, "2026-11-20 12:00")
    many = [now - timedelta(hours=h) for h in range(1, 40)]
    assert frequency_cap_until(now, many, unlimited, MSK) is None
    # Without a daily cap, only the 30-day one counts: a third message today is fine
    monthly = FrequencyCap(per_day=None, per_30_days=3)
    assert frequency_cap_until(now, many[:2], monthly, MSK) is None
    assert frequency_cap_until(now, many[:3], monthly, MSK) == many[2] + timedelta(days=30)


# --- 4. quiet hours ---------------------------------------------------------------------------

WINDOW = QuietHours()  # 09:00–21:00


@pytest.mark.parametrize(
    ("now", "until"),
    [
        ("2026-11-20 08:59", "2026-11-20 09:00"),
        ("2026-11-20 09:00", None),
        ("2026-11-20 14:00", None),
        ("2026-11-20 20:59", None),
        ("2026-11-20 20:59:59", None),
        ("2026-11-20 21:00", "2026-11-21 09:00"),
        ("2026-11-20 23:45", "2026-11-21 09:00"),
        ("2026-11-21 00:00", "2026-11-21 09:00"),
        ("2026-12-31 22:00", "2027-01-01 09:00"),
    ],
)
def test_quiet_hour_boundaries(now: str, until: str | None) -> None:
    found = quiet_hours_until(local(MSK, now), WINDOW, MSK)
    assert found == (local(MSK, until) if until else None)


def test_a_moscow_night_message_to_a_vladivostok_customer_waits_for_vladivostok_morning() -> None:
    # Given 23:30 in Moscow: 06:30 the next morning in Vladivostok
    now = local(MSK, "2026-11-20 23:30")
    # When a reminder asks to go to a customer in Vladivostok
    until = quiet_hours_until(now, WINDOW, VVO)
    # Then it waits until 09:00 Vladivostok time — 02:00 Moscow time
    assert until == local(VVO, "2026-11-21 09:00") == local(MSK, "2026-11-21 02:00")
    # And at 14:00 in Moscow (21:00 in Vladivostok) it is already too late there
    assert quiet_hours_until(local(MSK, "2026-11-20 14:00"), WINDOW, VVO) == local(
        VVO, "2026-11-21 09:00"
    )


@pytest.mark.parametrize("day", ["2026-01-15", "2026-07-15"])
def test_russian_zones_keep_the_same_utc_hours_all_year(day: str) -> None:
    # Vladivostok has no summer time: 09:00 local is 23:00 UTC the day before, winter and summer
    until = quiet_hours_until(local(VVO, f"{day} 07:00"), WINDOW, VVO)
    assert until is not None
    assert until.astimezone(UTC).hour == 23


def test_a_zone_with_summer_time_opens_at_its_local_nine() -> None:
    summer = quiet_hours_until(local(BERLIN, "2026-07-15 07:00"), WINDOW, BERLIN)
    winter = quiet_hours_until(local(BERLIN, "2026-01-15 07:00"), WINDOW, BERLIN)
    assert summer is not None and winter is not None
    assert (summer.astimezone(UTC).hour, winter.astimezone(UTC).hour) == (7, 8)


def test_a_tenant_may_set_its_own_window() -> None:
    late = QuietHours(start=time(10), end=time(20))
    assert quiet_hours_until(local(MSK, "2026-11-20 09:30"), late, MSK) == local(
        MSK, "2026-11-20 10:00"
    )
    with pytest.raises(ValueError, match="start before it ends"):
        QuietHours(start=time(21), end=time(9))


def test_a_window_with_an_offset_is_refused_not_a_crash() -> None:
    # Found by fuzzing PUT /v1/settings/messaging: {"to": "00:00:00Z"} answered 500.
    with pytest.raises(ValueError, match="without an offset"):
        QuietHours.model_validate({"to": "00:00:00Z"})


# --- 3 and 4 together -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "recent", "now", "expected"),
    [
        # marketing in the window, cap free: now
        (M, [], "2026-11-20 12:00", None),
        # marketing at night: held for quiet hours
        (M, [], "2026-11-20 22:00", ("2026-11-21 09:00", Reason.QUIET_HOURS)),
        # marketing capped today: midnight frees the cap, quiet hours move it to 09:00
        (M, ["2026-11-20 10:00"], "2026-11-20 12:00", ("2026-11-21 09:00", Reason.FREQUENCY_CAP)),
        # service is exempt from the cap, not from quiet hours
        (S, ["2026-11-20 10:00"], "2026-11-20 12:00", None),
        (S, [], "2026-11-20 21:00", ("2026-11-21 09:00", Reason.QUIET_HOURS)),
        # transactional is never held
        (T, ["2026-11-20 10:00"], "2026-11-20 03:00", None),
        # a cap that frees in the evening still waits for 09:00 the day after
        (
            M,
            ["2026-10-24 22:30", "2026-11-01 10:00", "2026-11-10 10:00", "2026-11-15 10:00"],
            "2026-11-20 12:00",
            ("2026-11-24 09:00", Reason.FREQUENCY_CAP),
        ),
    ],
)
def test_cap_and_quiet_hours_give_the_first_moment_both_allow(
    purpose: MessagePurpose,
    recent: list[str],
    now: str,
    expected: tuple[str, Reason] | None,
) -> None:
    found = earliest_allowed(
        local(MSK, now),
        purpose,
        recent_marketing=[local(MSK, r) for r in recent],
        cap=CAP,
        hours=WINDOW,
        zone=MSK,
    )
    assert found == ((local(MSK, expected[0]), expected[1]) if expected else None)


def test_a_fallback_of_a_counted_message_does_not_count_again() -> None:
    found = earliest_allowed(
        local(MSK, "2026-11-20 15:00"),
        M,
        recent_marketing=[local(MSK, "2026-11-20 11:00")],
        cap=CAP,
        hours=WINDOW,
        zone=MSK,
        cap_counted=True,
    )
    assert found is None


def test_times_come_back_in_utc_even_for_local_inputs() -> None:
    until = quiet_hours_until(local(MSK, "2026-11-20 22:00"), WINDOW, MSK)
    assert until is not None and until.tzinfo is UTC
    assert until - local(MSK, "2026-11-20 22:00") == timedelta(hours=11)


ZONES = [MSK, VVO, BERLIN, ZoneInfo("Asia/Kamchatka"), ZoneInfo("Europe/Kaliningrad")]


@settings(max_examples=300, deadline=None)
@given(
    now_minutes=st.integers(0, 60 * 24 * 60),
    sent_minutes_ago=st.lists(st.integers(1, 60 * 24 * 40), max_size=6),
    zone=st.sampled_from(ZONES),
    purpose=st.sampled_from(list(MessagePurpose)),
)
def test_the_moment_a_held_message_is_released_is_one_every_guardrail_allows(
    now_minutes: int,
    sent_minutes_ago: list[int],
    zone: ZoneInfo,
    purpose: MessagePurpose,
) -> None:
    # Given any moment and any history of marketing sends
    now = T0 + timedelta(minutes=now_minutes)
    recent = [now - timedelta(minutes=m) for m in sent_minutes_ago]
    found = earliest_allowed(
        now, purpose, recent_marketing=recent, cap=CAP, hours=WINDOW, zone=zone
    )
    if found is None:
        moment = now
    else:
        moment, reason = found
        assert moment > now
        assert reason in {Reason.FREQUENCY_CAP, Reason.QUIET_HOURS}
        assert purpose is not MessagePurpose.TRANSACTIONAL
    # Then at that moment neither the cap nor quiet hours stand in the way
    if purpose is MessagePurpose.MARKETING:
        assert frequency_cap_until(moment, recent, CAP, zone) is None
    if purpose is not MessagePurpose.TRANSACTIONAL:
        assert quiet_hours_until(moment, WINDOW, zone) is None
