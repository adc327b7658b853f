"""Public endpoints that providers and customers' devices call (CONTRACT §1a: no API key, each
verified by its own secret or signature); a forged request is 401 and changes nothing.

- `POST /v1/callbacks/sms/{provider}/{tenant_id}/{secret}`: SMS.ru (`smsru`) and SMSC.ru
  (`smsc`) delivery reports; the secret is per tenant and provider (`inbound.callback_secret`).
- `GET|POST /v1/callbacks/whatsapp/{tenant_id}`: the Cloud API's subscription check and status
  webhooks, verified with `X-Hub-Signature-256` under the tenant's app secret.
- `POST /v1/telegram/{bot_id}/webhook`: Telegram updates, `X-Telegram-Bot-Api-Secret-Token`.
- `GET /l/c/{token}`: a tracked link (records `clicked`, redirects); `GET /l/o/{token}.gif`: the
  email open pixel.
"""

import base64
import json
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from trigly.messaging import feedback, inbound, reports
from trigly.platform import clock
from trigly.platform.errors import NotFound, Unauthorized
from trigly.platform.observability import logger

router = APIGatewayHttpRouter()  # under /v1
links_router = APIGatewayHttpRouter()  # under /l/ (customer links)

SMS_ANSWERS = {"smsru": "100", "smsc": "OK"}  # what each provider expects back


def _raw_body() -> bytes:
    event = router.current_event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode()


def _header(name: str, on: APIGatewayHttpRouter = router) -> str | None:
    headers = on.current_event.headers or {}
    return headers.get(name.lower()) or headers.get(name)


def _text(body: str, status: int = 200) -> Response[str]:
    return Response(status_code=status, content_type="text/plain; charset=utf-8", body=body)


def _apply(events: list[feedback.ProviderEvent]) -> None:
    for event in events:
        feedback.apply(event)


@router.post("/callbacks/sms/<provider>/<tenant_id>/<secret>", include_in_schema=False)
def sms_callback(provider: str, tenant_id: str, secret: str) -> Response[str]:
    if provider not in SMS_ANSWERS:
        raise NotFound("No such callback.")
    inbound.check_callback_secret(tenant_id, provider, secret)
    form = parse_qs(_raw_body().decode("utf-8", "replace"))
    for name, values in (router.current_event.query_string_parameters or {}).items():
        form.setdefault(name, [values])
    now = clock.now()
    parse = reports.smsru_events if provider == "smsru" else reports.smsc_events
    _apply(parse(tenant_id, form, received_at=now))
    return _text(SMS_ANSWERS[provider])


def _whatsapp_secrets(tenant_id: str) -> dict[str, Any]:
    """`trigly/{stage}/tenants/{tenant}/channels/whatsapp-webhook`: `app_secret` (Meta app
    secret, signs webhooks) and `verify_token` (the subscription check)."""
    from aws_lambda_powertools.utilities import parameters

    from trigly.platform.settings import get_settings

    name = f"trigly/{get_settings().stage}/tenants/{tenant_id}/channels/whatsapp-webhook"
    try:
        found = parameters.get_secret(name, max_age=300, transform="json")
    except parameters.exceptions.GetParameterError as exc:
        raise Unauthorized("Bad signature.") from exc  # no secret: nobody can sign for it
    return found if isinstance(found, dict) else {}


@router.get("/callbacks/whatsapp/<tenant_id>", include_in_schema=False)
def whatsapp_subscribe(tenant_id: str) -> Response[str]:
    query = router.current_event.query_string_parameters or {}
    expected = str(_whatsapp_secrets(tenant_id).get("verify_token") or "")
    given = query.get("hub.verify_token", "")
    if query.get("hub.mode") != "subscribe" or not expected or given != expected:
        raise Unauthorized("Bad verify token.")
    return _text(query.get("hub.challenge", ""))


@router.post("/callbacks/whatsapp/<tenant_id>", include_in_schema=False)
def whatsapp_status(tenant_id: str) -> Response[str]:
    body = _raw_body()
    app_secret = str(_whatsapp_secrets(tenant_id).get("app_secret") or "")
    if not app_secret:
        raise Unauthorized("Bad signature.")
    inbound.check_hub_signature(app_secret, body, _header("X-Hub-Signature-256"))
    document = json.loads(body)
    _apply(reports.whatsapp_events(tenant_id, document, received_at=clock.now()))
    return _text("OK")


@router.post("/telegram/<bot_id>/webhook", include_in_schema=False)
def telegram_webhook(bot_id: str) -> Response[str]:
    tenant_id = inbound.authenticate_bot(bot_id, _header("X-Telegram-Bot-Api-Secret-Token"))
    update = json.loads(_raw_body() or b"{}")
    reply = inbound.handle_update(tenant_id, update if isinstance(update, dict) else {})
    logger.info("telegram update", extra={"replied": reply is not None})
    body = json.dumps(reply.as_method() if reply else {}, ensure_ascii=False)
    return Response(status_code=200, content_type="application/json", body=body)


# --- tracking ------------------------------------------------------------------------------------


@links_router.get("/l/c/<token>", include_in_schema=False)
def tracked_click(token: str) -> Response[str]:
    from trigly.messaging import tracking

    target = tracking.click(token, user_agent=_header("User-Agent", links_router))
    if target is None:
        return _text("Ссылка не найдена", 404)
    return Response(
        status_code=303, body="", headers={"Location": target, "Cache-Control": "no-store"}
    )


@links_router.get("/l/o/<token>", include_in_schema=False)
def open_pixel(token: str):  # no return type: a binary body skips response validation
    from trigly.messaging import tracking

    tracking.open_pixel(token.removesuffix(".gif"), user_agent=_header("User-Agent", links_router))
    return Response(
        status_code=200,
        content_type="image/gif",
        body=tracking.GIF,
        headers={"Cache-Control": "no-store, private"},
    )
