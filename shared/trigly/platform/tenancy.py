"""Tenants, their API keys and their inbound connectors.

The API key alone determines the tenant (CONTRACT §1): keys are stored only as SHA-256 hashes
(they are 256-bit random, so a fast hash is safe), shown once at creation, listed by prefix.
A key carries scopes (`read` ⊂ `marketing` ⊂ `admin`); a key made before scopes existed is
`admin`, as it could do everything then.
Connector signing secrets are `whsec_<base64>`; rotation keeps the old secret valid for an
overlap so a DMS can switch without losing a delivery.
"""

import base64
import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from trigly.platform import clock, ids
from trigly.platform.errors import FieldError, NotFound, Unauthorized, ValidationFailed
from trigly.store import keys
from trigly.store import tenants as store
from trigly.store.models import ApiKeyItem, ConnectorItem, TenantItem, secret_entry

API_KEY_PREFIX = "trg_"
PREFIX_SHOWN = 12
DEFAULT_SECRET_OVERLAP = timedelta(hours=24)


class Scope(StrEnum):
    """What an API key may do (CONTRACT §1); each scope includes the ones before it."""

    READ = "read"
    MARKETING = "marketing"
    ADMIN = "admin"


_INCLUDED = {
    Scope.READ: frozenset({Scope.READ}),
    Scope.MARKETING: frozenset({Scope.READ, Scope.MARKETING}),
    Scope.ADMIN: frozenset(Scope),
}


@dataclass(frozen=True)
class Caller:
    """Who an API request comes from: the key's tenant and what the key may do."""

    tenant_id: str
    key_id: str
    scopes: frozenset[Scope]

    def may(self, needed: Scope) -> bool:
        return any(needed in _INCLUDED[scope] for scope in self.scopes)


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    default_country: str
    timezone: str
    created_at: datetime
    currency: str = "RUB"  # ISO 4217; money without a `currency` is in this one


@dataclass(frozen=True)
class IssuedApiKey:
    key_id: str
    prefix: str
    label: str
    scopes: frozenset[Scope]
    api_key: str  # shown once, never stored


@dataclass(frozen=True)
class ApiKeyInfo:
    key_id: str
    prefix: str
    label: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class ConnectorSecret:
    secret: str
    created_at: datetime
    expires_at: datetime | None

    def valid_at(self, moment: datetime) -> bool:
        return self.expires_at is None or moment < self.expires_at


@dataclass(frozen=True)
class Connector:
    connector_id: str
    tenant_id: str
    name: str
    created_at: datetime
    outbound_url: str | None
    secrets: tuple[ConnectorSecret, ...]

    def signing_secrets(self, moment: datetime) -> list[str]:
        return [s.secret for s in self.secrets if s.valid_at(moment)]


@dataclass(frozen=True)
class IssuedConnector:
    connector_id: str
    name: str
    secret: str  # shown once


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create_tenant(
    name: str,
    *,
    default_country: str = "RU",
    timezone: str = "Europe/Moscow",
    currency: str = "RUB",
) -> Tenant:
    ZoneInfo(timezone)  # fail early on a typo
    tenant = Tenant(
        tenant_id=ids.new_id("ten"),
        name=name,
        default_country=default_country.upper(),
        timezone=timezone,
        created_at=clock.now(),
        currency=currency.upper(),
    )
    store.put_tenant(
        tenant.tenant_id,
        TenantItem(
            keys.tenant(tenant.tenant_id),
            "TENANT",
            name=tenant.name,
            default_country=tenant.default_country,
            timezone=tenant.timezone,
            currency=tenant.currency,
            created_at=clock.isoformat(tenant.created_at),
        ),
    )
    _tenant_ids_cache.clear()
    return tenant


def get_tenant(tenant_id: str) -> Tenant:
    item = store.get_tenant(tenant_id)
    return Tenant(
        tenant_id=tenant_id,
        name=item.name,
        default_country=item.default_country,
        timezone=item.timezone,
        created_at=datetime.fromisoformat(item.created_at),
        currency=item.currency or "RUB",
    )


def list_tenant_ids() -> list[str]:
    return [item.tenant_id for item in store.list_tenants()]


def _scopes(stored: Iterable[str] | None) -> frozenset[Scope]:
    """A key's scopes as stored; none stored means a key from before scopes, which is `admin`."""
    return frozenset(Scope(s) for s in stored) if stored else frozenset({Scope.ADMIN})


def issue_api_key(
    tenant_id: str, label: str = "default", scopes: Iterable[Scope] = (Scope.ADMIN,)
) -> IssuedApiKey:
    """A new key, shown once. Operator tools (the CLI, the local demo) issue `admin` keys."""
    granted = frozenset(scopes)
    if not granted:
        raise ValueError("An API key needs at least one scope.")
    store.get_tenant(tenant_id)
    key_id = ids.new_id("key")
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key_hash = _hash_key(plaintext)
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "key_id": key_id,
        "prefix": plaintext[:PREFIX_SHOWN],
        "label": label,
        "scopes": {scope.value for scope in granted},
        "key_hash": key_hash,
        "created_at": clock.isoformat(clock.now()),
    }
    store.put_api_key(
        ApiKeyItem(keys.api_key(key_hash), "APIKEY", **fields),
        ApiKeyItem(keys.tenant(tenant_id), f"APIKEY#{key_id}", **fields),
    )
    return IssuedApiKey(
        key_id=key_id,
        prefix=plaintext[:PREFIX_SHOWN],
        label=label,
        scopes=granted,
        api_key=plaintext,
    )


def list_api_keys(tenant_id: str) -> list[ApiKeyInfo]:
    items = sorted(store.list_api_keys(tenant_id), key=lambda i: i.key_id, reverse=True)
    return [
        ApiKeyInfo(
            key_id=i.key_id,
            prefix=i.prefix,
            label=i.label,
            scopes=_scopes(i.scopes),
            created_at=datetime.fromisoformat(i.created_at),
            revoked_at=_parse_time(i.revoked_at),
        )
        for i in items
    ]


def revoke_api_key(tenant_id: str, key_id: str) -> None:
    store.revoke_api_key(tenant_id, key_id, clock.isoformat(clock.now()))


def authenticate(authorization: str | None) -> Caller:
    """The tenant and scopes of a `Bearer <api key>` header; anything else is 401."""
    scheme, _, credential = (authorization or "").partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential.startswith(API_KEY_PREFIX):
        raise Unauthorized("A valid API key is required: `Authorization: Bearer <api key>`.")
    item = store.get_api_key(_hash_key(credential))
    if item is None or item.revoked_at:
        raise Unauthorized("A valid API key is required: `Authorization: Bearer <api key>`.")
    return Caller(item.tenant_id, item.key_id, _scopes(item.scopes))


def _to_connector(item: ConnectorItem) -> Connector:
    return Connector(
        connector_id=item.connector_id,
        tenant_id=item.tenant_id,
        name=item.name,
        created_at=datetime.fromisoformat(item.created_at),
        outbound_url=item.outbound_url,
        secrets=tuple(
            ConnectorSecret(
                secret=s.secret,
                created_at=datetime.fromisoformat(s.created_at),
                expires_at=_parse_time(s.expires_at),
            )
            for s in item.secrets or []
        ),
    )


def create_connector(tenant_id: str, name: str, outbound_url: str | None = None) -> IssuedConnector:
    from trigly.platform import egress  # httpx: not in every function's cold start

    if outbound_url and (reason := egress.refusal(outbound_url)):
        raise ValidationFailed(errors=[FieldError("outbound_url", reason)])
    store.get_tenant(tenant_id)
    connector_id = ids.new_id("con")
    secret = _new_webhook_secret()
    created_at = clock.isoformat(clock.now())
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "connector_id": connector_id,
        "name": name,
        "created_at": created_at,
        "outbound_url": outbound_url,
    }
    store.put_connector(
        ConnectorItem(
            keys.connector(connector_id),
            "CONNECTOR",
            secrets=[secret_entry(secret, created_at)],
            **fields,
        ),
        ConnectorItem(keys.tenant(tenant_id), f"CONNECTOR#{connector_id}", **fields),
    )
    return IssuedConnector(connector_id=connector_id, name=name, secret=secret)


def find_connector(connector_id: str) -> Connector | None:
    """The connector a webhook names, or None (answered exactly like a bad signature)."""
    item = store.get_connector(connector_id)
    return _to_connector(item) if item else None


def get_connector(tenant_id: str, connector_id: str) -> Connector:
    connector = find_connector(connector_id)
    if connector is None or connector.tenant_id != tenant_id:
        raise NotFound("No such connector.")
    return connector


def list_connectors(tenant_id: str) -> list[Connector]:
    items = sorted(store.list_connectors(tenant_id), key=lambda i: i.connector_id, reverse=True)
    return [_to_connector(i) for i in items]


def rotate_connector_secret(
    tenant_id: str, connector_id: str, overlap: timedelta = DEFAULT_SECRET_OVERLAP
) -> str:
    """A new secret, valid now; the secrets valid so far stay valid for `overlap`, then expire."""
    get_connector(tenant_id, connector_id)  # tenant check
    item = store.get_connector(connector_id)
    assert item is not None
    now = clock.wall_now()
    until = clock.isoformat(now + overlap)
    kept = [
        secret_entry(s.secret, s.created_at, s.expires_at or until)
        for s in item.secrets or []
        if s.expires_at is None or datetime.fromisoformat(s.expires_at) > now
    ]
    secret = _new_webhook_secret()
    store.replace_connector_secrets(item, [secret_entry(secret, clock.isoformat(now)), *kept])
    return secret


_TENANT_CACHE_SECONDS = 300.0
_tenant_cache: dict[str, tuple[float, Tenant]] = {}


_tenant_ids_cache: list[tuple[float, list[str]]] = []


def list_tenant_ids_cached() -> list[str]:
    """The tenant directory for scheduled jobs, read at most every few minutes (the local stack
    fires hundreds of hourly ticks a second while it replays); a tenant created in this process
    shows at once."""
    moment = time.monotonic()
    if not _tenant_ids_cache or moment - _tenant_ids_cache[0][0] >= _TENANT_CACHE_SECONDS:
        _tenant_ids_cache[:] = [(moment, list_tenant_ids())]
    return _tenant_ids_cache[0][1]


def get_tenant_cached(tenant_id: str) -> Tenant:
    """Tenant settings change rarely; hot paths read them at most every few minutes."""
    hit = _tenant_cache.get(tenant_id)
    moment = time.monotonic()
    if hit and moment - hit[0] < _TENANT_CACHE_SECONDS:
        return hit[1]
    tenant = get_tenant(tenant_id)
    _tenant_cache[tenant_id] = (moment, tenant)
    return tenant
