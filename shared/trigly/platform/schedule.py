"""Which tenants a scheduled tick should work for: those whose local time is the morning hour."""

from zoneinfo import ZoneInfo

from trigly.platform import clock
from trigly.store import tenants as store

MORNING_HOUR = 8


def tenants_in_morning(hour: int = MORNING_HOUR) -> list[str]:
    """Tenant ids whose local clock (business time) reads `hour`:xx now; one Query, no Scan."""
    now = clock.now()
    return [
        item.tenant_id
        for item in store.list_tenants()
        if now.astimezone(ZoneInfo(item.timezone)).hour == hour
    ]
