"""Click tracking and email opens (CONTRACT §4): signed `/l/{token}` links, no stored items.

A link in a message body (other than Trigly's own `/l/` links: booking, unsubscribe,
preferences) is replaced by a tracking token bound to the tenant, the customer, the message and
the target URL; opening it records `clicked` and redirects (303) to the target. An email carries
a 1×1 pixel `/l/{token}.gif` whose fetch records `opened` — unless it looks like a machine: mail
privacy proxies and scanners (Apple Mail Privacy Protection, Gmail's image proxy, security
gateways) fetch every image, often within seconds of delivery. Such an open is noted on the
message (`machine_opened_at`) but does not move its status to `opened`.
"""

import re
from datetime import datetime, timedelta
from typing import Any

from trigly.platform import tokens

TRACK = "trk"
PIXEL = "px"
LINK_LIFETIME = timedelta(days=180)
# An image fetched this soon after sending was fetched by a machine, not read by a person.
MACHINE_OPEN_WITHIN = timedelta(seconds=10)
_MACHINE_AGENTS = re.compile(
    r"GoogleImageProxy|YahooMailProxy|ggpht\.com|Barracuda|Mimecast|Proofpoint|"
    r"python-requests|curl/|Go-http-client|bot\b|crawler|spider|"
    # Apple Mail Privacy Protection fetches with a bare "Mozilla/5.0" (no platform details).
    r"^Mozilla/5\.0$",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def likely_machine_open(user_agent: str | None, sent_at: datetime | None, at: datetime) -> bool:
    if not user_agent or _MACHINE_AGENTS.search(user_agent.strip()):
        return True
    return sent_at is not None and at - sent_at < MACHINE_OPEN_WITHIN


def _claims(tenant_id: str, customer_id: str, sk: str, purpose: str) -> dict[str, Any]:
    return {"t": tenant_id, "c": customer_id, "s": sk.removeprefix("MSG#"), "p": purpose}


def track_links(
    body: str, *, tenant_id: str, customer_id: str, sk: str, public_url: str, now: datetime
) -> tuple[str, list[str]]:
    """The body with every foreign link replaced by its tracking link, and those links."""
    own = f"{public_url.rstrip('/')}/l/" if public_url else None
    tracked: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        url = match.group(0).rstrip(".,;:!?")
        tail = match.group(0)[len(url) :]
        if own and url.startswith(own):
            return match.group(0)
        if url not in tracked:
            claims = {**_claims(tenant_id, customer_id, sk, TRACK), "u": url}
            tracked[url] = tokens.link(claims, now + LINK_LIFETIME)
        return tracked[url] + tail

    return _URL.sub(replace, body), list(tracked.values())


def pixel_url(tenant_id: str, customer_id: str, sk: str, now: datetime) -> str:
    return tokens.link(_claims(tenant_id, customer_id, sk, PIXEL), now + LINK_LIFETIME) + ".gif"
