"""Viber REST bot API `POST chatapi.viber.com/pa/send_message`
(https://developers.viber.com/docs/api/rest-bot-api/#send-message).

The receiver is the Viber user id the customer got when they subscribed to the tenant's bot (a
phone number cannot be messaged). Links become an `open-url` keyboard. Viber answers HTTP 200
with a `status`: 0 is sent, 12 (too many requests) was not processed and is retried, every
other status (an invalid token, a receiver not subscribed or unknown, a blocked or suspended
account, no balance…) is final. No idempotency key: a timeout or a 5xx is an unknown outcome.
"""

from typing import Any

import httpx

from trigly.channels import http
from trigly.channels.content import link_buttons, linked_id, text_of
from trigly.channels.credentials import ViberCredentials
from trigly.channels.provider import Accepted, OutcomeUnknown, ProviderRejected, RetryLater
from trigly.channels.ratelimit import NoLimit, RateLimiter
from trigly.messaging.message import StoredMessage
from trigly.platform import clock

BASE_URL = "https://chatapi.viber.com"
TOO_MANY_REQUESTS = 12
REASONS = {
    1: "the webhook URL is invalid",
    2: "the auth token is invalid",
    3: "the request is malformed",
    4: "a required field is missing",
    5: "the receiver is not registered with Viber",
    6: "the receiver has not subscribed to the bot",
    7: "the bot's account is blocked",
    8: "the bot's account was not found",
    9: "the bot's account is suspended",
    10: "the bot has no webhook set",
    11: "the receiver has no device that can show it",
    21: "Viber does not serve this country",
    23: "the free message quota is used up",
    24: "the account has no balance",
}


class ViberProvider:
    name = "viber"

    def __init__(
        self,
        credentials: ViberCredentials,
        base_url: str = BASE_URL,
        limiter: RateLimiter | NoLimit | None = None,
        policy: http.RetryPolicy = http.DEFAULT_POLICY,
    ) -> None:
        self.credentials = credentials
        self.url = f"{base_url.rstrip('/')}/pa/send_message"
        self.limiter = limiter or NoLimit()
        self.policy = policy

    def payload(self, message: StoredMessage) -> dict[str, Any]:
        sender: dict[str, str] = {"name": self.credentials.sender_name}
        if self.credentials.sender_avatar:
            sender["avatar"] = self.credentials.sender_avatar
        payload: dict[str, Any] = {
            "receiver": linked_id(message, self.name, "Viber user id"),
            "min_api_version": 1,
            "sender": sender,
            "tracking_data": message.message_id,
            "type": "text",
            "text": text_of(message, self.name),
        }
        buttons = link_buttons(message)
        if buttons:
            payload["keyboard"] = {
                "Type": "keyboard",
                "DefaultHeight": False,
                "Buttons": [
                    {"ActionType": "open-url", "ActionBody": url, "Text": label, "Columns": 6}
                    for label, url in buttons
                ],
            }
        return payload

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        payload = self.payload(message)
        headers = {"X-Viber-Auth-Token": self.credentials.auth_token.get_secret_value()}

        def attempt() -> Accepted:
            self.limiter.acquire(tenant_id, [])
            return self.parse(http.request("POST", self.url, json=payload, headers=headers))

        return http.with_retries(attempt, self.policy)

    def parse(self, response: httpx.Response) -> Accepted:
        if response.status_code == 429:
            raise RetryLater("viber: too many requests", http.retry_after_header(response))
        http.unknown_unless_client_error(response, self.name)
        if response.status_code >= 400:
            raise ProviderRejected(f"viber: HTTP {response.status_code}")
        body = http.json_body(response)
        status = body.get("status") if isinstance(body, dict) else None
        if not isinstance(status, int):
            raise OutcomeUnknown("viber: an answer without a status")
        if status == TOO_MANY_REQUESTS:
            raise RetryLater("viber: too many requests", http.retry_after_header(response))
        if status != 0:
            raise ProviderRejected(f"viber: {REASONS.get(status, 'refused')} (status {status})")
        token = body.get("message_token") if isinstance(body, dict) else None
        if token is None:
            raise OutcomeUnknown("viber: an answer without a message token")
        return Accepted(str(token), clock.now())
