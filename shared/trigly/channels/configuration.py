"""Setting a tenant's channel providers: credentials are written to Parameter Store (write-only,
never read back by the API), the provider's name is noted in the main table for listing.

A channel without a provider sends nothing: it is skipped in the cascade (a message with no
channel left ends `failed: channel_not_configured`) unless the tenant is in sandbox mode, where
it records to the sandbox outbox (CONTRACT §5; messaging settings `sandbox`)."""

import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from trigly.channels import credentials as creds
from trigly.events.types import Channel
from trigly.events.validation import field_errors
from trigly.platform import aws, clock, tokens
from trigly.platform.cache import TenantCache
from trigly.platform.clock import isoformat
from trigly.platform.errors import FieldError, NotFound, UpstreamUnavailable, ValidationFailed
from trigly.platform.settings import get_settings
from trigly.store import channels as store
from trigly.store import feedback as feedback_store


@dataclass(frozen=True)
class ChannelMode:
    channel: str
    # "live" (the tenant's provider), "ses" (the deployment's sender), "sandbox" (recorded to
    # the outbox: the tenant is in sandbox mode) or "not_configured" (skipped when sending)
    mode: str
    provider: str | None
    configured_at: str | None
    bot_username: str | None = None  # Telegram: the bot customers link their chat with


def _channel(name: str) -> Channel:
    try:
        channel = Channel(name)
    except ValueError as exc:
        raise NotFound(f"No channel '{name}'.") from exc
    if channel not in creds.PROVIDERS:
        raise ValidationFailed(
            errors=[FieldError("channel", "email goes through the deployment's SES sender")]
        )
    return channel


def parse(channel_name: str, body: dict[str, Any]) -> creds.Credentials:
    """The body validated as the named provider's credentials, for a provider of this channel."""
    channel = _channel(channel_name)
    try:
        parsed = creds.CREDENTIALS.validate_python(body)
    except ValidationError as exc:
        errors = field_errors(exc)
        provider = body.get("provider")
        prefix = f"{provider}." if isinstance(provider, str) else ""
        raise ValidationFailed(
            errors=[FieldError(e.field.removeprefix(prefix), e.message) for e in errors]
        ) from exc
    if parsed.provider not in creds.PROVIDERS[channel]:
        allowed = ", ".join(sorted(creds.PROVIDERS[channel]))
        raise ValidationFailed(
            errors=[FieldError("provider", f"{channel.value} goes through: {allowed}")]
        )
    return parsed


def configure(tenant_id: str, channel_name: str, body: dict[str, Any]) -> ChannelMode:
    parsed = parse(channel_name, body)
    if isinstance(parsed, creds.TelegramCredentials):
        parsed = connect_telegram(tenant_id, parsed)
    secret = creds.to_secret(parsed)
    write_credentials(creds.secret_name(tenant_id, channel_name), secret)
    at = isoformat(clock.now())
    username = getattr(parsed, "bot_username", None)
    store.save_channel(tenant_id, channel_name, parsed.provider, at, bot_username=username)
    creds.forget(tenant_id, channel_name)
    forget_bot(tenant_id)
    _configured.forget(tenant_id)
    return ChannelMode(channel_name, "live", parsed.provider, at, username)


def webhook_secret(tenant_id: str, bot_id: str) -> str:
    """What `setWebhook(secret_token=…)` gets and every update must carry back."""
    return tokens.keyed_digest("telegram-webhook", f"{tenant_id}:{bot_id}")


def connect_bot(tenant_id: str, bot_id: str) -> str:
    """Register the tenant's bot; returns the secret to give `setWebhook` as `secret_token`."""
    feedback_store.register_bot(bot_id, tenant_id)
    return webhook_secret(tenant_id, bot_id)


def connect_telegram(
    tenant_id: str, credentials: creds.TelegramCredentials
) -> creds.TelegramCredentials:
    """The bot checked with `getMe` (its username, unless given), registered as the tenant's
    (`connect_bot`: its updates find the tenant) and pointed at Trigly's webhook with
    the secret Telegram must send back (`setWebhook(secret_token=…)`). Without a public URL
    (the local stack) there is nothing Telegram could call: no webhook is set."""
    from trigly.channels import telegram
    from trigly.channels.provider import OutcomeUnknown, RetryLater

    settings = get_settings()
    base = settings.provider_endpoints.get("telegram") or telegram.BASE_URL
    token = credentials.bot_token.get_secret_value()
    bot_id = token.split(":", 1)[0]
    try:
        me = telegram.bot_call(token, "getMe", base_url=base)
        username = credentials.bot_username or (me or {}).get("username")
        if not isinstance(username, str) or not username:
            raise ValidationFailed(errors=[FieldError("bot_username", "the bot has no username")])
        secret = connect_bot(tenant_id, bot_id)
        if settings.public_url:
            webhook = f"{settings.public_url.rstrip('/')}/v1/telegram/{bot_id}/webhook"
            telegram.bot_call(
                token,
                "setWebhook",
                {"url": webhook, "secret_token": secret, "allowed_updates": ["message"]},
                base_url=base,
            )
    except telegram.BotApiRefused as exc:
        field = "bot_token" if exc.status in {401, 404} else "provider"
        raise ValidationFailed(
            errors=[FieldError(field, f"Telegram refused it: {exc.description or exc.status}")]
        ) from exc
    except (RetryLater, OutcomeUnknown) as exc:
        raise UpstreamUnavailable("Telegram did not answer; try again.") from exc
    return credentials.model_copy(update={"bot_username": username})


# tenant -> (read at, the Telegram bot's username or None): a send that offers a t.me link
# reads the channel's setting once per few minutes, not per message.
_bots: dict[str, tuple[float, str | None]] = {}
BOT_CACHE_SECONDS = 300


def telegram_bot(tenant_id: str) -> str | None:
    """The username of the tenant's connected Telegram bot, or None (cached)."""
    cached = _bots.get(tenant_id)
    if cached is not None and time.monotonic() - cached[0] < BOT_CACHE_SECONDS:
        return cached[1]
    found = store.get_channel(tenant_id, Channel.TELEGRAM.value)
    username = found.bot_username if found is not None else None
    _bots[tenant_id] = (time.monotonic(), username)
    return username


def forget_bot(tenant_id: str) -> None:
    _bots.pop(tenant_id, None)


STANDARD_PARAMETER_BYTES = 4096


def write_credentials(name: str, document: dict[str, Any]) -> None:
    """A SecureString parameter under the account's `aws/ssm` key, standard tier (free): every
    provider's credentials fit its 4 KB, the largest an FCM service account (~1.9 KB with a
    2048-bit key, ~3.4 KB with a 4096-bit one); larger ones are refused as a field error, not
    left to Parameter Store's refusal (a 500)."""
    value = json.dumps(document, ensure_ascii=False)
    if len(value.encode()) > STANDARD_PARAMETER_BYTES:
        raise ValidationFailed(
            errors=[FieldError("", "credentials over 4 KB (an FCM key of at most 4096 bits fits)")]
        )
    aws.ssm().put_parameter(
        Name=name,
        Value=value,
        Type="SecureString",
        Overwrite=True,
        Tier="Standard",
        Description="Trigly channel provider credentials (written by the management API)",
    )


def remove(tenant_id: str, channel_name: str) -> None:
    """The credentials go first: they are what make the worker send for real, so a failure
    halfway leaves the channel listed but in sandbox, never listed as sandbox but sending."""
    _channel(channel_name)
    client = aws.ssm()
    with contextlib.suppress(client.exceptions.ParameterNotFound):
        client.delete_parameter(Name=creds.secret_name(tenant_id, channel_name))
    creds.forget(tenant_id, channel_name)
    forget_bot(tenant_id)
    _configured.forget(tenant_id)
    if not store.delete_channel(tenant_id, channel_name):
        raise NotFound(f"Channel '{channel_name}' has no provider configured.")


def _sendable(tenant_id: str) -> frozenset[Channel]:
    listed = {Channel(c.channel) for c in store.list_channels(tenant_id)}
    if get_settings().email_sender:
        listed.add(Channel.EMAIL)
    return frozenset(listed)


# Decisions ask for every message; providers change rarely. A channel set up in another
# container shows within a minute (until then it is skipped, never pretended sent).
_configured = TenantCache(_sendable, seconds=60.0)


def configured_channels(tenant_id: str) -> frozenset[Channel]:
    """The channels the tenant can really send on: its providers, and email where the
    deployment has an SES sender (one Query a minute per container)."""
    return _configured.get(tenant_id)


def forget_configured(tenant_id: str | None = None) -> None:
    _configured.forget(tenant_id)


def modes(tenant_id: str) -> list[ChannelMode]:
    """Every channel and how it sends for this tenant (no credentials, ever)."""
    from trigly.messaging.settings import messaging_settings

    configured = {c.channel: c for c in store.list_channels(tenant_id)}
    ses = bool(get_settings().email_sender)
    unconfigured = "sandbox" if messaging_settings(tenant_id).sandbox else "not_configured"
    result = []
    for channel in Channel:
        found = configured.get(channel.value)
        if found is not None:
            result.append(
                ChannelMode(
                    channel.value, "live", found.provider, found.updated_at, found.bot_username
                )
            )
        elif channel is Channel.EMAIL and ses:
            result.append(ChannelMode(channel.value, "ses", "ses", None))
        else:
            result.append(ChannelMode(channel.value, unconfigured, None, None))
    return result
