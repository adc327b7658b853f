"""The tenant's messaging settings (CONTRACT §3 `GET`/`PUT /v1/settings/messaging`): sending
hours, frequency caps, cascade per purpose, sandbox mode.

A `PUT` names only what it changes: its body is merged into the stored settings (objects field
by field, lists and values replaced whole), the result validated as a whole and written under
the version it was read at, so two concurrent changes never lose each other. Every decision
reads the settings afresh (one consistent GetItem): a change applies to every message decided
after it, in every container at once.
"""

from typing import Any

from pydantic import ValidationError

from trigly.messaging.policy import MessagingPolicy, MessagingSettings
from trigly.platform.errors import Conflict, FieldError, ValidationFailed
from trigly.platform.tenancy import Tenant
from trigly.store import tenants as store

_ATTEMPTS = 5


def _stored(tenant_id: str) -> tuple[MessagingSettings, int | None]:
    found = store.get_messaging_settings(tenant_id)
    if found is None:
        return MessagingSettings(), None
    return MessagingSettings.model_validate_json(found[0]), found[1]


def messaging_settings(tenant_id: str) -> MessagingSettings:
    """The tenant's settings; CONTRACT §3 defaults for what it never set."""
    return _stored(tenant_id)[0]


def _merged(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = _merged(merged[name], value)
        else:
            merged[name] = value
    return merged


def change_settings(tenant_id: str, changes: dict[str, Any]) -> MessagingSettings:
    """Apply a partial change; `ValidationFailed` (422, with field paths) when the result is not
    valid — an empty sending window, an unknown channel or purpose, a cap below 1."""
    for _ in range(_ATTEMPTS):
        current, version = _stored(tenant_id)
        document = _merged(current.model_dump(mode="json", by_alias=True), changes)
        try:
            changed = MessagingSettings.model_validate(document)
        except ValidationError as exc:
            raise ValidationFailed(errors=_errors(exc)) from exc
        doc = changed.model_dump_json(by_alias=True)
        if store.put_messaging_settings(tenant_id, doc, version):
            return changed
    raise Conflict("The settings kept changing meanwhile; try again.")


def _errors(exc: ValidationError) -> list[FieldError]:
    from trigly.events.validation import field_errors  # the event schemas: not in a cold start

    # A dict key that is not a purpose is reported by pydantic under a `[key]` suffix.
    return [FieldError(e.field.removesuffix(".[key]"), e.message) for e in field_errors(exc)]


def policy_for(tenant: Tenant) -> MessagingPolicy:
    """The policy a decision reads: the tenant's settings in the tenant's zone."""
    return MessagingPolicy.of(messaging_settings(tenant.tenant_id), timezone=tenant.timezone)
