"""What providers share about a message's content: its link buttons and its address forms."""

from trigly.channels.provider import ProviderRejected
from trigly.messaging.message import StoredMessage

# Button labels of a message's links (CONTRACT §4 purposes), in the order they are shown.
LINK_LABELS = {
    "booking": "Записаться",
    "referral": "Пригласить друга",
    "preferences": "Настройки рассылок",
    "unsubscribe": "Отписаться",
}


def link_buttons(message: StoredMessage) -> list[tuple[str, str]]:
    """(label, url) for each link a messenger can show as a button (click tracking is not one:
    the booking URL is the page itself and records the click)."""
    by_purpose = {link["purpose"]: link["url"] for link in message.links if link.get("url")}
    return [(label, by_purpose[p]) for p, label in LINK_LABELS.items() if p in by_purpose]


def text_of(message: StoredMessage, provider: str) -> str:
    if not message.body:
        raise ProviderRejected(f"{provider}: the message has no text")
    return message.body


def phone_digits(message: StoredMessage, provider: str) -> str:
    """An E.164 phone as providers want it: digits only (`79161234567`)."""
    to = message.to or ""
    digits = to.removeprefix("+")
    if not to.startswith("+") or not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise ProviderRejected(f"{provider}: the recipient is not an E.164 phone number")
    return digits


def linked_id(message: StoredMessage, provider: str, what: str) -> str:
    """A messenger's own user id; a phone number cannot address its users."""
    to = message.to or ""
    if not to or to.startswith("+"):
        raise ProviderRejected(f"{provider}: the customer has not linked a {what}")
    return to
