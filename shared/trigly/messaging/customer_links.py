"""Signed customer links (`/l/{token}`, CONTRACT §4): minting them for a message, and opening one.

Claims: `t` tenant, `c` customer, `p` purpose (`unsubscribe`, `preferences`, `booking`, ...),
`ch` the channel the message went by, `m` the message. Opening verifies the signature and the
expiry (404 forged or tampered, 410 expired) and that the customer still exists (an erased
customer's links are 404), so a page only ever shows the customer its token names.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from trigly.events.types import Channel
from trigly.platform import tenancy, tokens
from trigly.platform.errors import NotFound
from trigly.profiles.model import CustomerProfile
from trigly.store import customers as customer_store
from trigly.store.messages import MessageRef

# Links in messages stay valid for a year (an old newsletter's way out must still work).
LINK_LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class CustomerLink:
    tenant: tenancy.Tenant
    customer_id: str
    profile: CustomerProfile
    purpose: str
    channel: Channel | None  # the channel the message went by
    message_id: str | None
    token_id: str  # a hash of the token: names the link in proofs without storing it
    vin: str | None = None  # the car a booking link is about
    message_sk: str | None = None  # the message a link was minted for (a campaign's booking)

    @property
    def message_ref(self) -> MessageRef | None:
        """The message whose link this is, when the link names one (`s`)."""
        if self.message_sk is None:
            return None
        return MessageRef(self.tenant.tenant_id, self.customer_id, f"MSG#{self.message_sk}")

    @property
    def claims(self) -> dict[str, str]:
        return {"t": self.tenant.tenant_id, "c": self.customer_id, "p": self.purpose}


def url_for(
    purpose: str,
    tenant_id: str,
    customer_id: str,
    now: datetime,
    *,
    channel: Channel | None = None,
    message_id: str | None = None,
    lifetime: timedelta = LINK_LIFETIME,
) -> str:
    """A signed `/l/{token}` URL for the customer (the public base URL of the deployment)."""
    claims = {"t": tenant_id, "c": customer_id, "p": purpose}
    if channel is not None:
        claims["ch"] = channel.value
    if message_id is not None:
        claims["m"] = message_id
    return tokens.link(claims, now + lifetime)


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def open_link(token: str) -> CustomerLink:
    """The link's customer and purpose; forged, tampered or foreign 404, expired 410."""
    claims = tokens.verify(token)
    try:
        tenant = tenancy.get_tenant_cached(str(claims["t"]))
        customer_id = str(claims["c"])
        purpose = str(claims["p"])
        channel = Channel(str(claims["ch"])) if "ch" in claims else None
    except (KeyError, ValueError) as error:
        raise NotFound("No such link.") from error
    loaded = customer_store.load_profile(tenant.tenant_id, customer_id)
    if loaded is None:
        raise NotFound("No such link.")  # the customer was erased
    message_id = str(claims["m"]) if "m" in claims else None
    vin = str(claims["v"]) if claims.get("v") else None
    message_sk = str(claims["s"]) if claims.get("s") else None
    return CustomerLink(
        tenant,
        customer_id,
        loaded[0],
        purpose,
        channel,
        message_id,
        token_id(token),
        vin,
        message_sk,
    )
