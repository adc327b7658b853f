"""Push devices: the dealer's app registers a customer's FCM registration token
(`PUT /v1/customers/{id}/devices/{token}`) and removes it (`DELETE`, the app logged out).

The token is the customer's push address, `profile.linked[push]`, where the send path finds a
linked channel's address (messaging.channels: push goes only when linked). One device per
customer: the latest registration wins (a phone replaced, an app reinstalled: FCM issues a new
token). A removal names its token, so an old install signing out never removes a newer one.
Erasure deletes the profile, and the token with it.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from trigly.events.types import Channel
from trigly.platform.errors import Conflict, NotFound
from trigly.platform.tenancy import Tenant
from trigly.store import customers as customer_store

Platform = Literal["android", "ios"]
MAX_SAVE_ATTEMPTS = 5
# FCM registration tokens: ~150-250 characters of [A-Za-z0-9_:-]; no documented maximum.
TOKEN_PATTERN = r"^[A-Za-z0-9_:\-]{20,4096}$"  # noqa: S105  # a pattern


def register(tenant: Tenant, customer_id: str, token: str, now: datetime) -> bool:
    """The token is the customer's push address; True when it changed."""
    return _update(tenant, customer_id, now, lambda current: token if current != token else None)


def unregister(tenant: Tenant, customer_id: str, token: str, now: datetime) -> bool:
    """The token is no longer the customer's push address; True when it was."""
    return _update(tenant, customer_id, now, lambda current: "" if current == token else None)


def _update(
    tenant: Tenant,
    customer_id: str,
    now: datetime,
    change: Callable[[str | None], str | None],
) -> bool:
    """Apply `change` to the push address (None: leave it; "": remove it), retried on a
    concurrent write of the profile."""
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = customer_store.load_profile(tenant.tenant_id, customer_id)
        if loaded is None:
            raise NotFound("No such customer.")
        profile, version = loaded
        new = change(profile.linked.get(Channel.PUSH))
        if new is None:
            return False
        changed = profile.model_copy(deep=True)
        if new:
            changed.linked[Channel.PUSH] = new
        else:
            changed.linked.pop(Channel.PUSH, None)
        changed.updated_at = now
        try:
            customer_store.save_profile(tenant.tenant_id, changed, version)
        except customer_store.StaleProfile:
            continue
        return True
    raise Conflict("The customer's profile kept changing; try again.")
