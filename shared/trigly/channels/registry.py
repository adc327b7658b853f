"""The provider for a tenant's channel: from its credentials, else SES for email, else sandbox."""

from trigly.channels.credentials import (
    Credentials,
    FcmCredentials,
    MaxCredentials,
    SmscCredentials,
    SmsRuCredentials,
    TelegramCredentials,
    ViberCredentials,
    WhatsappCredentials,
    credentials_for,
)
from trigly.channels.provider import Provider
from trigly.channels.ratelimit import NoLimit, RateLimiter
from trigly.events.types import Channel
from trigly.platform.settings import get_settings

_limiter = RateLimiter()


def build(  # noqa: PLR0911
    credentials: Credentials, limiter: RateLimiter | NoLimit | None = None
) -> Provider:
    """A provider for the credentials. Its base URL may be overridden per provider by the
    deployment (`TRIGLY_PROVIDER_ENDPOINTS`, for local fakes and benchmarks), never by a tenant."""
    limiter = limiter or _limiter
    base = get_settings().provider_endpoints.get(credentials.provider)
    match credentials:
        case SmsRuCredentials():
            from trigly.channels import smsru

            return smsru.SmsRuProvider(credentials, base or smsru.BASE_URL, limiter)
        case SmscCredentials():
            from trigly.channels import smsc

            return smsc.SmscProvider(credentials, base or smsc.BASE_URL, limiter)
        case TelegramCredentials():
            from trigly.channels import telegram

            return telegram.TelegramProvider(credentials, base or telegram.BASE_URL, limiter)
        case MaxCredentials():
            from trigly.channels import maxbot

            return maxbot.MaxProvider(credentials, base or maxbot.BASE_URL, limiter)
        case WhatsappCredentials():
            from trigly.channels import whatsapp

            return whatsapp.WhatsappProvider(credentials, base or whatsapp.BASE_URL, limiter)
        case ViberCredentials():
            from trigly.channels import viber

            return viber.ViberProvider(credentials, base or viber.BASE_URL, limiter)
        case FcmCredentials():
            from trigly.channels import fcm

            return fcm.FcmProvider(credentials, base or fcm.BASE_URL, limiter)


def configured_provider(tenant_id: str, channel: Channel) -> Provider | None:
    """The tenant's own provider for the channel, or None when it has no credentials for it."""
    if channel is Channel.EMAIL:
        return None  # email goes through the deployment's SES sender
    credentials = credentials_for(tenant_id, channel.value)
    return build(credentials) if credentials is not None else None
