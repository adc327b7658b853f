"""Telegram Bot API `sendMessage` (https://core.telegram.org/bots/api#sendmessage).

The chat id is the one the customer linked (deep link or shared phone); the template's buttons
(its Telegram variant) and then the message's links become inline URL buttons, one a row.
Limits (Telegram's FAQ): about 30 messages per second per bot and one per second per chat,
counted across workers. Errors: 429 carries `parameters.retry_after` (not processed: retried);
401 is a revoked token, 403 a blocked bot or a deleted user, 400 a chat that does not exist —
all final. The Bot API has no idempotency key, so a timeout or a 5xx is an
unknown outcome.
"""

import hashlib
from typing import Any

import httpx

from trigly.channels import http
from trigly.channels.content import link_buttons, linked_id, text_of
from trigly.channels.credentials import TelegramCredentials
from trigly.channels.provider import Accepted, OutcomeUnknown, ProviderRejected, RetryLater
from trigly.channels.ratelimit import Limit, NoLimit, RateLimiter
from trigly.messaging.message import StoredMessage
from trigly.platform import clock

BASE_URL = "https://api.telegram.org"
PER_BOT_PER_SECOND = 30
PER_CHAT_PER_SECOND = 1


class TelegramProvider:
    name = "telegram"

    def __init__(
        self,
        credentials: TelegramCredentials,
        base_url: str = BASE_URL,
        limiter: RateLimiter | NoLimit | None = None,
        policy: http.RetryPolicy = http.DEFAULT_POLICY,
    ) -> None:
        self.token = credentials.bot_token.get_secret_value()
        self.bot_id = self.token.split(":", 1)[0]
        self.url = f"{base_url.rstrip('/')}/bot{self.token}/sendMessage"
        self.limiter = limiter or NoLimit()
        self.policy = policy

    def payload(self, message: StoredMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "chat_id": linked_id(message, self.name, "Telegram chat"),
            "text": text_of(message, self.name),
            "link_preview_options": {"is_disabled": True},
        }
        buttons = [(b["text"], b["url"]) for b in message.buttons]
        shown = {url for _, url in buttons}
        buttons += [(label, url) for label, url in link_buttons(message) if url not in shown]
        if buttons:
            payload["reply_markup"] = {
                "inline_keyboard": [[{"text": label, "url": url}] for label, url in buttons]
            }
        return payload

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        payload = self.payload(message)
        chat = hashlib.sha256(str(payload["chat_id"]).encode()).hexdigest()[:16]
        limits = [
            Limit(f"telegram:{self.bot_id}", PER_BOT_PER_SECOND),
            Limit(f"telegram:{self.bot_id}:{chat}", PER_CHAT_PER_SECOND),
        ]

        def attempt() -> Accepted:
            self.limiter.acquire(tenant_id, limits)
            return self.parse(http.request("POST", self.url, json=payload), payload["chat_id"])

        return http.with_retries(attempt, self.policy)

    def parse(self, response: httpx.Response, chat_id: str) -> Accepted:
        body = http.json_body(response)
        description = str(body.get("description", ""))[:200] if isinstance(body, dict) else ""
        if response.status_code == 429:
            parameters = body.get("parameters") if isinstance(body, dict) else None
            retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            raise RetryLater(
                "telegram: too many requests",
                float(retry_after)
                if retry_after is not None
                else http.retry_after_header(response),
            )
        http.unknown_unless_client_error(response, self.name)
        if response.status_code == 401:
            raise ProviderRejected("telegram: the bot token was revoked or is wrong")
        if response.status_code == 403:
            raise ProviderRejected(f"telegram: the bot cannot write to this chat ({description})")
        if response.status_code >= 400:
            raise ProviderRejected(f"telegram: HTTP {response.status_code} ({description})")
        result = body.get("result") if isinstance(body, dict) and body.get("ok") else None
        if not isinstance(result, dict) or "message_id" not in result:
            raise OutcomeUnknown("telegram: an answer without a message id")
        return Accepted(f"{chat_id}:{result['message_id']}", clock.now())


# --- connecting a tenant's bot (management API, not the send path) ------------------------------


class BotApiRefused(Exception):
    """The Bot API said no (`ok: false`): a wrong or revoked token (401), a bad webhook URL..."""

    def __init__(self, method: str, status: int, description: str) -> None:
        super().__init__(f"telegram {method}: HTTP {status} ({description})")
        self.status = status
        self.description = description


def bot_call(
    token: str, method: str, payload: dict[str, Any] | None = None, base_url: str = BASE_URL
) -> Any:
    """One Bot API method (`getMe`, `setWebhook`...): its `result`, or `BotApiRefused`.
    Transport failures and 5xx go up as the provider errors they are (`RetryLater`,
    `OutcomeUnknown`): the caller answers 503 and the tenant tries again."""
    url = f"{base_url.rstrip('/')}/bot{token}/{method}"
    response = http.request("POST", url, json=payload or {})
    http.unknown_unless_client_error(response, "telegram")
    body = http.json_body(response)
    if not isinstance(body, dict) or not body.get("ok") or response.status_code >= 400:
        description = str(body.get("description", ""))[:200] if isinstance(body, dict) else ""
        raise BotApiRefused(method, response.status_code, description)
    return body.get("result")


def deep_link(bot_username: str, token: str) -> str:
    """`t.me/<bot>?start=<token>`: opening it sends the bot `/start <token>`."""
    return f"https://t.me/{bot_username}?start={token}"
