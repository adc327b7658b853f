"""Tenants, API keys and connectors (access patterns 11): small items found by key."""

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from trigly.platform.errors import Conflict, NotFound
from trigly.store import keys
from trigly.store.conditions import held
from trigly.store.models import (
    ApiKeyItem,
    ConnectorItem,
    LocationItem,
    MainItem,
    MessagingSettingsItem,
    SecretMap,
    TemplateItem,
    TenantDirectoryItem,
    TenantItem,
    bind,
)


def _transaction() -> TransactWrite:
    bind()
    return TransactWrite(connection=MainItem._get_connection().connection)


def put_tenant(tenant_id: str, item: TenantItem) -> None:
    directory = TenantDirectoryItem(
        keys.TENANT_DIRECTORY, keys.tenant(tenant_id), tenant_id=tenant_id, timezone=item.timezone
    )
    with _transaction() as tx:
        tx.save(item, condition=TenantItem.pk.does_not_exist())
        tx.save(directory)


def get_tenant(tenant_id: str) -> TenantItem:
    bind()
    try:
        item = TenantItem.get(keys.tenant(tenant_id), "TENANT")
    except DoesNotExist as exc:
        raise NotFound("No such tenant.") from exc
    assert isinstance(item, TenantItem)
    return item


def list_tenants() -> list[TenantDirectoryItem]:
    bind()
    return [
        item
        for item in TenantDirectoryItem.query(keys.TENANT_DIRECTORY)
        if isinstance(item, TenantDirectoryItem)
    ]


def put_api_key(lookup: ApiKeyItem, listing: ApiKeyItem) -> None:
    bind()
    with _transaction() as tx:
        tx.save(lookup, condition=ApiKeyItem.pk.does_not_exist())
        tx.save(listing, condition=ApiKeyItem.pk.does_not_exist())


def get_api_key(key_hash: str) -> ApiKeyItem | None:
    bind()
    try:
        item = ApiKeyItem.get(keys.api_key(key_hash), "APIKEY")
    except DoesNotExist:
        return None
    return item if isinstance(item, ApiKeyItem) else None


def list_api_keys(tenant_id: str) -> list[ApiKeyItem]:
    bind()
    query = ApiKeyItem.query(keys.tenant(tenant_id), ApiKeyItem.sk.startswith("APIKEY#"))
    return [item for item in query if isinstance(item, ApiKeyItem)]


def revoke_api_key(tenant_id: str, key_id: str, revoked_at: str) -> None:
    bind()
    try:
        listing = ApiKeyItem.get(keys.tenant(tenant_id), f"APIKEY#{key_id}")
    except DoesNotExist as exc:
        raise NotFound("No such API key.") from exc
    assert isinstance(listing, ApiKeyItem)
    lookup = ApiKeyItem(keys.api_key(listing.key_hash), "APIKEY")
    try:
        with _transaction() as tx:
            for item in (listing, lookup):
                tx.update(
                    item,
                    actions=[ApiKeyItem.revoked_at.set(revoked_at)],
                    condition=ApiKeyItem.revoked_at.does_not_exist(),
                )
    except TransactWriteError as exc:
        raise Conflict("The API key is already revoked.") from exc


def put_connector(lookup: ConnectorItem, listing: ConnectorItem) -> None:
    bind()
    with _transaction() as tx:
        tx.save(lookup, condition=ConnectorItem.pk.does_not_exist())
        tx.save(listing, condition=ConnectorItem.pk.does_not_exist())


def get_connector(connector_id: str) -> ConnectorItem | None:
    bind()
    try:
        item = ConnectorItem.get(keys.connector(connector_id), "CONNECTOR")
    except DoesNotExist:
        return None
    return item if isinstance(item, ConnectorItem) else None


def list_connectors(tenant_id: str) -> list[ConnectorItem]:
    bind()
    query = ConnectorItem.query(keys.tenant(tenant_id), ConnectorItem.sk.startswith("CONNECTOR#"))
    return [item for item in query if isinstance(item, ConnectorItem)]


def replace_connector_secrets(connector: ConnectorItem, secrets: list[SecretMap]) -> None:
    bind()
    try:
        connector.update(
            actions=[ConnectorItem.secrets.set(secrets)],
            condition=ConnectorItem.pk.exists(),
        )
    except UpdateError as exc:
        raise NotFound("No such connector.") from exc


def put_location(tenant_id: str, location_id: str, doc: str) -> None:
    bind()
    LocationItem(keys.tenant(tenant_id), f"LOCATION#{location_id}", doc=doc).save()


def get_location(tenant_id: str, location_id: str) -> str | None:
    bind()
    try:
        return LocationItem.get(keys.tenant(tenant_id), f"LOCATION#{location_id}").doc
    except DoesNotExist:
        return None


def list_locations(tenant_id: str) -> list[str]:
    bind()
    query = LocationItem.query(keys.tenant(tenant_id), LocationItem.sk.startswith("LOCATION#"))
    return [item.doc for item in query if isinstance(item, LocationItem)]


def put_template(tenant_id: str, template_id: str, doc: str) -> None:
    bind()
    TemplateItem(keys.tenant(tenant_id), f"TEMPLATE#{template_id}", doc=doc).save()


def get_template(tenant_id: str, template_id: str) -> str | None:
    bind()
    try:
        return TemplateItem.get(keys.tenant(tenant_id), f"TEMPLATE#{template_id}").doc
    except DoesNotExist:
        return None


def list_templates(tenant_id: str) -> list[str]:
    bind()
    query = TemplateItem.query(keys.tenant(tenant_id), TemplateItem.sk.startswith("TEMPLATE#"))
    return [item.doc for item in query]


def delete_template(tenant_id: str, template_id: str) -> None:
    bind()
    TemplateItem(keys.tenant(tenant_id), f"TEMPLATE#{template_id}").delete()


MESSAGING_SETTINGS_SK = "SETTINGS#MESSAGING"


def get_messaging_settings(tenant_id: str) -> tuple[str, int] | None:
    """(document, version) of the tenant's messaging settings; None while it set none. A
    consistent read: a change applies to every message decided after it (CONTRACT §3)."""
    bind()
    try:
        item = MessagingSettingsItem.get(
            keys.tenant(tenant_id), MESSAGING_SETTINGS_SK, consistent_read=True
        )
    except DoesNotExist:
        return None
    return item.doc, int(item.version or 0)


def put_messaging_settings(tenant_id: str, doc: str, version: int | None) -> bool:
    """Write the settings over `version` (None: the first); False when they changed meanwhile."""
    bind()
    item = MessagingSettingsItem(keys.tenant(tenant_id), MESSAGING_SETTINGS_SK, doc=doc)
    if version is not None:
        item.version = version
    return held(item.save)
