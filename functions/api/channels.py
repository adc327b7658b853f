"""Channel providers of the caller's tenant: credentials are write-only (stored in Secrets
Manager, never returned); the list says which provider carries each channel, or none."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import JsonValue

from functions.api.context import current_tenant
from functions.api.schemas import ChannelList, ChannelSetting
from trigly.channels import configuration
from trigly.channels.configuration import ChannelMode

router = APIGatewayHttpRouter()

CREDENTIALS_HELP = (
    "The provider and its credentials, by `provider`: `smsru` {api_id, sender?, test?, "
    "per_second?}, "
    "`smsc` {login, password, sender?, per_second?} (channel sms); `telegram` {bot_token, "
    "bot_username?} (checked with getMe, the webhook set with its secret token); "
    "`max` {token}; "
    "`whatsapp` {phone_number_id, access_token, template_name, template_language?}; "
    "`viber` {auth_token, sender_name, sender_avatar?}; `fcm` {service_account: the Firebase "
    "service-account JSON key} (channel push). Write-only: never returned."
)


def _view(mode: ChannelMode) -> ChannelSetting:
    view: dict[str, object] = {
        "channel": mode.channel,
        "mode": mode.mode,
        "provider": mode.provider,
        "configured_at": mode.configured_at,
    }
    if mode.bot_username:
        view["bot_username"] = mode.bot_username
    return ChannelSetting.model_validate(view)


@router.get(
    "/channels",
    tags=["channels"],
    summary="How each channel sends (no credentials)",
    description=(
        "`mode` per channel: `live` (the tenant's provider), `ses` (the deployment's email "
        "sender), `sandbox` (no provider; the tenant is in sandbox mode, so messages are "
        "recorded to the outbox) or `not_configured` (no provider: skipped in the cascade; a "
        "message with no channel left ends `failed: channel_not_configured`)."
    ),
)
def list_channels() -> ChannelList:
    tenant = current_tenant(router)
    return ChannelList(items=[_view(m) for m in configuration.modes(tenant.tenant_id)], cursor=None)


@router.put(
    "/channels/<channel>",
    tags=["channels"],
    summary="Set the channel's provider and credentials (write-only)",
    description=CREDENTIALS_HELP,
)
def put_channel(channel: str, body: Annotated[dict[str, JsonValue], Body()]) -> ChannelSetting:
    tenant = current_tenant(router)
    return _view(configuration.configure(tenant.tenant_id, channel, body))


@router.delete(
    "/channels/<channel>",
    tags=["channels"],
    summary="Remove the provider: the channel is skipped (sandboxed in sandbox mode)",
    status_code=204,
)
def delete_channel(channel: str) -> Response[None]:
    configuration.remove(current_tenant(router).tenant_id, channel)
    return Response(status_code=204)
