"""Places under the marketing frequency cap, taken atomically (ARCHITECTURE pattern 10).

The cap was a read of the customer's recent messages followed by a write of the new one: two
sends deciding at once both saw room and both went. Now each customer has one ledger item
listing the marketing messages counted under the cap (message id, when queued) for the longest
window; a decision reads it (one GetItem), checks every window against it (the recipient's
calendar day, rolling 7 and 30 days: `guardrails.frequency_cap_until`) and takes its place with
a put conditional on the version it read. A second sender that read the same version loses the
write, reads again and decides again — held until the cap frees, or sent if there is still room.

What counts (the rule the dealer sees, docs/channels.md): a marketing message takes its place
when it is queued for a channel. It gives the place back when it ends without reaching any
provider — the provider refused it (`provider_rejected`) or its channel had no provider
(`channel_not_configured`); a follow-up on the next channel then takes a place of its own.
Held, suppressed and failed-before-queueing messages never took one. A message a provider
accepted keeps its place whatever happens after (`unknown_outcome`, `undelivered`: it may have
reached the customer), and a fallback of it shares that place.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from trigly.messaging.intent import Reason
from trigly.platform.observability import logger
from trigly.store import caps as store

# Slots older than the longest window (`policy.THIRTY_DAYS`, plus a day: a calendar day may start
# before it) go. Not imported from the policy module, whose pydantic models the channel worker
# does not otherwise load (ADR 0019; a unit test keeps the two equal).
KEPT = timedelta(days=31)
_ATTEMPTS = 5
# A message that failed for these never reached a provider: its place is given back.
NEVER_WENT = frozenset({Reason.PROVIDER_REJECTED, Reason.CHANNEL_NOT_CONFIGURED})


@dataclass(frozen=True)
class Ledger:
    slots: tuple[tuple[str, datetime], ...]  # (message id, counted at), oldest first
    version: int | None  # None: no ledger stored yet

    def times(self, excluding: str | None = None) -> list[datetime]:
        """When the counted messages went; `excluding` a message's own place (a retry of a
        send that took it, or a second worker finishing the same claimed message, must not
        find itself in the way)."""
        return [at for held, at in self.slots if held != excluding]

    def holds(self, message_id: str) -> bool:
        return any(held == message_id for held, _ in self.slots)


def read(tenant_id: str, customer_id: str) -> Ledger:
    found = store.get_ledger(tenant_id, customer_id)
    if found is None:
        return Ledger((), None)
    slots = tuple((m, datetime.fromisoformat(at)) for m, at in json.loads(found[0]))
    return Ledger(slots, found[1])


def _write(
    tenant_id: str, customer_id: str, slots: list[tuple[str, datetime]], version: int | None
) -> bool:
    doc = json.dumps([[m, at.isoformat()] for m, at in sorted(slots, key=lambda s: s[1])])
    return store.put_ledger(tenant_id, customer_id, doc, version)


def take(tenant_id: str, customer_id: str, ledger: Ledger, message_id: str, at: datetime) -> bool:
    """Take the message's place, if the ledger is still as read; False: another sender wrote
    first (read again and decide again). Taking a place the message already holds (a retry of
    the same send) succeeds without a write."""
    if ledger.holds(message_id):
        return True
    kept = [(m, t) for m, t in ledger.slots if at - t < KEPT]
    return _write(tenant_id, customer_id, [*kept, (message_id, at)], ledger.version)


def give_back(tenant_id: str, customer_id: str, message_id: str) -> None:
    """The message never reached a provider: its place frees (see the module)."""
    for _ in range(_ATTEMPTS):
        ledger = read(tenant_id, customer_id)
        if not ledger.holds(message_id):
            return
        kept = [(m, t) for m, t in ledger.slots if m != message_id]
        if _write(tenant_id, customer_id, kept, ledger.version):
            return
    # Contended past every attempt: the place stays taken (one message fewer, never one more).
    logger.warning("cap place not given back", extra={"message_id": message_id})
