"""One decision for one message: send now on channel X to address Y, hold until T, or refuse.

`decide` applies the guardrails in their order (see `guardrails`): consent and suppression while
choosing the channel, then the frequency cap, then quiet hours. It reads nothing and writes
nothing; the caller gives it the customer, the tenant's policy, the suppression entries for the
customer's addresses, the marketing messages already counted and the time.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from trigly.events.types import Channel
from trigly.messaging.channels import Recipient, Route, Skipped, choose_channel
from trigly.messaging.guardrails import Suppression, capped_purpose, earliest_allowed
from trigly.messaging.intent import (
    HistoryEntry,
    HoldPolicy,
    MessageStatus,
    Reason,
    SendIntent,
)
from trigly.messaging.policy import MessagingPolicy
from trigly.messaging.timezones import ResolvedZone, resolve_zone


@dataclass(frozen=True)
class SendNow:
    route: Route
    zone: ResolvedZone
    counts_against_cap: bool  # a marketing message: the caller claims its place under the cap
    skipped: tuple[Skipped, ...] = ()
    action: Literal["send"] = "send"

    def entry(self, at: datetime) -> HistoryEntry | None:
        return None  # `sent` is recorded once the provider accepted it


@dataclass(frozen=True)
class Hold:
    """Not now: re-decide at `until` (consent may change meanwhile; the route is a forecast)."""

    until: datetime
    reason: Reason  # frequency_cap or quiet_hours: the first guardrail in the way
    route: Route
    zone: ResolvedZone
    skipped: tuple[Skipped, ...] = ()
    action: Literal["hold"] = "hold"

    def entry(self, at: datetime) -> HistoryEntry:
        return HistoryEntry(status=MessageStatus.HELD, at=at, reason=self.reason, until=self.until)


@dataclass(frozen=True)
class Refuse:
    reason: Reason
    skipped: tuple[Skipped, ...] = ()
    action: Literal["refuse"] = "refuse"

    @property
    def status(self) -> MessageStatus:
        return self.reason.terminal_status  # `failed` for template_error, else `suppressed`

    def entry(self, at: datetime) -> HistoryEntry:
        return HistoryEntry(status=self.status, at=at, reason=self.reason)


Decision = SendNow | Hold | Refuse


def decide(
    intent: SendIntent,
    recipient: Recipient,
    policy: MessagingPolicy,
    *,
    now: datetime,
    suppressions: Collection[Suppression] = (),
    recent_marketing: Sequence[datetime] = (),
    tried: Collection[Channel] = (),
    supported: Collection[Channel] | None = None,
    configured: Collection[Channel] | None = None,
    cap_counted: bool = False,
) -> Decision:
    """Where, when or why not this message goes.

    `recent_marketing`: times of the customer's marketing messages already counted under the
    cap (every journey and campaign). `tried`: channels this message already went by.
    `supported`: channels the template has a variant for. `configured`: channels the tenant
    has a provider for (None: every channel, sandbox mode). `cap_counted`: this message already
    holds its place under the cap (a fallback of a marketing message that reached the customer).
    """
    choice = choose_channel(
        recipient,
        intent,
        policy,
        suppressions=suppressions,
        tried=tried,
        supported=supported,
        configured=configured,
    )
    if choice.route is None:
        assert choice.reason is not None
        return Refuse(choice.reason, choice.skipped)
    zone = resolve_zone(
        recipient.profile,
        location_timezone=recipient.location_timezone,
        tenant_timezone=policy.timezone,
    )
    if intent.local_time is not None:
        wanted = local_moment(intent.local_time, intent.not_before or now, zone.zone)
        if wanted > now:  # re-decided then: the guardrails below apply at that moment
            return Hold(wanted, Reason.LOCAL_TIME, choice.route, zone, choice.skipped)
    wait = earliest_allowed(
        now,
        intent.purpose,
        recent_marketing=recent_marketing,
        cap=policy.cap,
        hours=policy.quiet_hours,
        zone=zone.zone,
        cap_counted=cap_counted,
    )
    if wait is None:
        counts = capped_purpose(intent.purpose) and not cap_counted
        return SendNow(choice.route, zone, counts_against_cap=counts, skipped=choice.skipped)
    until, reason = wait
    if intent.when_held is HoldPolicy.SKIP:
        return Refuse(reason, choice.skipped)
    return Hold(until, reason, choice.route, zone, choice.skipped)


def local_moment(hh_mm: str, start: datetime, zone: ZoneInfo) -> datetime:
    """The first moment on or after `start` when the clock in `zone` shows `hh_mm`."""
    wall = time.fromisoformat(hh_mm)
    local = start.astimezone(zone)
    for days in range(3):  # today, or tomorrow (a time skipped by a clock change: the day after)
        candidate = datetime.combine(local.date() + timedelta(days=days), wall, zone)
        if candidate >= start and candidate.astimezone(zone).time() == wall:
            return candidate
    return start
