"""The pure send path end to end: intent → decision → variables → render → history."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.channels import Recipient
from trigly.messaging.decision import Hold, Refuse, SendNow, decide
from trigly.messaging.intent import (
    HistoryEntry,
    MessageState,
    MessageStatus,
    Reason,
    SendIntent,
    history_json,
    record,
)
from trigly.messaging.policy import MessagingPolicy
from trigly.messaging.rendering import customer_variables, message_variables, render
from trigly.messaging.templates import EmailVariant, MessageTemplate, TemplateError
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.model import ConsentState, CustomerProfile

T0 = datetime(2026, 1, 10, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")
POLICY = MessagingPolicy()

TEMPLATE = MessageTemplate(
    template_id="tpl_to",
    sms=(
        "{{ customer.name }}, ТО {{ car.model }} — {{ due_on|date }}."
        "{% if offer %} Скидка {{ offer.discount }}%.{% endif %}"
    ),
    email=EmailVariant(
        subject="ТО {{ car.model }}",
        html="<p>{{ customer.name }}, ТО {{ car.model }} — {{ due_on|date }}.</p>",
    ),
)


def anna(*, sms_marketing: bool) -> CustomerProfile:
    def given(granted: bool) -> ConsentState:
        return ConsentState(granted=granted, at=T0, source="dms")

    sms = {ConsentPurpose.SERVICE: given(True)}
    if sms_marketing:
        sms[ConsentPurpose.MARKETING] = given(True)
    return CustomerProfile(
        customer_id="cus_anna",
        created_at=T0,
        updated_at=T0,
        first_name="анна",
        middle_name="сергеевна",
        region="RU-SVE",  # Yekaterinburg, UTC+5
        phones=[Contact(value="+79123456789", status=ContactStatus.OK)],
        consents={Channel.SMS: sms},
    )


def reminder() -> SendIntent:
    return SendIntent(
        customer_id="cus_anna",
        purpose="service",
        kind="maintenance_reminder",
        template_id="tpl_to",
        variables={"car": {"model": "Kia Rio"}, "due_on": "2026-11-25"},
        idempotency_key="reminder:XTA21099012345678:3:1",
        offer={"offer_id": "off_oil", "variables": {"discount": 10}},
    )


def changed(intent: SendIntent, **fields: object) -> SendIntent:
    return SendIntent.model_validate(intent.model_dump() | fields)


def send(intent: SendIntent, profile: CustomerProfile, now: datetime) -> tuple[str, MessageState]:
    """What the I/O layer will do, minus the I/O: decide, render, record."""
    state = MessageState.queued(now)
    decision = decide(intent, Recipient(profile), POLICY, now=now, supported=TEMPLATE.channels())
    if not isinstance(decision, SendNow):
        state, _ = record(state, decision.entry(now))
        return "", state
    variables = message_variables(
        intent.variables,
        offer=intent.offer,
        include_offer=decision.route.include_offer,
        customer=customer_variables(profile),
    )
    try:
        rendered = render(TEMPLATE, decision.route.channel, variables, zone=decision.zone.zone)
    except TemplateError:
        state, _ = record(
            state,
            HistoryEntry(status=MessageStatus.FAILED, at=now, reason=Reason.TEMPLATE_ERROR),
        )
        return "", state
    state, _ = record(state, HistoryEntry(status=MessageStatus.SENT, at=now))
    return rendered.text, state


def test_a_reminder_with_an_offer_goes_by_sms_with_the_offer_only_where_consented() -> None:
    # Given Anna in Yekaterinburg at 10:00 her time, with and without SMS marketing consent
    now = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Yekaterinburg"))
    with_offer, state = send(reminder(), anna(sms_marketing=True), now)
    without_offer, _ = send(reminder(), anna(sms_marketing=False), now)
    # Then the reminder goes either way; the offer only with marketing consent
    assert with_offer == "Анна Сергеевна, ТО Kia Rio — 25 ноября. Скидка 10%."
    assert without_offer == "Анна Сергеевна, ТО Kia Rio — 25 ноября."
    assert state.status is MessageStatus.SENT


def test_a_reminder_at_yekaterinburg_night_is_held_for_its_morning() -> None:
    # Given 21:30 in Moscow — 23:30 in Yekaterinburg
    now = datetime(2026, 11, 18, 21, 30, tzinfo=MSK)
    _, state = send(reminder(), anna(sms_marketing=False), now)
    # Then it is held until 09:00 Yekaterinburg time (07:00 Moscow), and the history says so
    assert state.status is MessageStatus.HELD
    assert history_json(state)[-1] == {
        "status": "held",
        "at": "2026-11-18T18:30:00Z",
        "reason": "quiet_hours",
        "until": "2026-11-19T04:00:00Z",
    }


def test_a_variable_the_template_needs_but_the_intent_lacks_fails_the_message() -> None:
    now = datetime(2026, 11, 18, 12, 0, tzinfo=MSK)
    incomplete = changed(reminder(), variables={"car": {"model": "Kia Rio"}})
    text, state = send(incomplete, anna(sms_marketing=False), now)
    assert text == ""
    assert (state.status, state.reason) == (MessageStatus.FAILED, Reason.TEMPLATE_ERROR)


def test_a_marketing_blast_without_consent_is_suppressed_and_never_rendered() -> None:
    now = datetime(2026, 11, 18, 12, 0, tzinfo=MSK)
    blast = changed(reminder(), purpose="marketing", offer=None)
    text, state = send(blast, anna(sms_marketing=False), now)
    assert text == ""
    assert (state.status, state.reason) == (MessageStatus.SUPPRESSED, Reason.NO_CONSENT)


def test_a_held_message_is_released_and_decided_again_when_its_time_comes() -> None:
    now = datetime(2026, 11, 18, 21, 30, tzinfo=MSK)
    first = decide(reminder(), Recipient(anna(sms_marketing=False)), POLICY, now=now)
    assert isinstance(first, Hold)
    # When the hold ends, the same intent is decided again: it goes
    again = decide(reminder(), Recipient(anna(sms_marketing=False)), POLICY, now=first.until)
    assert isinstance(again, SendNow)
    # But had Anna withdrawn her consent meanwhile, it would not
    withdrawn = anna(sms_marketing=False).model_copy(
        update={
            "consents": {
                Channel.SMS: {
                    ConsentPurpose.SERVICE: ConsentState(
                        granted=False, at=now + timedelta(hours=1), source="sms_stop"
                    )
                }
            }
        }
    )
    late = decide(reminder(), Recipient(withdrawn), POLICY, now=first.until)
    assert isinstance(late, Refuse) and late.reason is Reason.UNSUBSCRIBED
