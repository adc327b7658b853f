"""A per-container cache of rarely changing per-tenant settings (journeys, plans, locations):
hot paths read them at most once a minute or so, and a change made in this container
drops its entry at once."""

import time
from collections.abc import Callable


class TenantCache[T]:
    def __init__(self, load: Callable[[str], T], seconds: float) -> None:
        self._load = load
        self._seconds = seconds
        self._entries: dict[str, tuple[float, T]] = {}

    def get(self, tenant_id: str) -> T:
        hit = self._entries.get(tenant_id)
        moment = time.monotonic()
        if hit is not None and moment - hit[0] < self._seconds:
            return hit[1]
        value = self._load(tenant_id)
        self._entries[tenant_id] = (moment, value)
        return value

    def forget(self, tenant_id: str | None = None) -> None:
        """Drop one tenant's entry (after a change), or every entry (a fresh test stack)."""
        if tenant_id is None:
            self._entries.clear()
        else:
            self._entries.pop(tenant_id, None)
