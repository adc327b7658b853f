"""The daily job and due work: which tenants' mornings came in, and each tenant's date triggers
due on a day (read from the `due` index, never scanned), queued one journey message each."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from trigly.journeys.queue import enqueue
from trigly.platform.tenancy import get_tenant_cached, list_tenant_ids_cached
from trigly.store import journeys as store

MORNING_HOUR = 10  # the daily job hands a tenant's due triggers over at 10:00 local time


def mornings(after: datetime, through: datetime) -> list[dict[str, Any]]:
    """One day's job (a journey message) per tenant whose local 10:00 came in
    (`after`, `through`]: the hours the tick covered, so a missed tick's mornings are caught up
    by the next and each morning is queued by one tick only. The job names the days of those
    mornings and the day before the first (a trigger written after that day's job ran); the
    journey worker reads the tenant's due partitions, so the tick stays short however many
    tenants share the hour."""
    bodies = []
    for tenant_id in list_tenant_ids_cached():
        zone = ZoneInfo(get_tenant_cached(tenant_id).timezone)
        day = after.astimezone(zone).date()
        days = []
        while day <= through.astimezone(zone).date():
            if after < datetime.combine(day, time(MORNING_HOUR), zone) <= through:
                days.append(day)
            day += timedelta(days=1)
        if days:
            days.insert(0, days[0] - timedelta(days=1))
            named = [d.isoformat() for d in days]
            bodies.append({"kind": "tenant_day", "tenant_id": tenant_id, "days": named})
    return bodies


def queue_due_triggers(tenant_id: str, days: list[date]) -> int:
    """A tenant's day: every date trigger due on these days, one journey message each (each is
    retried on its own). Reads only the days' partitions of the `due` index."""
    bodies = []
    for day in days:
        partition = store.trigger_partition(tenant_id, day)
        for trigger in store.due_triggers(tenant_id, day):
            bodies.append(
                {
                    "kind": "trigger",
                    "tenant_id": tenant_id,
                    "owner_pk": trigger.owner_pk,
                    "journey_id": trigger.journey_id,
                    "partition": partition,
                    "sk": trigger.sk,
                }
            )
    enqueue(bodies)
    return len(bodies)
