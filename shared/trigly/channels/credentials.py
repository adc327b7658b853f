"""Per-tenant provider credentials: validated per provider, kept in Parameter Store, never shown.

One SecureString parameter per tenant and channel, `/trigly/{stage}/tenants/{tenant_id}/channels/
{channel}` (encrypted with the account's `aws/ssm` key), a JSON document with the provider's name
and its credentials. Standard tier: no charge per parameter (a Secrets Manager secret was $0.40 a
month each); its 4 KB limit holds the largest, an FCM service account (~2.4 KB with a 2048-bit
key). The channel worker reads it through Powertools Parameters (decrypted, cached five
minutes); a channel without a parameter runs in sandbox mode.
Which channels are configured (and with which provider) is also noted in the main table, so
`GET /v1/channels` lists them without touching a secret.
"""

import re
import threading
import time
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, field_validator

from trigly.events.types import Channel
from trigly.platform.settings import get_settings

SECRET_MAX_AGE = 300  # seconds a worker keeps a credential (or its absence) before re-reading

_SENDER = re.compile(r"^[A-Za-z0-9 .\-_]{1,11}$")  # an alphanumeric SMS sender (11 chars max)


class _Credentials(BaseModel):
    # Built on first use: a channel worker reads one provider's credentials, not all seven
    # (their validators were ~10 ms of its cold start; ADR 0019).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class _SmsCredentials(_Credentials):
    sender: str | None = Field(
        default=None, description="The tenant's approved sender name (≤ 11 chars)."
    )
    per_second: int = Field(
        default=20, ge=1, le=500, description="Messages per second the account may send."
    )

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and not _SENDER.match(value):
            raise ValueError("an SMS sender name is 1–11 latin letters, digits, spaces or .-_")
        return value


class SmsRuCredentials(_SmsCredentials):
    provider: Literal["smsru"]
    api_id: SecretStr = Field(min_length=8, max_length=100)
    test: bool = Field(default=False, description="SMS.ru test mode: checked, not sent.")


class SmscCredentials(_SmsCredentials):
    provider: Literal["smsc"]
    login: str = Field(min_length=1, max_length=100)
    password: SecretStr = Field(min_length=1, max_length=200)


class TelegramCredentials(_Credentials):
    provider: Literal["telegram"]
    bot_token: SecretStr = Field(description="The token @BotFather gave: `123456:ABC…`.")
    bot_username: str | None = Field(
        default=None,
        description="The bot's username (`dealer_bot`) for `t.me` links; read with `getMe` "
        "when not given.",
    )

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{4,31}", name):
            raise ValueError("a Telegram username is 5–32 latin letters, digits or _")
        return name

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(r"\d{3,20}:[A-Za-z0-9_-]{20,100}", value.get_secret_value()):
            raise ValueError("a Telegram bot token looks like 123456789:AA…")
        return value


class MaxCredentials(_Credentials):
    provider: Literal["max"]
    token: SecretStr = Field(min_length=10, max_length=500)


class WhatsappCredentials(_Credentials):
    provider: Literal["whatsapp"]
    phone_number_id: str = Field(pattern=r"^\d{5,30}$")
    access_token: SecretStr = Field(min_length=10, max_length=1000)
    template_name: str = Field(
        pattern=r"^[a-z0-9_]{1,512}$",
        description="Approved template with one body parameter ({{1}}): the message text.",
    )
    template_language: str = Field(default="ru", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    api_version: str = Field(default="v21.0", pattern=r"^v\d{1,3}\.\d$")


class ViberCredentials(_Credentials):
    provider: Literal["viber"]
    auth_token: SecretStr = Field(min_length=10, max_length=200)
    sender_name: str = Field(min_length=1, max_length=28)
    sender_avatar: str | None = Field(default=None, max_length=500)


GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105  # a URL, not a secret


class ServiceAccount(BaseModel):
    """The fields of a Firebase service-account JSON key that FCM HTTP v1 needs."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    project_id: str = Field(pattern=r"^[a-z0-9-]{4,40}$")
    client_email: str = Field(min_length=3, max_length=320)
    private_key: SecretStr
    token_uri: str = GOOGLE_TOKEN_URI

    @field_validator("token_uri")
    @classmethod
    def _google(cls, value: str) -> str:
        # Trigly posts a signed assertion here: a tenant-supplied key must not name another
        # host (an address inside our network, say). Every Google key carries this one.
        if value != GOOGLE_TOKEN_URI:
            raise ValueError(f"must be {GOOGLE_TOKEN_URI}")
        return value

    @field_validator("private_key")
    @classmethod
    def _pem(cls, value: SecretStr) -> SecretStr:
        if "PRIVATE KEY-----" not in value.get_secret_value():
            raise ValueError("a PEM private key (-----BEGIN PRIVATE KEY-----…)")
        return value


class FcmCredentials(_Credentials):
    provider: Literal["fcm"]
    service_account: ServiceAccount


Credentials = Annotated[
    SmsRuCredentials
    | SmscCredentials
    | TelegramCredentials
    | MaxCredentials
    | WhatsappCredentials
    | ViberCredentials
    | FcmCredentials,
    Field(discriminator="provider"),
]
# The API validates a body against every provider (its errors name the provider: `smsru.api_id`).
CREDENTIALS: TypeAdapter[Credentials] = TypeAdapter(
    Credentials, config=ConfigDict(defer_build=True)
)
# A stored document was validated by CREDENTIALS when saved: read back by its own provider's model.
_BY_PROVIDER: dict[str, type[_Credentials]] = {
    "smsru": SmsRuCredentials,
    "smsc": SmscCredentials,
    "telegram": TelegramCredentials,
    "max": MaxCredentials,
    "whatsapp": WhatsappCredentials,
    "viber": ViberCredentials,
    "fcm": FcmCredentials,
}

# Which providers can carry which channel.
PROVIDERS: dict[Channel, frozenset[str]] = {
    Channel.SMS: frozenset({"smsru", "smsc"}),
    Channel.TELEGRAM: frozenset({"telegram"}),
    Channel.MAX: frozenset({"max"}),
    Channel.WHATSAPP: frozenset({"whatsapp"}),
    Channel.VIBER: frozenset({"viber"}),
    Channel.PUSH: frozenset({"fcm"}),
}


def secret_name(tenant_id: str, channel: str) -> str:
    """The SecureString parameter holding the tenant's credentials for the channel."""
    return f"/trigly/{get_settings().stage}/tenants/{tenant_id}/channels/{channel}"


def to_secret(credentials: BaseModel) -> dict[str, Any]:
    """The JSON stored in the parameter: every value in clear (only the encrypted parameter
    holds it)."""

    def reveal(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        if isinstance(value, BaseModel):
            return {k: reveal(v) for k, v in value}
        return value

    return {name: reveal(value) for name, value in credentials}


# (tenant, channel) -> (read at, credentials or None). Absent parameters are remembered too, so a
# sandbox channel costs no Parameter Store call per message.
_cache: dict[tuple[str, str], tuple[float, Credentials | None]] = {}
_cache_lock = threading.Lock()


def credentials_for(tenant_id: str, channel: str) -> Credentials | None:
    """The tenant's credentials for the channel, or None (sandbox mode)."""
    key = (tenant_id, channel)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < SECRET_MAX_AGE:
        return cached[1]
    found = _read(secret_name(tenant_id, channel))
    with _cache_lock:
        _cache[key] = (time.monotonic(), found)
    return found


_provider: Any = None


def _parameters() -> Any:
    """Powertools' SSM provider over the container's boto3 client: Powertools' own default
    would build a third botocore session (after boto3's and PynamoDB's) on first use."""
    global _provider  # noqa: PLW0603  # one per container, like the client it wraps
    from aws_lambda_powertools.utilities import parameters

    from trigly.platform import aws

    client = aws.ssm()
    if _provider is None or _provider.client is not client:
        _provider = parameters.SSMProvider(boto3_client=client)
    return _provider


def _read(name: str) -> Credentials | None:
    from aws_lambda_powertools.utilities import parameters

    try:
        document = _parameters().get(name, max_age=SECRET_MAX_AGE, transform="json", decrypt=True)
    except parameters.exceptions.GetParameterError as exc:
        if "ParameterNotFound" in str(exc):  # Powertools keeps only the SDK's message
            return None
        raise
    provider = document.get("provider") if isinstance(document, dict) else None
    model = _BY_PROVIDER.get(provider) if isinstance(provider, str) else None
    if model is None:
        return CREDENTIALS.validate_python(document)
    return cast("Credentials", model.model_validate(document))


def forget(tenant_id: str, channel: str) -> None:
    """After a change through the API: this container reads the parameter afresh."""
    with _cache_lock:
        _cache.pop((tenant_id, channel), None)
    if _provider is not None:
        _provider.clear_cache()


def forget_all() -> None:
    with _cache_lock:
        _cache.clear()
