"""The guardrails every message passes, in this order, each with its own reason:

1. consent for the channel and purpose (CONTRACT §3) — `no_consent` / `unsubscribed`;
2. the suppression list (bounced, complained, carrier refusal, unsubscribed) —
   `suppressed_contact` / `unsubscribed`;
3. the frequency cap across all journeys and campaigns (marketing only) — `frequency_cap`;
4. quiet hours in the recipient's time zone (marketing and service) — `quiet_hours`.

1 and 2 are about a channel and its address, so `channels.choose_channel` runs them for each
candidate channel; 3 and 4 are about the customer and run once the channel is known
(`decision.decide`). Each check here is a small pure function of its inputs.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.intent import MessagePurpose, Reason
from trigly.messaging.policy import FrequencyCap, QuietHours
from trigly.profiles.model import CustomerProfile

# --- 1. consent -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentVerdict:
    allowed: bool
    reason: Reason | None = None  # why not, when not allowed
    offer_allowed: bool = False  # an offer block may ride along (marketing consent given)


def _consent(profile: CustomerProfile, channel: Channel, purpose: ConsentPurpose) -> bool | None:
    """True/False as the customer said; None when they never said anything."""
    state = profile.consents.get(channel, {}).get(purpose)
    return None if state is None else state.granted


def check_consent(
    profile: CustomerProfile,
    channel: Channel,
    purpose: MessagePurpose,
    *,
    service_opt_out: bool = False,
) -> ConsentVerdict:
    """CONTRACT §3 guardrail semantics for one channel.

    - marketing needs the channel's `marketing` opt-in;
    - service needs the channel's `service` opt-in, or only the absence of an opt-out where the
      tenant's legal basis allows (`service_opt_out`);
    - transactional goes unless the customer opted out of `service` on the channel.
    A `false` statement is `unsubscribed` (the customer said no); no statement is `no_consent`.
    An offer rides along only with the channel's marketing consent.
    """
    marketing = _consent(profile, channel, ConsentPurpose.MARKETING)
    service = _consent(profile, channel, ConsentPurpose.SERVICE)
    offer_allowed = marketing is True
    if purpose is MessagePurpose.MARKETING:
        given = marketing
        needs_opt_in = True
    elif purpose is MessagePurpose.SERVICE:
        given = service
        needs_opt_in = not service_opt_out
    else:
        given = service
        needs_opt_in = False
    if given is False:
        return ConsentVerdict(allowed=False, reason=Reason.UNSUBSCRIBED)
    if given is None and needs_opt_in:
        return ConsentVerdict(allowed=False, reason=Reason.NO_CONSENT)
    return ConsentVerdict(allowed=True, offer_allowed=offer_allowed)


# --- 2. suppression ---------------------------------------------------------------------------


class SuppressionKind(StrEnum):
    BOUNCED = "bounced"  # hard bounce
    COMPLAINED = "complained"  # marked as spam
    CARRIER_REFUSAL = "carrier_refusal"  # the operator refuses the number (blocked, not a phone)
    UNSUBSCRIBED = "unsubscribed"  # one-click unsubscribe, /stop, a reply "STOP"


class Suppression(BaseModel):
    """An entry of the tenant's suppression list, as the I/O layer found it for this customer's
    addresses (the list itself may hold only keyed hashes; matching is the caller's job).

    `channels` empty: every channel that uses the address. `purpose` None: every message; an
    unsubscribe usually names `marketing` (transactional then still goes, CONTRACT §3).
    """

    model_config = ConfigDict(frozen=True)

    address: str
    kind: SuppressionKind
    channels: frozenset[Channel] = Field(default_factory=frozenset)
    purpose: ConsentPurpose | None = None

    def applies(self, channel: Channel, address: str, purpose: MessagePurpose) -> bool:
        if self.address != address:
            return False
        if self.channels and channel not in self.channels:
            return False
        return self.purpose is None or self.purpose is purpose.consent_purpose


def check_suppression(
    suppressions: Collection[Suppression],
    channel: Channel,
    address: str,
    purpose: MessagePurpose,
) -> Reason | None:
    """`unsubscribed` or `suppressed_contact` when the list refuses this address, else None."""
    hits = [s for s in suppressions if s.applies(channel, address, purpose)]
    if not hits:
        return None
    if all(s.kind is SuppressionKind.UNSUBSCRIBED for s in hits):
        return Reason.UNSUBSCRIBED
    return Reason.SUPPRESSED_CONTACT


# --- 3. frequency cap -------------------------------------------------------------------------


def _local_midnight_after(moment: datetime, zone: ZoneInfo) -> datetime:
    next_day: date = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(next_day, time(0), tzinfo=zone).astimezone(UTC)


def frequency_cap_until(
    now: datetime, recent: Sequence[datetime], cap: FrequencyCap, zone: ZoneInfo
) -> datetime | None:
    """When one more marketing message fits the cap; None when it fits now.

    `recent` are the times of marketing messages already counted for the customer (queued or
    sent), across every journey and campaign. A day is the recipient's calendar day (two
    messages may be an hour apart across midnight, never two on one day); the 7- and 30-day
    windows roll: with four in 30 days, the next goes 30 days after the oldest of them.
    A message counted a moment after `now` counts too: a concurrent sender that read the clock
    later took its place first (messaging/caps.py).
    """
    until: datetime | None = None
    today = now.astimezone(zone).date()
    if cap.per_day is not None and (
        sum(1 for t in recent if t.astimezone(zone).date() == today) >= cap.per_day
    ):
        until = _local_midnight_after(now, zone)
    for window, most in cap.rolling():
        in_window = sorted(t for t in recent if now - window < t)
        if len(in_window) >= most:
            frees = in_window[len(in_window) - most] + window
            until = frees if until is None else max(until, frees)
    return until


# --- 4. quiet hours ---------------------------------------------------------------------------


def quiet_hours_until(now: datetime, hours: QuietHours, zone: ZoneInfo) -> datetime | None:
    """When the recipient's sending window next opens; None when it is open now."""
    local = now.astimezone(zone)
    if hours.start <= local.time() < hours.end:
        return None
    day = local.date() if local.time() < hours.start else local.date() + timedelta(days=1)
    return datetime.combine(day, hours.start, tzinfo=zone).astimezone(UTC)


def held_purpose(purpose: MessagePurpose) -> bool:
    """Quiet hours hold marketing and service; transactional messages go at once."""
    return purpose is not MessagePurpose.TRANSACTIONAL


def capped_purpose(purpose: MessagePurpose) -> bool:
    """The frequency cap counts marketing only; service and transactional are exempt."""
    return purpose is MessagePurpose.MARKETING


def earliest_allowed(
    now: datetime,
    purpose: MessagePurpose,
    *,
    recent_marketing: Sequence[datetime],
    cap: FrequencyCap,
    hours: QuietHours,
    zone: ZoneInfo,
    cap_counted: bool = False,
) -> tuple[datetime, Reason] | None:
    """The first moment both the cap (3) and quiet hours (4) allow the message, and the first
    guardrail that stood in the way; None when it may go now.

    `cap_counted`: the message already took its place under the cap (a fallback to another
    channel of a message sent once is the same message, not another one).
    """
    first: Reason | None = None
    moment = now
    for _ in range(8):  # each step moves forward to a boundary; a few always settle it
        capped = (
            frequency_cap_until(moment, recent_marketing, cap, zone)
            if capped_purpose(purpose) and not cap_counted
            else None
        )
        if capped is not None:
            first = first or Reason.FREQUENCY_CAP
            moment = capped
            continue
        quiet = quiet_hours_until(moment, hours, zone) if held_purpose(purpose) else None
        if quiet is not None:
            first = first or Reason.QUIET_HOURS
            moment = quiet
            continue
        break
    return None if first is None else (moment, first)
