"""Delivery feedback and the suppression list (access patterns 9 and 13, and the suppression
guardrail): every item here is addressed by key, never found by Query or Scan.

- `T#{t}#PMID#{channel}#{provider message id}` / `REF`: a provider's message id → our message,
  written once when the provider accepted it, so a callback finds its message with one GetItem.
- `T#{t}#SUPP#{keyed hash of the contact}` / `SUPP`: the suppression list. Only an HMAC of the
  normalized contact is stored, so an entry survives the customer's erasure without holding the
  contact; `rules` is a string set (`{kind}|{channel or *}|{purpose or *}|{at}`), so adding a
  rule is one idempotent `ADD`.
- `TGBOT#{bot id}` / `TGBOT`: a Telegram bot → its tenant (global, like a connector: the
  webhook path names the bot, not the tenant).
- `T#{t}#TGCHAT#{chat id}` / `LOOKUP`: a Telegram chat → the customer it is linked to.
- `T#{t}#TGLINK#{token}` / `TGLINK`: a short Telegram deep-link token → customer (TTL).
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist

from trigly.store.messages import MessageRef
from trigly.store.models import MainItem, bind

REF_SK = "REF"
SUPP_SK = "SUPP"
BOT_SK = "TGBOT"
CHAT_SK = "LOOKUP"
LINK_SK = "TGLINK"


class ProviderRefItem(MainItem, discriminator="provider_ref"):
    """pk `T#{t}#PMID#{channel}#{provider message id}`: the message a provider's id names."""

    customer_id = UnicodeAttribute()
    message_sk = UnicodeAttribute()


class SuppressionItem(MainItem, discriminator="suppression"):
    """pk `T#{t}#SUPP#{hmac}`: suppression rules for one contact, by keyed hash only."""

    rules = UnicodeSetAttribute(null=True)


class TelegramBotItem(MainItem, discriminator="telegram_bot"):
    """pk `TGBOT#{bot id}`: the tenant a Telegram bot belongs to."""

    tenant_id = UnicodeAttribute()


class TelegramChatItem(MainItem, discriminator="telegram_chat"):
    """pk `T#{t}#TGCHAT#{chat id}`: the customer a chat is linked to."""

    customer_id = UnicodeAttribute()


class TelegramLinkItem(MainItem, discriminator="telegram_link"):
    """pk `T#{t}#TGLINK#{token}`: a deep-link token (`t.me/<bot>?start=<token>`) → customer."""

    customer_id = UnicodeAttribute()
    expires_at = NumberAttribute()


def provider_ref_pk(tenant_id: str, channel: str, provider_message_id: str) -> str:
    return f"T#{tenant_id}#PMID#{channel}#{provider_message_id}"


def suppression_pk(tenant_id: str, digest: str) -> str:
    return f"T#{tenant_id}#SUPP#{digest}"


def telegram_chat_pk(tenant_id: str, chat_id: str) -> str:
    return f"T#{tenant_id}#TGCHAT#{chat_id}"


# --- provider message ids -----------------------------------------------------------------------


def remember_provider_id(
    ref: MessageRef, channel: str, provider_message_id: str, expires_at: datetime
) -> None:
    """Idempotent: the same id always names the same message."""
    bind()
    ProviderRefItem(
        provider_ref_pk(ref.tenant_id, channel, provider_message_id),
        REF_SK,
        customer_id=ref.customer_id,
        message_sk=ref.sk,
        expires_at=int(expires_at.timestamp()),
    ).save()


def find_by_provider_id(
    tenant_id: str, channel: str, provider_message_id: str, now: datetime
) -> MessageRef | None:
    bind()
    try:
        item = ProviderRefItem.get(provider_ref_pk(tenant_id, channel, provider_message_id), REF_SK)
    except DoesNotExist:
        return None
    if item.expires_at is not None and item.expires_at <= now.timestamp():
        return None  # DynamoDB deletes expired items lazily (moto never does)
    return MessageRef(tenant_id, item.customer_id, item.message_sk)


def forget_provider_ids(tenant_id: str, refs: Iterable[tuple[str, str]]) -> None:
    """Delete the lookups of (channel, provider id) pairs (erasure)."""
    bind()
    with ProviderRefItem.batch_write() as batch:
        for channel, provider_message_id in refs:
            batch.delete(
                ProviderRefItem(provider_ref_pk(tenant_id, channel, provider_message_id), REF_SK)
            )


# --- suppression list ---------------------------------------------------------------------------


def add_suppression_rules(tenant_id: str, digest: str, rules: Iterable[str]) -> None:
    """ADD to a set: the same rule twice is one rule."""
    wanted = set(rules)
    if not wanted:
        return
    bind()
    SuppressionItem(suppression_pk(tenant_id, digest), SUPP_SK).update(
        actions=[SuppressionItem.rules.add(wanted)]
    )


def suppression_rules(tenant_id: str, digests: Sequence[str]) -> dict[str, set[str]]:
    """The rules of each digest that has any: one BatchGetItem for all of a customer's
    contacts (a GetItem per contact, batched), never a Query of the list."""
    if not digests:
        return {}
    bind()
    keys = [(suppression_pk(tenant_id, d), SUPP_SK) for d in dict.fromkeys(digests)]
    found: dict[str, set[str]] = {}
    for item in SuppressionItem.batch_get(keys):
        if item.rules:
            found[item.pk.rsplit("#", 1)[1]] = set(item.rules)
    return found


# --- Telegram -----------------------------------------------------------------------------------


def register_bot(bot_id: str, tenant_id: str) -> None:
    bind()
    TelegramBotItem(f"TGBOT#{bot_id}", BOT_SK, tenant_id=tenant_id).save()


def tenant_of_bot(bot_id: str) -> str | None:
    bind()
    try:
        item = TelegramBotItem.get(f"TGBOT#{bot_id}", BOT_SK)
    except DoesNotExist:
        return None
    return item.tenant_id


def save_link_token(tenant_id: str, token: str, customer_id: str, expires_at: datetime) -> None:
    bind()
    TelegramLinkItem(
        f"T#{tenant_id}#TGLINK#{token}",
        LINK_SK,
        customer_id=customer_id,
        expires_at=int(expires_at.timestamp()),
    ).save()


def customer_of_link_token(tenant_id: str, token: str, now: datetime) -> str | None:
    bind()
    try:
        item = TelegramLinkItem.get(f"T#{tenant_id}#TGLINK#{token}", LINK_SK)
    except DoesNotExist:
        return None
    if item.expires_at <= now.timestamp():
        return None
    return item.customer_id


def link_chat(tenant_id: str, chat_id: str, customer_id: str) -> None:
    bind()
    TelegramChatItem(telegram_chat_pk(tenant_id, chat_id), CHAT_SK, customer_id=customer_id).save()


def customer_of_chat(tenant_id: str, chat_id: str) -> str | None:
    bind()
    try:
        item = TelegramChatItem.get(telegram_chat_pk(tenant_id, chat_id), CHAT_SK)
    except DoesNotExist:
        return None
    return item.customer_id


def unlink_chat(tenant_id: str, chat_id: str) -> None:
    bind()
    TelegramChatItem(telegram_chat_pk(tenant_id, chat_id), CHAT_SK).delete()
