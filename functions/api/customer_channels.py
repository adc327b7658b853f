"""A customer's own channels: the Telegram deep link a manager sends, and the push devices the
dealer's app registers."""

import re
from typing import Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from functions.api.context import current_tenant
from functions.api.schemas import PushDevice, TelegramLink
from trigly.events.types import Channel
from trigly.platform import clock
from trigly.platform.clock import isoformat
from trigly.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from trigly.store import customers as customer_store

router = APIGatewayHttpRouter()


@router.post(
    "/customers/<customer_id>/telegram-link",
    tags=["customers"],
    summary="A t.me link that links the customer's Telegram chat (for a manager to send)",
    description="`https://t.me/<bot>?start=<token>`, valid 30 days; opening it and pressing "
    "Start links the chat and records the customer's Telegram service consent. Needs the "
    "tenant's bot (`PUT /v1/channels/telegram`).",
)
def telegram_link(customer_id: str) -> TelegramLink:
    from trigly.messaging import inbound

    tenant = current_tenant(router)
    loaded = customer_store.load_profile(tenant.tenant_id, customer_id)
    if loaded is None:
        raise NotFound("No such customer.")
    now = clock.now()
    url = inbound.deep_link(tenant.tenant_id, customer_id, now)
    if url is None:
        raise Conflict("Connect a Telegram bot first (PUT /v1/channels/telegram).")
    return TelegramLink(
        url=url,
        expires_at=isoformat(now + inbound.LINK_TOKEN_LIFETIME),
        linked=Channel.TELEGRAM in loaded[0].linked,
    )


class Device(BaseModel):
    platform: Literal["android", "ios"]


def _token(token: str) -> str:
    from trigly.messaging.devices import TOKEN_PATTERN

    if not re.match(TOKEN_PATTERN, token):
        raise ValidationFailed(errors=[FieldError("token", "not an FCM registration token")])
    return token


@router.put(
    "/customers/<customer_id>/devices/<token>",
    tags=["customers"],
    summary="Register the customer's push device (an FCM registration token; the latest wins)",
)
def register_device(customer_id: str, token: str, device: Device) -> PushDevice:
    from trigly.messaging import devices

    tenant = current_tenant(router)
    devices.register(tenant, customer_id, _token(token), clock.now())
    return PushDevice(customer_id=customer_id, channel="push", platform=device.platform)


@router.delete(
    "/customers/<customer_id>/devices/<token>",
    tags=["customers"],
    summary="Remove the push device (push is then unavailable for the customer)",
    status_code=204,
)
def unregister_device(customer_id: str, token: str) -> Response[None]:
    from trigly.messaging import devices

    tenant = current_tenant(router)
    if not devices.unregister(tenant, customer_id, _token(token), clock.now()):
        raise NotFound("No such device for this customer.")
    return Response(status_code=204)
