"""WhatsApp Cloud API: `POST graph.facebook.com/{version}/{phone_number_id}/messages`
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages).

Outside the 24-hour customer-service window a business may only send an approved template, and
Trigly cannot know the window is open, so every message is a template: the one the message's
template names (its WhatsApp variant: named body parameters and URL button suffixes filled
from variables), else the channel's default template with the text as its one body parameter.
Rate errors — HTTP 429, codes 4, 80007, 130429 (throughput), 131056 (pair rate) — were not
processed: retried. Code 190 / HTTP 401 (an expired or revoked token) and the recipient and template
errors (131026, 131030, 131047, 132000…, 133010…) are final. The Cloud API has no idempotency key: a
5xx (e.g. 131000) or a timeout is an unknown outcome. Limits: 80 messages per second per business
number by default (counted across workers).
"""

from typing import Any

import httpx

from trigly.channels import http
from trigly.channels.content import phone_digits, text_of
from trigly.channels.credentials import WhatsappCredentials
from trigly.channels.provider import Accepted, OutcomeUnknown, ProviderRejected, RetryLater
from trigly.channels.ratelimit import Limit, NoLimit, RateLimiter
from trigly.messaging.message import StoredMessage
from trigly.platform import clock

BASE_URL = "https://graph.facebook.com"
PER_NUMBER_PER_SECOND = 80
RATE_CODES = frozenset({4, 80007, 130429, 131056})
TOKEN_CODES = frozenset({190})


class WhatsappProvider:
    name = "whatsapp"

    def __init__(
        self,
        credentials: WhatsappCredentials,
        base_url: str = BASE_URL,
        limiter: RateLimiter | NoLimit | None = None,
        policy: http.RetryPolicy = http.DEFAULT_POLICY,
    ) -> None:
        self.credentials = credentials
        self.url = (
            f"{base_url.rstrip('/')}/{credentials.api_version}"
            f"/{credentials.phone_number_id}/messages"
        )
        self.limiter = limiter or NoLimit()
        self.policy = policy

    def payload(self, message: StoredMessage) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": phone_digits(message, self.name),
            "type": "template",
            "template": self._template(message),
        }

    def _template(self, message: StoredMessage) -> dict[str, Any]:
        filled = message.provider_template
        if filled is None:  # the channel's default template: the whole text, one parameter
            return {
                "name": self.credentials.template_name,
                "language": {"code": self.credentials.template_language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": text_of(message, self.name)}],
                    }
                ],
            }
        components: list[dict[str, Any]] = []
        if filled["parameters"]:
            components.append(
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "parameter_name": name, "text": value}
                        for name, value in filled["parameters"].items()
                    ],
                }
            )
        components += [
            {
                "type": "button",
                "sub_type": "url",
                "index": str(index),
                "parameters": [{"type": "text", "text": suffix}],
            }
            for index, suffix in enumerate(filled["buttons"])
        ]
        return {
            "name": filled["name"],
            "language": {"code": filled["language"]},
            "components": components,
        }

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        payload = self.payload(message)
        headers = {"Authorization": f"Bearer {self.credentials.access_token.get_secret_value()}"}
        limit = Limit(f"whatsapp:{self.credentials.phone_number_id}", PER_NUMBER_PER_SECOND)

        def attempt() -> Accepted:
            self.limiter.acquire(tenant_id, [limit])
            return self.parse(http.request("POST", self.url, json=payload, headers=headers))

        return http.with_retries(attempt, self.policy)

    def parse(self, response: httpx.Response) -> Accepted:
        body = http.json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        if response.status_code == 429 or code in RATE_CODES:
            raise RetryLater(f"whatsapp: rate limit ({code})", http.retry_after_header(response))
        http.unknown_unless_client_error(response, self.name)
        if response.status_code == 401 or code in TOKEN_CODES:
            raise ProviderRejected("whatsapp: the access token expired or was revoked")
        if response.status_code >= 400:
            raise ProviderRejected(f"whatsapp: refused (HTTP {response.status_code}, code {code})")
        messages = body.get("messages") if isinstance(body, dict) else None
        first = messages[0] if isinstance(messages, list) and messages else None
        if not isinstance(first, dict) or not first.get("id"):
            raise OutcomeUnknown("whatsapp: an answer without a message id")
        return Accepted(str(first["id"]), clock.now())
