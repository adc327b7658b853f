"""Channel settings and provider rate windows in the main table (GetItem/UpdateItem/one Query).

- `T#{tenant}#CHANNELS` / `{channel}`: which provider a tenant configured for a channel and
  when (never the credentials: those live in Parameter Store). Listed with one Query.
- `T#{tenant}#RATE#{scope}#{window}` / `RATE`: a fixed-window counter shared by every worker,
  bumped with one conditional UpdateItem and expiring by TTL a minute after its window.
"""

from dataclasses import dataclass

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from trigly.store import keys
from trigly.store.conditions import held
from trigly.store.models import MainItem, bind

RATE_SK = "RATE"
RATE_ITEM_LIFETIME = 60  # seconds past its window: TTL removes it (reads never need it again)


class ChannelConfigItem(MainItem, discriminator="channel_config"):
    """pk `T#{tenant}#CHANNELS`, sk the channel: its provider (the secret holds credentials)."""

    provider = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    bot_username = UnicodeAttribute(null=True)  # Telegram: the tenant's bot, for t.me links


class RateWindowItem(MainItem, discriminator="rate_window"):
    """pk `T#{tenant}#RATE#{scope}#{window start}`, sk `RATE`: requests counted in the window."""

    n = NumberAttribute(null=True)


@dataclass(frozen=True)
class ChannelConfig:
    channel: str
    provider: str
    updated_at: str
    bot_username: str | None = None


def _channels_pk(tenant_id: str) -> str:
    return f"{keys.tenant(tenant_id)}#CHANNELS"


def save_channel(
    tenant_id: str, channel: str, provider: str, updated_at: str, bot_username: str | None = None
) -> None:
    bind()
    ChannelConfigItem(
        _channels_pk(tenant_id),
        channel,
        provider=provider,
        updated_at=updated_at,
        bot_username=bot_username,
    ).save()


def get_channel(tenant_id: str, channel: str) -> ChannelConfig | None:
    """One channel's setting (a GetItem)."""
    bind()
    try:
        item = ChannelConfigItem.get(_channels_pk(tenant_id), channel)
    except DoesNotExist:
        return None
    return ChannelConfig(item.sk, item.provider, item.updated_at, item.bot_username)


def delete_channel(tenant_id: str, channel: str) -> bool:
    """True when the channel was configured."""
    bind()
    item = ChannelConfigItem(_channels_pk(tenant_id), channel)
    return held(lambda: item.delete(condition=ChannelConfigItem.pk.exists()))


def list_channels(tenant_id: str) -> list[ChannelConfig]:
    bind()
    return [
        ChannelConfig(item.sk, item.provider, item.updated_at, item.bot_username)
        for item in ChannelConfigItem.query(_channels_pk(tenant_id))
    ]


def count_in_window(tenant_id: str, scope: str, window_start: int, limit: int) -> bool:
    """Count one request in the window if it has room: True when counted, False when full."""
    bind()
    item = RateWindowItem(f"{keys.tenant(tenant_id)}#RATE#{scope}#{window_start}", RATE_SK)
    return held(
        lambda: item.update(
            actions=[
                RateWindowItem.n.add(1),
                RateWindowItem.expires_at.set(window_start + RATE_ITEM_LIFETIME),
            ],
            condition=RateWindowItem.n.does_not_exist() | (RateWindowItem.n < limit),
        )
    )
