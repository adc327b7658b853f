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

from trigly.events.types import Channel
from trigly.messaging.intent import MessageStatus
from trigly.platform import clock, tokens
from trigly.platform.errors import Gone, NotFound
from trigly.platform.settings import get_settings
from trigly.store.messages import MessageRef

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


def _url(kind: str, claims: dict[str, Any], expires_at: datetime) -> str:
    base = get_settings().public_url.rstrip("/")
    return f"{base}/l/{kind}/{tokens.sign(claims, expires_at)}"


def track_links(
    body: str,
    *,
    tenant_id: str,
    customer_id: str,
    sk: str,
    public_url: str,
    now: datetime,
    tracked: dict[str, str] | None = None,
) -> tuple[str, list[str]]:
    """The body with every foreign link replaced by its tracking link, and those links
    (`tracked`: target → tracking link, shared with the email's HTML part)."""
    own = f"{public_url.rstrip('/')}/l/" if public_url else None
    tracked = {} if tracked is None else tracked

    def replace(match: re.Match[str]) -> str:
        url = match.group(0).rstrip(".,;:!?")
        tail = match.group(0)[len(url) :]
        if own and url.startswith(own):
            return match.group(0)
        if url not in tracked:
            claims = {**_claims(tenant_id, customer_id, sk, TRACK), "u": url}
            tracked[url] = _url("c", claims, now + LINK_LIFETIME)
        return tracked[url] + tail

    return _URL.sub(replace, body), list(tracked.values())


_HREF = re.compile(r"""(<a\b[^>]*?\bhref=)(["'])(https?://[^"'\s]+)\2""", re.IGNORECASE)


def track_html(
    html: str,
    *,
    tenant_id: str,
    customer_id: str,
    sk: str,
    public_url: str,
    now: datetime,
    tracked: dict[str, str],
) -> tuple[str, list[str]]:
    """An email's HTML with every foreign `<a href>` replaced by its tracking link (the same
    link as the plain-text part's for the same target), and all tracking links so far."""
    from html import escape, unescape

    own = f"{public_url.rstrip('/')}/l/" if public_url else None

    def replace(match: re.Match[str]) -> str:
        url = unescape(match.group(3))
        if own and url.startswith(own):
            return match.group(0)
        if url not in tracked:
            claims = {**_claims(tenant_id, customer_id, sk, TRACK), "u": url}
            tracked[url] = _url("c", claims, now + LINK_LIFETIME)
        return f"{match.group(1)}{match.group(2)}{escape(tracked[url])}{match.group(2)}"

    return _HREF.sub(replace, html), list(tracked.values())


def pixel_url(tenant_id: str, customer_id: str, sk: str, now: datetime) -> str:
    return _url("o", _claims(tenant_id, customer_id, sk, PIXEL), now + LINK_LIFETIME) + ".gif"


def _verified(token: str, purpose: str) -> dict[str, Any] | None:
    try:
        claims = tokens.verify(token)
    except (NotFound, Gone):
        return None
    return claims if claims.get("p") == purpose else None


def _record(claims: dict[str, Any], status: MessageStatus, *, machine: bool = False) -> None:
    ref = MessageRef(str(claims["t"]), str(claims["c"]), f"MSG#{claims['s']}")
    record_on(ref, status, machine=machine)


def record_on(ref: MessageRef, status: MessageStatus, *, machine: bool = False) -> None:
    """`clicked` / `opened` on the message (a tracked link, the pixel, a page the message's
    own link opened)."""
    from trigly.messaging import feedback

    event = feedback.ProviderEvent(
        ref.tenant_id, Channel.EMAIL, "", status, clock.now(), machine=machine
    )
    feedback.apply_to(ref, event)


def click(token: str, *, user_agent: str | None) -> str | None:
    """The target of a tracked link (recording `clicked`), or None for a forged token. An
    expired token still redirects: the customer wanted the page, only the tracking is over."""
    del user_agent  # link scanners click too; a click is kept anyway (it is rare and harmless)
    try:
        claims = tokens.verify(token)
    except NotFound:
        return None
    except Gone:
        return _target_of_expired(token)
    if claims.get("p") != TRACK or not isinstance(claims.get("u"), str):
        return None
    _record(claims, MessageStatus.CLICKED)
    return str(claims["u"])


def _target_of_expired(token: str) -> str | None:
    import base64
    import json

    body = token.partition(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    target = claims.get("u") if claims.get("p") == TRACK else None
    return target if isinstance(target, str) else None


def open_pixel(token: str, *, user_agent: str | None) -> None:
    """Record the open (or, for a likely machine, note it without `opened`)."""
    claims = _verified(token, PIXEL)
    if claims is None:
        return
    from trigly.messaging.message import StoredMessage
    from trigly.store import messages as store

    ref = MessageRef(str(claims["t"]), str(claims["c"]), f"MSG#{claims['s']}")
    loaded = store.load(ref)
    if loaded is None:
        return
    sent_at = StoredMessage.model_validate_json(loaded[0]).sent_at
    machine = likely_machine_open(user_agent, sent_at, clock.now())
    _record(claims, MessageStatus.OPENED, machine=machine)
