"""A campaign's counters follow its messages: each save of a message that carries
`meta.campaign_id` adds what the message newly reached (CONTRACT §6 `counts`, cumulative: a
delivered message counts in `sent` too) to the campaign's counter items, one UpdateItem.

Counted after the message's versioned save succeeded, so a lost race counts nothing; a crash
between the save and the count loses that one count (never counts twice).
"""

from trigly.messaging.intent import MessageStatus
from trigly.messaging.message import StoredMessage
from trigly.store import campaigns as store

_LADDER = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.OPENED,
    MessageStatus.CLICKED,
)


def reached(message: StoredMessage | None) -> dict[str, int]:
    """What the message counts for: `audience` (its variant's), `sent`, `delivered`, `opened`,
    `clicked`, `booked`, `failed`, `s_{reason}` (suppressed), and `held` while it waits."""
    if message is None:
        return {}
    state = message.state
    seen = {entry.status for entry in state.history} | {state.status}
    flags: dict[str, int] = {}
    if message.fallback_of is None:
        flags["audience"] = 1  # a follow-up by the next channel is the same recipient
    for rank, status in enumerate(_LADDER):
        if any(_LADDER.index(s) >= rank for s in seen if s in _LADDER):
            flags[status.value] = 1
    if state.status is MessageStatus.HELD:
        flags["held"] = 1  # waits (local time, quiet hours, cap): the campaign is not over
    if state.status is MessageStatus.FAILED:
        flags["failed"] = 1
    if state.status is MessageStatus.SUPPRESSED and state.reason is not None:
        flags[f"s_{state.reason.value}"] = 1
    if message.meta.get("booked_at"):
        flags["booked"] = 1
    return flags


def note(tenant_id: str, before: StoredMessage | None, after: StoredMessage) -> None:
    """Count what a saved campaign message newly reached (nothing for other messages)."""
    campaign_id = after.meta.get("campaign_id")
    if not campaign_id:
        return
    now, then = reached(after), reached(before)
    deltas = {name: now.get(name, 0) - then.get(name, 0) for name in {*now, *then}}
    variant = after.meta.get("variant") or "-"
    store.add_counts(tenant_id, campaign_id, variant, after.customer_id, deltas)
