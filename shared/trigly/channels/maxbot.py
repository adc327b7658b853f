"""MAX bot API (https://dev.max.ru/docs-api): `POST platform-api.max.ru/messages?user_id=…`.

The token goes in the `Authorization` header (query tokens are no longer accepted). A MAX user
is addressed by the user id the customer linked with the bot; a phone number cannot be messaged.
Links become an `inline_keyboard` attachment of `link` buttons. MAX allows 30 requests per second
per bot (counted across workers). 429 is retried; 401 (token), 403 (the user blocked the bot or
never started it), 404 and 400 are final; a 5xx or a timeout is an unknown outcome (no
idempotency key in the API).
"""

from typing import Any

import httpx

from trigly.channels import http
from trigly.channels.content import link_buttons, linked_id, text_of
from trigly.channels.credentials import MaxCredentials
from trigly.channels.provider import Accepted, OutcomeUnknown, ProviderRejected, RetryLater
from trigly.channels.ratelimit import Limit, NoLimit, RateLimiter
from trigly.messaging.message import StoredMessage
from trigly.platform import clock

BASE_URL = "https://platform-api.max.ru"
PER_BOT_PER_SECOND = 30


class MaxProvider:
    name = "max"

    def __init__(
        self,
        credentials: MaxCredentials,
        base_url: str = BASE_URL,
        limiter: RateLimiter | NoLimit | None = None,
        policy: http.RetryPolicy = http.DEFAULT_POLICY,
    ) -> None:
        self.token = credentials.token.get_secret_value()
        self.url = f"{base_url.rstrip('/')}/messages"
        self.limiter = limiter or NoLimit()
        self.policy = policy

    def payload(self, message: StoredMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": text_of(message, self.name)}
        buttons = link_buttons(message)
        if buttons:
            payload["attachments"] = [
                {
                    "type": "inline_keyboard",
                    "payload": {
                        "buttons": [
                            [{"type": "link", "text": label, "url": url}] for label, url in buttons
                        ]
                    },
                }
            ]
        return payload

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        user_id = linked_id(message, self.name, "MAX user id")
        if not user_id.isdigit():
            raise ProviderRejected("max: a MAX user id is a number")
        payload = self.payload(message)

        def attempt() -> Accepted:
            self.limiter.acquire(tenant_id, [Limit("max:bot", PER_BOT_PER_SECOND)])
            response = http.request(
                "POST",
                self.url,
                params={"user_id": user_id},
                json=payload,
                headers={"Authorization": self.token},
            )
            return self.parse(response)

        return http.with_retries(attempt, self.policy)

    def parse(self, response: httpx.Response) -> Accepted:
        body = http.json_body(response)
        if response.status_code == 429:
            raise RetryLater("max: too many requests", http.retry_after_header(response))
        http.unknown_unless_client_error(response, self.name)
        code = str(body.get("code", ""))[:100] if isinstance(body, dict) else ""
        if response.status_code == 401:
            raise ProviderRejected("max: the bot token was revoked or is wrong")
        if response.status_code == 403:
            raise ProviderRejected(f"max: the bot may not write to this user ({code})")
        if response.status_code >= 400:
            raise ProviderRejected(f"max: HTTP {response.status_code} ({code})")
        sent = body.get("message") if isinstance(body, dict) else None
        inner = sent.get("body") if isinstance(sent, dict) else None
        mid = inner.get("mid") if isinstance(inner, dict) else None
        if not mid:
            raise OutcomeUnknown("max: an answer without a message id")
        return Accepted(str(mid), clock.now())
