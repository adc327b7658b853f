"""Mobile push through FCM HTTP v1: `POST fcm.googleapis.com/v1/projects/{id}/messages:send`
(https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send).

The OAuth2 access token comes from the tenant's service-account key: a JWT signed RS256
(`cryptography`) traded at the key's `token_uri` (jwt-bearer grant), cached until five minutes
before it expires. A 401 from FCM drops the cached token and retries (the request was not
processed). Errors by `errorCode`: UNREGISTERED (the app was removed or the token expired),
INVALID_ARGUMENT, SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR are final; QUOTA_EXCEEDED (429)
is retried after `Retry-After`; INTERNAL and UNAVAILABLE (5xx) or a timeout are an unknown
outcome (FCM has no idempotency key). A revoked service-account key (`invalid_grant`) is final.
"""

import base64
import json
import threading
import time
from typing import Any

import httpx

from trigly.channels import http
from trigly.channels.content import linked_id, text_of
from trigly.channels.credentials import FcmCredentials, ServiceAccount
from trigly.channels.provider import Accepted, OutcomeUnknown, ProviderRejected, RetryLater
from trigly.channels.ratelimit import NoLimit, RateLimiter
from trigly.messaging.message import StoredMessage
from trigly.platform import clock

BASE_URL = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
TOKEN_LIFETIME = 3600
REFRESH_MARGIN = 300

# client_email -> (access token, expires at epoch seconds)
_tokens: dict[str, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def signed_assertion(account: ServiceAccount, now: float) -> str:
    """The RS256 JWT a service account trades for an access token."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    header = {"alg": "RS256", "typ": "JWT"}
    claims = {
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": account.token_uri,
        "iat": int(now),
        "exp": int(now) + TOKEN_LIFETIME,
    }
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    key = serialization.load_pem_private_key(
        account.private_key.get_secret_value().encode(), password=None
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ProviderRejected("fcm: the service account's key is not an RSA key")
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def access_token(account: ServiceAccount) -> str:
    now = time.time()
    cached = _tokens.get(account.client_email)
    if cached and cached[1] - REFRESH_MARGIN > now:
        return cached[0]
    try:
        response = http.request(
            "POST",
            account.token_uri,
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": signed_assertion(account, now),
            },
        )
    except OutcomeUnknown as exc:  # a token request sends nothing to anyone: safe to repeat
        raise RetryLater("fcm: the token endpoint did not answer") from exc
    body = http.json_body(response)
    if response.status_code == 429 or response.status_code >= 500:
        # Asking for a token sends nothing to the customer: any failure here is safe to retry.
        raise RetryLater(f"fcm: token endpoint HTTP {response.status_code}")
    if response.status_code >= 400 or not isinstance(body, dict) or "access_token" not in body:
        error = body.get("error") if isinstance(body, dict) else None
        raise ProviderRejected(f"fcm: the service account was refused ({error or 'no token'})")
    token = str(body["access_token"])
    expires_in = float(body.get("expires_in", TOKEN_LIFETIME))
    with _tokens_lock:
        _tokens[account.client_email] = (token, now + expires_in)
    return token


def forget_token(account: ServiceAccount) -> None:
    with _tokens_lock:
        _tokens.pop(account.client_email, None)


class FcmProvider:
    name = "fcm"

    def __init__(
        self,
        credentials: FcmCredentials,
        base_url: str = BASE_URL,
        limiter: RateLimiter | NoLimit | None = None,
        policy: http.RetryPolicy = http.DEFAULT_POLICY,
    ) -> None:
        self.account = credentials.service_account
        self.url = f"{base_url.rstrip('/')}/v1/projects/{self.account.project_id}/messages:send"
        self.limiter = limiter or NoLimit()
        self.policy = policy

    def payload(self, message: StoredMessage) -> dict[str, Any]:
        data = {"message_id": message.message_id, "kind": message.kind}
        data |= {f"link_{link['purpose']}": link["url"] for link in message.links}
        notification = {"body": text_of(message, self.name)}
        if message.subject:
            notification["title"] = message.subject
        return {
            "message": {
                "token": linked_id(message, self.name, "device token"),
                "notification": notification,
                "data": data,
            }
        }

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        payload = self.payload(message)

        def attempt() -> Accepted:
            self.limiter.acquire(tenant_id, [])
            headers = {"Authorization": f"Bearer {access_token(self.account)}"}
            return self.parse(http.request("POST", self.url, json=payload, headers=headers))

        return http.with_retries(attempt, self.policy)

    def parse(self, response: httpx.Response) -> Accepted:
        body = http.json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        code = _error_code(error)
        if response.status_code == 429:
            raise RetryLater(f"fcm: {code or 'quota exceeded'}", http.retry_after_header(response))
        http.unknown_unless_client_error(response, self.name)
        if response.status_code == 401 and code != "THIRD_PARTY_AUTH_ERROR":
            forget_token(self.account)  # our access token expired: a new one, and try again
            raise RetryLater("fcm: the access token was refused")
        if code == "UNREGISTERED" or response.status_code == 404:
            raise ProviderRejected("fcm: the device token is no longer registered")
        if response.status_code >= 400:
            raise ProviderRejected(f"fcm: refused ({code or response.status_code})")
        name = body.get("name") if isinstance(body, dict) else None
        if not name:
            raise OutcomeUnknown("fcm: an answer without a message name")
        return Accepted(str(name), clock.now())


def _error_code(error: Any) -> str | None:
    if not isinstance(error, dict):
        return None
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    status = error.get("status")
    return str(status) if status else None
