"""Setting a tenant's channel providers: credentials are written to Secrets Manager (write-only,
never read back by the API), the provider's name is noted in the main table for listing."""

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from trigly.channels import credentials as creds
from trigly.events.types import Channel
from trigly.events.validation import field_errors
from trigly.platform import aws, clock
from trigly.platform.clock import isoformat
from trigly.platform.errors import FieldError, NotFound, ValidationFailed
from trigly.platform.settings import get_settings
from trigly.store import channels as store


@dataclass(frozen=True)
class ChannelMode:
    channel: str
    mode: str  # "live" (the tenant's provider), "ses" (the deployment's sender) or "sandbox"
    provider: str | None
    configured_at: str | None


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
    secret = creds.to_secret(parsed)
    _write_secret(creds.secret_name(tenant_id, channel_name), secret)
    at = isoformat(clock.now())
    store.save_channel(tenant_id, channel_name, parsed.provider, at)
    creds.forget(tenant_id, channel_name)
    return ChannelMode(channel_name, "live", parsed.provider, at)


def _write_secret(name: str, document: dict[str, Any]) -> None:
    client = aws.secretsmanager()
    text = json.dumps(document, ensure_ascii=False)
    try:
        client.put_secret_value(SecretId=name, SecretString=text)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(
            Name=name,
            SecretString=text,
            Description="Trigly channel provider credentials (written by the management API)",
        )


def remove(tenant_id: str, channel_name: str) -> None:
    """The secret goes first: it is what makes the worker send for real, so a failure halfway
    leaves the channel listed but in sandbox, never listed as sandbox but sending."""
    _channel(channel_name)
    client = aws.secretsmanager()
    # At once, not after a recovery window: a new PUT may recreate the same name right away.
    # (Secrets Manager answers a forced delete of a missing secret with success.)
    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
        client.delete_secret(
            SecretId=creds.secret_name(tenant_id, channel_name), ForceDeleteWithoutRecovery=True
        )
    creds.forget(tenant_id, channel_name)
    if not store.delete_channel(tenant_id, channel_name):
        raise NotFound(f"Channel '{channel_name}' has no provider configured.")


def modes(tenant_id: str) -> list[ChannelMode]:
    """Every channel and how it sends for this tenant (no credentials, ever)."""
    configured = {c.channel: c for c in store.list_channels(tenant_id)}
    ses = bool(get_settings().email_sender)
    result = []
    for channel in Channel:
        found = configured.get(channel.value)
        if found is not None:
            result.append(ChannelMode(channel.value, "live", found.provider, found.updated_at))
        elif channel is Channel.EMAIL and ses:
            result.append(ChannelMode(channel.value, "ses", "ses", None))
        else:
            result.append(ChannelMode(channel.value, "sandbox", None, None))
    return result
