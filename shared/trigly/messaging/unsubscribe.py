"""Unsubscribing through a message's signed link (CONTRACT §4, RFC 8058 one-click).

The opt-out is recorded at once in the consent ledger with its proof (the link, the message, the
time, the user agent), so the next marketing message on that channel is suppressed as
`unsubscribed`; the dealer's systems get `customer.consent_changed`.
"""

from trigly.events.types import ConsentPurpose
from trigly.messaging.consent_capture import ConsentChange, Proof, capture
from trigly.messaging.customer_links import CustomerLink
from trigly.platform.errors import NotFound

SOURCE = "unsubscribe link"
PURPOSE = "unsubscribe"


def check(link: CustomerLink) -> CustomerLink:
    """An unsubscribe link names the channel its message went by."""
    if link.purpose != PURPOSE or link.channel is None:
        raise NotFound("No such link.")
    return link


def unsubscribe(
    link: CustomerLink, *, method: str, user_agent: str | None, text_version: str | None
) -> None:
    """The marketing opt-out on the link's channel; nothing new when it is already off."""
    check(link)
    assert link.channel is not None
    state = link.profile.consents.get(link.channel, {}).get(ConsentPurpose.MARKETING)
    if state is not None and not state.granted:
        return  # already off: pressed twice, or a mail client's one-click after the button
    capture(
        link,
        [ConsentChange(link.channel, ConsentPurpose.MARKETING, granted=False)],
        Proof(SOURCE, method, text_version=text_version, user_agent=user_agent),
    )
