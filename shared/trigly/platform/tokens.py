"""Signed customer links (CONTRACT §4): short, unguessable, bound to one tenant, customer,
purpose and expiry. `{claims}.{signature}`, both base64url; the HMAC key is a generated
Secrets Manager secret (read through Powertools Parameters, cached five minutes).

A forged or tampered token is `404`, an expired one `410` — never another customer's data.
Expiry runs on business time (the local stack can move it).
"""

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from trigly.platform import clock
from trigly.platform.errors import Gone, NotFound
from trigly.platform.settings import get_settings

SIGNATURE_BYTES = 16  # 128 bits: unguessable, and the link stays short enough for an SMS


def _key() -> bytes:
    from aws_lambda_powertools.utilities import parameters

    secret = parameters.get_secret(get_settings().link_secret_arn, max_age=300)
    return str(secret).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict[str, Any], expires_at: datetime) -> str:
    body = _b64(
        json.dumps({**claims, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode()
    )
    signature = hmac.new(_key(), body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return f"{body}.{_b64(signature)}"


def verify(token: str) -> dict[str, Any]:
    body, _, signature = token.partition(".")
    try:
        given = _unb64(signature)
        expected = hmac.new(_key(), body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
        valid = hmac.compare_digest(given, expected)
        claims = json.loads(_unb64(body)) if valid else None
    except (ValueError, UnicodeDecodeError):
        valid, claims = False, None
    if not valid or not isinstance(claims, dict):
        raise NotFound("No such link.")
    if clock.now().timestamp() >= claims.get("exp", 0):
        raise Gone("This link has expired.")
    return claims


def link(claims: dict[str, Any], expires_at: datetime) -> str:
    return f"{get_settings().public_url.rstrip('/')}/l/{sign(claims, expires_at)}"


def keyed_digest(namespace: str, value: str) -> str:
    """A keyed hash of a value (HMAC-SHA256 under the link-signing key, hex, 128 bits): what the
    suppression list stores instead of a contact, and what callback URLs carry as their secret.
    Without the key nobody can test a phone or an email against it."""
    message = f"{namespace}\x00{value}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()[:32]
