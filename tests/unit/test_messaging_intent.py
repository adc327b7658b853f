"""Send intents and the message status history: statuses only move forward, callbacks arrive
late, twice and out of order."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from trigly.messaging.intent import (
    HistoryEntry,
    MessagePurpose,
    MessageState,
    MessageStatus,
    Priority,
    Reason,
    SendIntent,
    history_json,
    intent_fingerprint,
    record,
    release_key,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
S = MessageStatus


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def entry(status: MessageStatus, minutes: int, reason: Reason | None = None) -> HistoryEntry:
    until = at(minutes + 60) if status is S.HELD else None
    return HistoryEntry(status=status, at=at(minutes), reason=reason, until=until)


def replay(*facts: HistoryEntry) -> MessageState:
    state = MessageState.queued(T0)
    for fact in facts:
        state, _ = record(state, fact)
    return state


def intent(**fields: object) -> SendIntent:
    base: dict[str, object] = {
        "customer_id": "cus_1",
        "purpose": "service",
        "kind": "maintenance_reminder",
        "template_id": "tpl_to",
        "idempotency_key": "reminder:XTA21099012345678:3:1",
    }
    return SendIntent.model_validate(base | fields)


# --- intents ----------------------------------------------------------------------------------


def test_an_intent_names_purpose_kind_body_and_key_with_safe_defaults() -> None:
    sent = intent()
    assert sent.purpose is MessagePurpose.SERVICE
    assert sent.priority is Priority.NORMAL
    assert sent.when_held.value == "queue_until_allowed"
    assert sent.channels == [] and sent.offer is None


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"text": "Ваш автомобиль готов"}, "exactly one of"),  # template and text
        ({"template_id": None}, "exactly one of"),  # neither
        ({"subject": "Тема"}, "`subject` goes with `text`"),
        ({"channels": ["sms", "sms"]}, "names a channel twice"),
        ({"only_listed_channels": True}, "needs `channels`"),
        ({"kind": "Maintenance Reminder"}, "kind"),
        ({"purpose": "advertising"}, "purpose"),
        ({"channels": ["pigeon"]}, "channels"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_an_intent_that_makes_no_sense_is_refused(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        intent(**fields)


def test_transactional_is_gated_by_the_service_flag_marketing_by_its_own() -> None:
    assert MessagePurpose.TRANSACTIONAL.consent_purpose.value == "service"
    assert MessagePurpose.SERVICE.consent_purpose.value == "service"
    assert MessagePurpose.MARKETING.consent_purpose.value == "marketing"


def test_the_fingerprint_tells_a_replay_from_a_different_body_under_the_same_key() -> None:
    # Given the same request twice, and one with other variables under the same key
    first = intent(variables={"name": "Анна"})
    again = intent(variables={"name": "Анна"})
    other = intent(variables={"name": "Борис"})
    # Then only the different body gets a different fingerprint (→ 409)
    assert intent_fingerprint(first) == intent_fingerprint(again)
    assert intent_fingerprint(first) != intent_fingerprint(other)


def test_held_messages_are_released_highest_priority_first_then_oldest_first() -> None:
    held = [
        ("old normal", Priority.NORMAL, at(0)),
        ("new high", Priority.HIGH, at(30)),
        ("old high", Priority.HIGH, at(10)),
        ("low", Priority.LOW, at(-100)),
    ]
    order = sorted(held, key=lambda h: release_key(h[1], h[2]))
    assert [h[0] for h in order] == ["old high", "new high", "old normal", "low"]


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (Reason.NO_CONSENT, S.SUPPRESSED),
        (Reason.UNSUBSCRIBED, S.SUPPRESSED),
        (Reason.SUPPRESSED_CONTACT, S.SUPPRESSED),
        (Reason.FREQUENCY_CAP, S.SUPPRESSED),
        (Reason.QUIET_HOURS, S.SUPPRESSED),
        (Reason.NO_USABLE_CONTACT, S.SUPPRESSED),
        (Reason.TEMPLATE_ERROR, S.FAILED),
        (Reason.PROVIDER_REJECTED, S.FAILED),
        (Reason.UNKNOWN_OUTCOME, S.FAILED),
    ],
)
def test_every_reason_ends_a_message_in_its_status(reason: Reason, status: MessageStatus) -> None:
    assert reason.terminal_status is status


# --- history ----------------------------------------------------------------------------------


def facts(script: str) -> list[HistoryEntry]:
    """`"sent@1 failed@9:provider_rejected"`: status@minute[:reason] in arrival order."""
    out = []
    for word in script.split():
        status, _, rest = word.partition("@")
        minute, _, reason = rest.partition(":")
        out.append(entry(S(status), int(minute), Reason(reason) if reason else None))
    return out


@pytest.mark.parametrize(
    ("script", "status", "reason"),
    [
        # Given the usual life of a message
        ("sent@1 delivered@2 opened@3", "opened", None),
        ("sent@1 delivered@2 clicked@5", "clicked", None),
        # held for the night, released, sent
        ("held@0:quiet_hours queued@60 sent@61", "sent", None),
        # held, and held again for the cap when the window opened
        ("held@0:quiet_hours held@60:frequency_cap", "held", "frequency_cap"),
        # refused by a guardrail: nothing moves it afterwards
        ("suppressed@0:no_consent sent@1", "suppressed", "no_consent"),
        ("suppressed@0:no_consent suppressed@1:unsubscribed", "suppressed", "no_consent"),
        # failed to render
        ("failed@0:template_error delivered@5", "failed", "template_error"),
        # a provider reports non-delivery after accepting
        ("sent@1 failed@9:provider_rejected", "failed", "provider_rejected"),
        # out of order: delivered arrives after clicked — still clicked
        ("sent@1 clicked@5 delivered@2", "clicked", None),
        ("sent@1 opened@4 delivered@2 sent@1", "opened", None),
        # a failure report after delivery contradicts what is known: ignored
        ("sent@1 delivered@2 failed@3:provider_rejected", "delivered", None),
        # a callback before `sent` was recorded still counts
        ("delivered@2 sent@1", "delivered", None),
        # unknown outcome, then reconciliation finds it was delivered
        ("failed@1:unknown_outcome delivered@3", "delivered", None),
        ("failed@1:unknown_outcome", "failed", "unknown_outcome"),
        # a sent message is not re-queued, a queued one not queued twice
        ("sent@1 queued@2", "sent", None),
        ("queued@2", "queued", None),
    ],
)
def test_status_follows_the_transition_rules(script: str, status: str, reason: str | None) -> None:
    # When the facts arrive in this order
    state = replay(*facts(script))
    # Then the message ends in this status
    assert (state.status.value, state.reason) == (status, reason)


def test_a_late_fact_fills_in_the_history_in_time_order_without_moving_the_status() -> None:
    # Given a click seen before the delivery report
    state = replay(entry(S.SENT, 1), entry(S.CLICKED, 5))
    # When the delivery report arrives
    state, changed = record(state, entry(S.DELIVERED, 2))
    # Then history shows it where it happened, the status stays clicked
    assert changed
    assert [e.status for e in state.history] == [S.QUEUED, S.SENT, S.DELIVERED, S.CLICKED]
    assert state.status is S.CLICKED


def test_a_redelivered_callback_changes_nothing() -> None:
    state = replay(entry(S.SENT, 1), entry(S.DELIVERED, 2))
    again, changed = record(state, entry(S.DELIVERED, 2))
    later, changed_later = record(state, entry(S.DELIVERED, 7))  # the same fact, another stamp
    assert not changed and again is state
    assert not changed_later and later is state


def test_a_held_entry_needs_until_and_only_held_carries_it() -> None:
    with pytest.raises(ValidationError, match="until"):
        HistoryEntry(status=S.HELD, at=T0, reason=Reason.QUIET_HOURS)
    with pytest.raises(ValidationError, match="until"):
        HistoryEntry(status=S.SENT, at=T0, until=T0)


def test_history_is_shown_as_the_api_lists_it() -> None:
    state = replay(entry(S.HELD, 0, Reason.QUIET_HOURS), entry(S.QUEUED, 60), entry(S.SENT, 61))
    assert history_json(state) == [
        {"status": "queued", "at": "2026-11-20T10:00:00Z"},
        {
            "status": "held",
            "at": "2026-11-20T10:00:00Z",
            "reason": "quiet_hours",
            "until": "2026-11-20T11:00:00Z",
        },
        {"status": "queued", "at": "2026-11-20T11:00:00Z"},
        {"status": "sent", "at": "2026-11-20T11:01:00Z"},
    ]
