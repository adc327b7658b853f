"""Inbound channel traffic that is not a delivery status: Telegram updates (linking a chat to a
customer, `/stop`) and the secrets that protect provider callbacks.

Telegram (`POST /v1/telegram/{bot_id}/webhook`, CONTRACT §4): the bot's tenant is found by the
bot id (`TGBOT#{bot id}`, registered when the tenant connects its bot); the request must carry
`X-Telegram-Bot-Api-Secret-Token` equal to the secret Trigly gave Telegram in `setWebhook`
(`channels.configuration.webhook_secret`: an HMAC of tenant and bot under the link-signing key,
so nothing is stored).

- `/start <token>`: the customer opened `t.me/<bot>?start=<token>` from an SMS or email (the
  template's `links.telegram`, or the link `POST /v1/customers/{id}/telegram-link` gives a
  manager); the token (random, 22 chars — Telegram allows 64 of `[A-Za-z0-9_-]`) names the
  customer; the chat is
  linked as the customer's Telegram address (`profile.linked`), and the customer's own action
  is recorded as their `service` consent for Telegram (source `telegram /start`).
- a shared contact (the "share my phone" button; only the sender's own contact counts) links
  the chat to the one customer with that phone; an unknown or ambiguous phone links nothing.
- `/stop`: Telegram marketing and service are withdrawn in the consent ledger (source
  `telegram /stop`) and the chat goes on the suppression list.

The webhook answers with a Bot API method in the response body (`sendMessage`), so replies need
no bot token here.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging import suppression
from trigly.messaging.guardrails import SuppressionKind
from trigly.platform import clock, tenancy, tokens
from trigly.platform.errors import Unauthorized
from trigly.profiles import service as profiles
from trigly.profiles.contacts import phone_search_key
from trigly.profiles.ordering import event_stamp
from trigly.profiles.upsert import ConsentStatement
from trigly.store import customers as customer_store
from trigly.store import feedback as store

TRIGLY = "trigly"  # the consent ledger's connector for statements Trigly captured itself
LINK_TOKEN_LIFETIME = timedelta(days=30)
MAX_SAVE_ATTEMPTS = 5


# --- secrets of callback URLs and webhooks -------------------------------------------------------


def callback_secret(tenant_id: str, provider: str) -> str:
    """The secret path segment of an SMS provider's callback URL (SMS.ru signs nothing)."""
    return tokens.keyed_digest("sms-callback", f"{tenant_id}:{provider}")


def check_callback_secret(tenant_id: str, provider: str, given: str) -> None:
    # Any link key still honoured: a key rotation does not break a registered callback URL.
    if not tokens.keyed_digest_matches("sms-callback", f"{tenant_id}:{provider}", given):
        raise Unauthorized("Bad callback secret.")


def check_hub_signature(app_secret: str, body: bytes, header: str | None) -> None:
    """WhatsApp (Meta) webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`."""
    import hashlib

    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not header or not hmac.compare_digest(expected, header.strip()):
        raise Unauthorized("Bad signature.")


# --- Telegram ------------------------------------------------------------------------------------


def link_token(tenant_id: str, customer_id: str, now: datetime) -> str:
    """A deep-link token for `t.me/<bot>?start=<token>` (stored with a TTL, 30 days)."""
    token = secrets.token_urlsafe(16)
    store.save_link_token(tenant_id, token, customer_id, now + LINK_TOKEN_LIFETIME)
    return token


def deep_link(tenant_id: str, customer_id: str, now: datetime) -> str | None:
    """`https://t.me/<bot>?start=<token>` for this customer, or None when the tenant has
    connected no Telegram bot (`PUT /v1/channels/telegram`). Each call is a new token."""
    from trigly.channels import configuration, telegram

    username = configuration.telegram_bot(tenant_id)
    if username is None:
        return None
    return telegram.deep_link(username, link_token(tenant_id, customer_id, now))


@dataclass(frozen=True)
class Reply:
    chat_id: int | str
    text: str

    def as_method(self) -> dict[str, Any]:
        return {"method": "sendMessage", "chat_id": self.chat_id, "text": self.text}


def authenticate_bot(bot_id: str, secret_header: str | None) -> str:
    """The bot's tenant, or 401 (an unknown bot answers like a bad secret)."""
    tenant_id = store.tenant_of_bot(bot_id)
    if tenant_id is None or not secret_header:
        raise Unauthorized("Bad secret token.")
    # Any link key still honoured: the webhook was registered with the key current back then.
    if not tokens.keyed_digest_matches("telegram-webhook", f"{tenant_id}:{bot_id}", secret_header):
        raise Unauthorized("Bad secret token.")
    return tenant_id


def handle_update(tenant_id: str, update: dict[str, Any]) -> Reply | None:
    message = update.get("message") or {}
    chat_id = (message.get("chat") or {}).get("id")
    if chat_id is None:
        return None  # edited messages, callbacks, channel posts: nothing to do
    text = str(message.get("text") or "").strip()
    now = clock.now()
    if text.startswith("/start"):
        return _start(tenant_id, chat_id, text.removeprefix("/start").strip(), now)
    contact = message.get("contact")
    if contact:
        sender = (message.get("from") or {}).get("id")
        if contact.get("user_id") != sender:
            return Reply(chat_id, "Поделитесь, пожалуйста, своим номером.")
        return _link_by_phone(tenant_id, str(chat_id), str(contact.get("phone_number", "")), now)
    if text.startswith("/stop"):
        _stop(tenant_id, str(chat_id), now)
        return Reply(chat_id, "Вы отписались: сообщений в Telegram больше не будет.")
    return None


def _start(tenant_id: str, chat_id: int | str, token: str, now: datetime) -> Reply:
    customer_id = store.customer_of_link_token(tenant_id, token, now) if token else None
    if customer_id is None:
        return Reply(chat_id, "Ссылка устарела. Попросите у дилера новую.")
    _link(tenant_id, customer_id, str(chat_id), now, source="telegram /start")
    return Reply(chat_id, "Готово: теперь напоминания о сервисе будут приходить сюда.")


def _link_by_phone(tenant_id: str, chat_id: str, phone: str, now: datetime) -> Reply:
    tenant = tenancy.get_tenant_cached(tenant_id)
    key = phone_search_key(phone if phone.startswith("+") else f"+{phone}", tenant.default_country)
    found = customer_store.customers_with_phone(tenant_id, key) if key else set()
    if len(found) != 1:
        return Reply(chat_id, "Не нашли вас по этому номеру. Обратитесь к дилеру.")
    _link(tenant_id, next(iter(found)), chat_id, now, source="telegram contact")
    return Reply(chat_id, "Готово: теперь напоминания о сервисе будут приходить сюда.")


def _link(tenant_id: str, customer_id: str, chat_id: str, now: datetime, *, source: str) -> None:
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = customer_store.load_profile(tenant_id, customer_id)
        if loaded is None:
            return
        profile, version = loaded
        if profile.linked.get(Channel.TELEGRAM) == chat_id:
            break
        changed = profile.model_copy(deep=True)
        changed.linked[Channel.TELEGRAM] = chat_id
        changed.updated_at = now
        try:
            customer_store.save_profile(tenant_id, changed, version)
        except customer_store.StaleProfile:
            continue
        break
    store.link_chat(tenant_id, chat_id, customer_id)
    _consent(
        tenant_id,
        customer_id,
        purpose=ConsentPurpose.SERVICE,
        granted=True,
        now=now,
        source=source,
        chat_id=chat_id,
    )


def _stop(tenant_id: str, chat_id: str, now: datetime) -> None:
    customer_id = store.customer_of_chat(tenant_id, chat_id)
    for purpose in (ConsentPurpose.MARKETING, ConsentPurpose.SERVICE):
        suppression.add(
            tenant_id, Channel.TELEGRAM, chat_id, SuppressionKind.UNSUBSCRIBED, now, purpose=purpose
        )
    if customer_id is None:
        return
    for purpose in (ConsentPurpose.MARKETING, ConsentPurpose.SERVICE):
        _consent(
            tenant_id,
            customer_id,
            purpose=purpose,
            granted=False,
            now=now,
            source="telegram /stop",
            chat_id=chat_id,
        )


def _consent(
    tenant_id: str,
    customer_id: str,
    *,
    purpose: ConsentPurpose,
    granted: bool,
    now: datetime,
    source: str,
    chat_id: str,
) -> None:
    statement = ConsentStatement(
        channel=Channel.TELEGRAM,
        purpose=purpose,
        granted=granted,
        at=now,
        source=source,
        text_version=None,
    )
    profiles.record_consent(
        tenancy.get_tenant_cached(tenant_id),
        customer_id,
        statement,
        connector_id=TRIGLY,
        event_id=f"telegram:{chat_id}:{purpose.value}:{int(granted)}:{now.timestamp():.0f}",
        stamp=event_stamp(now, now, 0),
    )
