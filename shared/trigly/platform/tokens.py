"""Signed customer links (CONTRACT §4): short, unguessable, bound to one tenant, customer,
purpose and expiry. `{key id}.{claims}.{signature}`, claims and signature base64url; the HMAC
key is one of the link keys in a Secrets Manager secret (read through Powertools Parameters,
cached five minutes).

The link keys rotate (ADR 0014): the secret holds a key ring, `{"current": "1", "keys": {"0":
{"secret": …, "retired_at": …}, "1": {"secret": …}}}` (a plain string, as the stack generates
it, is the ring of one key `0`). New tokens are signed with the current key; a token names its
key, so one signed before a rotation still verifies for as long as any token of that key can be
valid (`MAX_LIFETIME` after the key retired). Tokens from before key ids (`{claims}.{signature}`)
are key `0`'s. Callback and webhook secrets derived from the link keys verify under every key
still in the ring the same way.

A forged or tampered token is `404`, an expired one `410` — never another customer's data.
Expiry runs on business time (the local stack can move it).
"""

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from trigly.platform import clock
from trigly.platform.errors import Gone, NotFound
from trigly.platform.settings import get_settings

SIGNATURE_BYTES = 16  # 128 bits: unguessable, and the link stays short enough for an SMS
# The longest a link may live (an unsubscribe link in an old newsletter); a retired key keeps
# verifying this long after its retirement, and no token it signed can claim a later expiry.
MAX_LIFETIME = timedelta(days=366)
FIRST_KEY = "0"


@dataclass(frozen=True)
class LinkKey:
    key_id: str
    secret: bytes
    retired_at: datetime | None = None
    revoked: bool = False

    def verifies_until(self) -> datetime | None:
        """The last moment a token of this key may be valid (None: the current key)."""
        return self.retired_at + MAX_LIFETIME if self.retired_at else None


@dataclass(frozen=True)
class KeyRing:
    current: str
    keys: dict[str, LinkKey]

    @classmethod
    def parse(cls, value: str) -> "KeyRing":
        try:
            document = json.loads(value)
        except ValueError:
            document = None
        if not isinstance(document, dict) or "keys" not in document:
            return cls(FIRST_KEY, {FIRST_KEY: LinkKey(FIRST_KEY, value.encode())})
        keys = {
            key_id: LinkKey(
                key_id,
                str(entry["secret"]).encode(),
                datetime.fromisoformat(entry["retired_at"]) if entry.get("retired_at") else None,
                bool(entry.get("revoked", False)),
            )
            for key_id, entry in document["keys"].items()
        }
        return cls(str(document["current"]), keys)

    def dump(self) -> str:
        keys: dict[str, dict[str, Any]] = {}
        for key in self.keys.values():
            entry: dict[str, Any] = {"secret": key.secret.decode()}
            if key.retired_at:
                entry["retired_at"] = clock.isoformat(key.retired_at)
            if key.revoked:
                entry["revoked"] = True
            keys[key.key_id] = entry
        return json.dumps({"current": self.current, "keys": keys})

    def signing_key(self) -> LinkKey:
        return self.keys[self.current]

    def verifying_key(self, key_id: str, now: datetime) -> LinkKey | None:
        key = self.keys.get(key_id)
        if key is None or key.revoked:
            return None
        until = key.verifies_until()
        return key if until is None or now < until else None

    def usable(self, now: datetime) -> list[LinkKey]:
        """Every key a derived secret may have been made with and is still honoured under."""
        found = [self.verifying_key(key_id, now) for key_id in self.keys]
        return [key for key in found if key is not None]

    def rotated(self, now: datetime, *, revoke_previous: bool = False) -> "KeyRing":
        """A new current key; the old one retires now (or is revoked: a leaked key)."""
        new_id = str(max(int(k) for k in self.keys) + 1)
        keys = {
            key_id: LinkKey(
                key_id,
                key.secret,
                key.retired_at or (now if key_id == self.current else None),
                key.revoked or (revoke_previous and key_id == self.current),
            )
            for key_id, key in self.keys.items()
        }
        keys[new_id] = LinkKey(new_id, secrets.token_urlsafe(48).encode())
        return KeyRing(new_id, keys)


def _secret_value(arn: str, *, fresh: bool = False) -> str:
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(arn, max_age=300, force_fetch=fresh))


def key_ring(*, fresh: bool = False) -> KeyRing:
    return KeyRing.parse(_secret_value(get_settings().link_secret_arn, fresh=fresh))


def _verifying_key(key_id: str, now: datetime) -> LinkKey | None:
    ring = key_ring()
    if key_id not in ring.keys:
        # Signed by a key newer than this container's cached ring: read the secret again.
        ring = key_ring(fresh=True)
    return ring.verifying_key(key_id, now)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]


def sign(claims: dict[str, Any], expires_at: datetime) -> str:
    key = key_ring().signing_key()
    body = _b64(
        json.dumps({**claims, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode()
    )
    signed = f"{key.key_id}.{body}"
    return f"{signed}.{_b64(_mac(key.secret, signed))}"


def verify(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) == 2:  # from before key ids: key 0, and the MAC covers the claims alone
        key_id, (body, signature), signed = FIRST_KEY, parts, parts[0]
    elif len(parts) == 3:
        key_id, body, signature = parts
        signed = f"{key_id}.{body}"
    else:
        raise NotFound("No such link.")
    key = _verifying_key(key_id, clock.now())
    try:
        valid = key is not None and hmac.compare_digest(_unb64(signature), _mac(key.secret, signed))
        claims = json.loads(_unb64(body)) if valid else None
    except (ValueError, UnicodeDecodeError):
        valid, claims = False, None
    if not valid or not isinstance(claims, dict) or key is None:
        raise NotFound("No such link.")
    until = key.verifies_until()
    if until is not None and claims.get("exp", 0) > until.timestamp():
        raise NotFound("No such link.")  # a retired key cannot mint a link outliving it
    if clock.now().timestamp() >= claims.get("exp", 0):
        raise Gone("This link has expired.")
    return claims


def link(claims: dict[str, Any], expires_at: datetime) -> str:
    return f"{get_settings().public_url.rstrip('/')}/l/{sign(claims, expires_at)}"


def _digest(key: bytes, namespace: str, value: str) -> str:
    message = f"{namespace}\x00{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def keyed_digest(namespace: str, value: str) -> str:
    """A secret derived from the current link key (HMAC-SHA256, hex, 128 bits): what callback
    URLs and webhook registrations carry, so nothing needs storing."""
    return _digest(key_ring().signing_key().secret, namespace, value)


def keyed_digest_matches(namespace: str, value: str, given: str) -> bool:
    """Whether `given` is the derived secret under any link key still honoured (a rotation
    does not break a callback URL or a webhook registered before it)."""
    keys = key_ring().usable(clock.now())
    return any(hmac.compare_digest(_digest(k.secret, namespace, value), given) for k in keys)


def rotate_link_key(*, revoke_previous: bool = False) -> str:
    """Make a new current link key (the ring is written back to the secret); returns its id.
    Links signed so far keep working until they expire, unless `revoke_previous` (a leaked key)."""
    from trigly.platform import aws

    arn = get_settings().link_secret_arn
    ring = key_ring(fresh=True).rotated(clock.now(), revoke_previous=revoke_previous)
    aws.secretsmanager().put_secret_value(SecretId=arn, SecretString=ring.dump())
    key_ring(fresh=True)
    return ring.current


def suppression_digest(namespace: str, value: str) -> str:
    """The suppression list's keyed hash of a contact, under its own key, which never rotates:
    a rotation of the link keys must not make the list forget an opt-out (ADR 0014)."""
    key = _secret_value(get_settings().suppression_key_arn).encode()
    return _digest(key, namespace, value)


def legacy_suppression_digest(namespace: str, value: str) -> str | None:
    """The hash the list used before it had its own key (under link key `0`), or None when the
    stack's ring has no key `0`: entries written then are still read (ADR 0014)."""
    first = key_ring().keys.get(FIRST_KEY)
    return _digest(first.secret, namespace, value) if first else None
