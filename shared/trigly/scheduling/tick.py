"""The hourly tick reads what fell due since the hours it last covered and queues it; every
decision (release a held message, follow up by the next channel, advance a run, start the
morning's journeys) runs in the journey worker, one queue message at a time, each retried on
its own and idempotent.

A watermark records how far the tick got. Each tick covers the hours from the watermark to now,
so a tick that did not run (an outage, a throttled or failed invocation) leaves its hours to the
next: nothing due is left behind. A tick takes a lease on the watermark before it reads and
moves it on after it queued, both conditional on the version it read, so two overlapping ticks
never cover the same hours; a tick that died holding the lease is taken over when the lease
runs out (its hours are queued again: the consumers are idempotent). A backlog is read in
bounded slices, `limit` items a tick (whole hours), the next tick continuing where it stopped.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from trigly.journeys.due import mornings
from trigly.journeys.queue import enqueue
from trigly.platform.observability import logger
from trigly.store import due
from trigly.store.due_hours import HOUR

MAX_QUEUED = 50_000  # items a tick queues (≈ 5,000 SendMessageBatch, well inside its 300 s)
# How far back a tick reaches: an outage longer than this is an incident to replay by hand,
# not a backlog to send days late (the buckets' markers live longer: due_hours.MARK_LIFETIME).
CATCH_UP = timedelta(days=3)
LEASE = timedelta(minutes=10)  # longer than the function's timeout (template.yaml: 300 s)


@dataclass(frozen=True)
class TickResult:
    held_messages: int = 0
    fallbacks: int = 0
    runs: int = 0
    tenant_days: int = 0
    campaigns: int = 0
    after: datetime | None = None  # the hours covered: (after, through]
    through: datetime | None = None
    caught_up: bool = True  # False: the limit stopped it; the next tick continues
    busy: bool = False  # another tick holds the lease: this one did nothing


def catch_up_from(through: datetime | None, now: datetime) -> datetime:
    """Where this tick starts: the watermark, at most `CATCH_UP` back. The first tick ever, or
    a watermark ahead of the clock (a clock set back: the local stack's tests), starts an hour
    back, as a tick after a punctual one does."""
    if through is None or through > now:
        return now - HOUR
    if through < now - CATCH_UP:
        logger.warning("tick: work due before the catch-up horizon was not read")
        return now - CATCH_UP
    return through


def hourly_tick(now: datetime, limit: int = MAX_QUEUED) -> TickResult:
    seen = due.read_watermark()
    if seen.lease_until is not None and now < seen.lease_until <= now + LEASE:
        return TickResult(busy=True)  # another tick is at work on these hours
    leased = due.take_lease(seen, now + LEASE)
    if leased is None:
        return TickResult(busy=True)  # another tick took them first
    after = catch_up_from(seen.through, now)
    try:
        work = due.due_work(after, now, limit)
        days = mornings(after, work.through)
        enqueue(
            [
                *({"kind": "run", **vars(r)} for r in work.runs),
                *({"kind": "held_message", **vars(m)} for m in work.messages),
                *({"kind": "fallback", **vars(m)} for m in work.fallbacks),
                *(
                    {"kind": "campaign", "tenant_id": t, "campaign_id": c}
                    for t, c in work.campaigns
                ),
                *days,
            ]
        )
    except Exception:
        due.give_back(leased)  # Lambda's retry of this tick covers the same hours
        raise
    if not due.advance_watermark(leased, work.through):
        logger.warning("tick: the lease ran out before the watermark moved on")
    return TickResult(
        held_messages=len(work.messages),
        fallbacks=len(work.fallbacks),
        runs=len(work.runs),
        tenant_days=len(days),
        campaigns=len(work.campaigns),
        after=after,
        through=work.through,
        caught_up=work.through == now,
    )
