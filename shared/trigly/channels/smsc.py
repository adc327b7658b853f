"""SMSC.ru `POST https://smsc.ru/sys/send.php` with `fmt=3` (JSON answers; https://smsc.ru/api/).

Success is `{"id": …, "cnt": …}`; an error is `{"error": "…", "error_code": N}` (HTTP 200 either
way). Codes 4 (the IP is blocked for a minute after too many errors) and 9 (more than one
identical request within a minute) mean nothing was sent and it may go later: retried. The rest
(parameters, login, balance, a forbidden text or sender, a wrong or undeliverable number) are
final. SMSC has no idempotency key (its `id` parameter only labels a message), so a timeout, a
5xx or an unreadable answer is an unknown outcome.
"""

import httpx

from trigly.channels import http
from trigly.channels.content import phone_digits, text_of
from trigly.channels.credentials import SmscCredentials
from trigly.channels.provider import Accepted, OutcomeUnknown, ProviderRejected, RetryLater
from trigly.channels.ratelimit import Limit, NoLimit, RateLimiter
from trigly.messaging.message import StoredMessage
from trigly.platform import clock

BASE_URL = "https://smsc.ru"
RETRY = {4: 60.0, 9: 60.0}
REASONS = {
    1: "a parameter is wrong",
    2: "the login or password is wrong",
    3: "the account balance is too low",
    5: "the date format is wrong",
    6: "the text or the sender name is forbidden",
    7: "the phone number is invalid",
    8: "the message cannot be delivered to this number",
}


class SmscProvider:
    name = "smsc"

    def __init__(
        self,
        credentials: SmscCredentials,
        base_url: str = BASE_URL,
        limiter: RateLimiter | NoLimit | None = None,
        policy: http.RetryPolicy = http.DEFAULT_POLICY,
    ) -> None:
        self.credentials = credentials
        self.url = f"{base_url.rstrip('/')}/sys/send.php"
        self.limiter = limiter or NoLimit()
        self.policy = policy

    def form(self, message: StoredMessage) -> dict[str, str]:
        form = {
            "login": self.credentials.login,
            "psw": self.credentials.password.get_secret_value(),
            "phones": phone_digits(message, self.name),
            "mes": text_of(message, self.name),
            "fmt": "3",
            "charset": "utf-8",
        }
        if self.credentials.sender:
            form["sender"] = self.credentials.sender
        return form

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        form = self.form(message)

        def attempt() -> Accepted:
            self.limiter.acquire(tenant_id, [Limit("smsc", self.credentials.per_second)])
            return self.parse(http.request("POST", self.url, data=form))

        return http.with_retries(attempt, self.policy)

    def parse(self, response: httpx.Response) -> Accepted:
        if response.status_code == 429:
            raise RetryLater("smsc: too many requests", http.retry_after_header(response))
        http.unknown_unless_client_error(response, self.name)
        if response.status_code >= 400:
            raise ProviderRejected(f"smsc: HTTP {response.status_code}")
        body = http.json_body(response)
        if not isinstance(body, dict):
            raise OutcomeUnknown("smsc: an answer that is not its JSON")
        if "error_code" in body or "error" in body:
            try:
                code = int(body.get("error_code", 0))
            except (TypeError, ValueError):
                code = 0
            if code in RETRY:
                raise RetryLater(f"smsc: error {code}", RETRY[code])
            raise ProviderRejected(f"smsc: {REASONS.get(code, 'refused')} (error {code})")
        if body.get("id") is None:
            raise OutcomeUnknown("smsc: an answer without a message id")
        return Accepted(str(body["id"]), clock.now())
