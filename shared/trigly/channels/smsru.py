"""SMS.ru `POST https://sms.ru/sms/send` with `json=1` (https://sms.ru/api/send).

The answer is HTTP 200 with a status per request and per number. Codes that mean the message
surely went nowhere and may go later — 220 (service temporarily unavailable) and 231 (the same
text to the same number within a minute) — are retried; the other error codes (a wrong api_id,
no money, a wrong or stop-listed number, an unapproved sender…) are final. SMS.ru has no
idempotency key, so a timeout, a 5xx or an answer we cannot read is an unknown outcome. The
sender name is the tenant's own (`sender` in its credentials).
"""

from typing import Any

import httpx

from trigly.channels import http
from trigly.channels.content import phone_digits, text_of
from trigly.channels.credentials import SmsRuCredentials
from trigly.channels.provider import Accepted, OutcomeUnknown, ProviderRejected, RetryLater
from trigly.channels.ratelimit import Limit, NoLimit, RateLimiter
from trigly.messaging.message import StoredMessage
from trigly.platform import clock

BASE_URL = "https://sms.ru"
RETRY = {220: None, 231: 60.0}  # status code -> seconds to wait (None: backoff)
REASONS = {
    200: "the api_id is wrong",
    201: "the account balance is too low",
    202: "the phone number is invalid",
    203: "the message has no text",
    204: "the sender name is not approved",
    205: "the message is too long",
    206: "the daily sending limit is reached",
    207: "messages cannot be sent to this number",
    209: "the number is on the account's stop list",
    230: "the daily limit of messages to this number is reached",
    232: "the daily limit of identical messages to this number is reached",
    300: "the token is wrong",
    301: "the api_id or login is wrong",
    302: "the account is not confirmed",
}


class SmsRuProvider:
    name = "smsru"

    def __init__(
        self,
        credentials: SmsRuCredentials,
        base_url: str = BASE_URL,
        limiter: RateLimiter | NoLimit | None = None,
        policy: http.RetryPolicy = http.DEFAULT_POLICY,
    ) -> None:
        self.credentials = credentials
        self.url = f"{base_url.rstrip('/')}/sms/send"
        self.limiter = limiter or NoLimit()
        self.policy = policy

    def form(self, message: StoredMessage) -> dict[str, str]:
        form = {
            "api_id": self.credentials.api_id.get_secret_value(),
            "to": phone_digits(message, self.name),
            "msg": text_of(message, self.name),
            "json": "1",
        }
        if self.credentials.sender:
            form["from"] = self.credentials.sender
        if self.credentials.test:
            form["test"] = "1"
        return form

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        form = self.form(message)

        def attempt() -> Accepted:
            self.limiter.acquire(tenant_id, [Limit("smsru", self.credentials.per_second)])
            return self.parse(http.request("POST", self.url, data=form), form["to"])

        return http.with_retries(attempt, self.policy)

    def parse(self, response: httpx.Response, to: str) -> Accepted:
        if response.status_code == 429:
            raise RetryLater("smsru: too many requests", http.retry_after_header(response))
        http.unknown_unless_client_error(response, self.name)
        if response.status_code >= 400:
            raise ProviderRejected(f"smsru: HTTP {response.status_code}")
        body = http.json_body(response)
        if not isinstance(body, dict) or "status" not in body:
            raise OutcomeUnknown("smsru: an answer that is not its JSON")
        if body["status"] != "OK":
            self.refuse(body)
        sms = body.get("sms")
        result: Any = sms.get(to) if isinstance(sms, dict) else None
        if not isinstance(result, dict):
            raise OutcomeUnknown("smsru: no result for the number")
        if result.get("status") != "OK":
            self.refuse(result)
        if not result.get("sms_id"):
            raise OutcomeUnknown("smsru: an accepted message without an id")
        return Accepted(str(result["sms_id"]), clock.now())

    def refuse(self, result: dict[str, Any]) -> None:
        try:
            code = int(result.get("status_code", 0))
        except (TypeError, ValueError):
            code = 0
        if code in RETRY:
            raise RetryLater(f"smsru: status {code}", RETRY[code])
        if code in {0, 500}:  # "server error, repeat the request": it may have gone
            raise OutcomeUnknown(f"smsru: status {code}")
        raise ProviderRejected(f"smsru: {REASONS.get(code, 'refused')} (status {code})")
