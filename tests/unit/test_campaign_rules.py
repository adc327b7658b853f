"""Campaigns' pure parts: the two-proportion test against known values, stable assignment,
the throttle's pace, a recipient's local time, and the request's field errors."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from tests.support import days_ahead
from trigly.campaigns import assign, stats
from trigly.campaigns.model import Campaign, NewCampaign, Variant
from trigly.campaigns.sending import allowed_pages, next_page_at
from trigly.events.types import Channel
from trigly.events.validation import field_errors
from trigly.messaging import progress
from trigly.messaging.channels import fallback_at
from trigly.messaging.decision import local_moment
from trigly.messaging.intent import (
    HistoryEntry,
    MessagePurpose,
    MessageState,
    MessageStatus,
    Reason,
    record,
)
from trigly.messaging.message import StoredMessage
from trigly.messaging.policy import fallback_policy
from trigly.platform import clock


def test_two_proportion_p_values_match_known_results() -> None:
    # R: prop.test(c(200, 150), c(1000, 1000), correct = FALSE) → X² = 8.658, p = 0.003256
    p = stats.two_proportion_p_value(stats.Arm("A", 200, 1000), stats.Arm("B", 150, 1000))
    assert p == pytest.approx(0.003256, abs=1e-6)
    # R: prop.test(c(30, 20), c(500, 500), correct = FALSE) → X² = 2.1053, p = 0.1468
    p = stats.two_proportion_p_value(stats.Arm("A", 30, 500), stats.Arm("B", 20, 500))
    assert p == pytest.approx(0.1468, abs=1e-4)
    # no trials or no variation: nothing can be told
    assert stats.two_proportion_p_value(stats.Arm("A", 0, 0), stats.Arm("B", 5, 10)) == 1.0
    assert stats.two_proportion_p_value(stats.Arm("A", 0, 10), stats.Arm("B", 0, 10)) == 1.0


def test_the_best_variant_wins_only_when_significant() -> None:
    clear = stats.decide(
        [stats.Arm("A", 150, 1000), stats.Arm("B", 200, 1000), stats.Arm("C", 100, 1000)]
    )
    assert (clear.winner, clear.best) == ("B", "B") and clear.p_value < stats.SIGNIFICANT
    close = stats.decide([stats.Arm("A", 30, 500), stats.Arm("B", 20, 500)])
    assert close.winner is None and close.best == "A" and close.p_value > stats.SIGNIFICANT


def test_assignment_is_stable_and_follows_the_weights() -> None:
    variants = [
        Variant(id="A", template_id="t1", weight=70),
        Variant(id="B", template_id="t2", weight=30),
    ]
    customers = [f"cus_{n}" for n in range(20_000)]
    first = [assign.variant_of("cmp_1", c, variants).id for c in customers]
    assert first == [assign.variant_of("cmp_1", c, variants).id for c in customers]
    assert first.count("A") / len(customers) == pytest.approx(0.70, abs=0.015)
    held_out = sum(assign.in_holdout("cmp_1", c, 10) for c in customers)
    assert held_out / len(customers) == pytest.approx(0.10, abs=0.01)
    assert not any(assign.in_holdout("cmp_1", c, 0) for c in customers)
    # another campaign holds out other customers; the global control is the tenant's, stable
    other = {c for c in customers if assign.in_holdout("cmp_2", c, 10)}
    assert other != {c for c in customers if assign.in_holdout("cmp_1", c, 10)}
    control = {c for c in customers if assign.in_global_control("ten_1", c, 5)}
    assert len(control) / len(customers) == pytest.approx(0.05, abs=0.01)


def _campaign(now: datetime, **changes: object) -> Campaign:
    return Campaign.model_validate(
        {
            "id": "cmp_1",
            "name": "Шины",
            "segment_id": "seg_1",
            "purpose": MessagePurpose.MARKETING,
            "variants": [{"id": "A", "template_id": "t", "weight": 100}],
            "send_at": now,
            "created_at": now,
            "pages": 50,
            "page_size": 100,
            "rate_from": now,
            **changes,
        }
    )


def test_the_throttle_releases_pages_at_its_pace() -> None:
    now = clock.now()
    paced = _campaign(now, throttle_per_minute=200)  # two pages of 100 a minute
    assert allowed_pages(paced, now) == 1
    assert allowed_pages(paced, now + timedelta(seconds=29)) == 1
    assert allowed_pages(paced, now + timedelta(seconds=30)) == 2
    assert allowed_pages(paced, now + timedelta(minutes=10)) == 21
    assert allowed_pages(paced, now + timedelta(hours=5)) == 50  # never past the last page
    released = paced.model_copy(update={"released": 3})
    assert next_page_at(released) == now + timedelta(seconds=90)
    # after a resume the pace starts again from the pages released before the pause
    resumed = paced.model_copy(update={"rate_base": 7, "rate_from": now + timedelta(hours=1)})
    assert allowed_pages(resumed, now + timedelta(hours=1)) == 8
    assert allowed_pages(_campaign(now), now) == 50  # no throttle: every page at once


def test_local_time_is_the_next_such_moment_in_the_recipients_zone() -> None:
    vladivostok = ZoneInfo("Asia/Vladivostok")
    start = days_ahead(3, time(8, 0), vladivostok)
    assert local_moment("10:30", start, vladivostok) == start.replace(hour=10, minute=30)
    late = start.replace(hour=11)
    assert local_moment("10:30", late, vladivostok) == (start + timedelta(days=1)).replace(
        hour=10, minute=30
    )
    assert local_moment("10:30", start, vladivostok).astimezone(UTC).hour == 0  # UTC+10


def _errors(body: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        NewCampaign.model_validate(body)
    return {e.field: e.message for e in field_errors(raised.value)}


def test_bad_requests_name_their_fields() -> None:
    base = {"name": "Шины", "segment_id": "seg_1", "purpose": "marketing"}
    two = [
        {"id": "A", "template_id": "t1", "weight": 60},
        {"id": "B", "template_id": "t2", "weight": 30},
    ]
    assert "variants" in _errors({**base, "variants": two})
    assert "holdout_percent" in _errors({**base, "template_id": "t", "holdout_percent": 51})
    assert "local_time" in _errors({**base, "template_id": "t", "local_time": "25:00"})
    assert "local_time" in _errors({**base, "template_id": "t", "local_time": "9:30"})
    assert "variants" in _errors(base)  # neither a template nor variants
    bad_winner = {"metric": "clicked", "test_percent": 20, "decide_after": "two days"}
    fine = [{**two[0], "weight": 70}, two[1]]
    assert "winner.decide_after" in _errors({**base, "variants": fine, "winner": bad_winner})
    assert "send_at" in _errors({**base, "template_id": "t", "send_at": "2030-01-01T10:00:00"})
    NewCampaign.model_validate({**base, "variants": fine})  # weights summing to 100 pass


def test_a_campaign_message_falls_back_only_when_its_channel_failed() -> None:
    now = clock.now()
    sent = MessageState(
        status=MessageStatus.SENT,
        history=(
            HistoryEntry(status=MessageStatus.QUEUED, at=now),
            HistoryEntry(status=MessageStatus.SENT, at=now),
        ),
    )
    failed = MessageState(
        status=MessageStatus.FAILED,
        reason=Reason.PROVIDER_REJECTED,
        history=(
            HistoryEntry(status=MessageStatus.FAILED, at=now, reason=Reason.PROVIDER_REJECTED),
        ),
    )
    campaign = fallback_policy({"fall_back_only_on_failure": True})
    journey = fallback_policy({})
    # no click on Telegram within 4 h: a journey's reminder tries SMS, a campaign's never does
    assert fallback_at(journey, Channel.TELEGRAM, sent, now) == now + timedelta(hours=4)
    assert fallback_at(campaign, Channel.TELEGRAM, sent, now) is None
    assert fallback_at(campaign, Channel.TELEGRAM, failed, now) == now  # a refusal: at once


def _message(state: MessageState, **changes: object) -> StoredMessage:
    return StoredMessage.model_validate(
        {
            "message_id": "msg_1",
            "customer_id": "cus_1",
            "idempotency_key": "campaign/cmp_1/cus_1",
            "kind": "campaign",
            "purpose": "marketing",
            "created_at": clock.now(),
            "state": state,
            "meta": {"campaign_id": "cmp_1", "variant": "A"},
            **changes,
        }
    )


def test_counters_count_what_a_message_newly_reached_cumulatively() -> None:
    now = clock.now()
    queued = MessageState.queued(now)
    sent = record(queued, HistoryEntry(status=MessageStatus.SENT, at=now))[0]
    clicked = record(sent, HistoryEntry(status=MessageStatus.CLICKED, at=now))[0]
    held = MessageState(
        status=MessageStatus.HELD,
        reason=Reason.LOCAL_TIME,
        history=(
            HistoryEntry(status=MessageStatus.HELD, at=now, reason=Reason.LOCAL_TIME, until=now),
        ),
    )
    assert progress.reached(_message(queued)) == {"audience": 1}
    assert progress.reached(_message(held)) == {"audience": 1, "held": 1}
    # a click without a delivery report still counts as delivered (cumulative counts)
    assert progress.reached(_message(clicked)) == {
        "audience": 1,
        "sent": 1,
        "delivered": 1,
        "opened": 1,
        "clicked": 1,
    }
    holdout = record(
        MessageState(), HistoryEntry(status=MessageStatus.SUPPRESSED, at=now, reason=Reason.HOLDOUT)
    )[0]
    assert progress.reached(_message(holdout)) == {"audience": 1, "s_holdout": 1}
    # a follow-up by the next channel is not a second recipient
    assert "audience" not in progress.reached(_message(sent, fallback_of="msg_0"))
