"""Key builders. Every tenant-owned key starts with `T#{tenant_id}`, so a key built for one tenant
can never address another tenant's item; only credential lookups (API key hash, connector id)
are global, because they are how the tenant is found."""


def tenant(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def customer(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#C#{customer_id}"


def vehicle(tenant_id: str, vin: str) -> str:
    return f"T#{tenant_id}#V#{vin}"


def stock(tenant_id: str) -> str:
    return f"T#{tenant_id}#STOCK"


def external_id(tenant_id: str, connector_id: str, external: str) -> str:
    return f"T#{tenant_id}#XID#{connector_id}#{external}"


def phone(tenant_id: str, e164: str) -> str:
    return f"T#{tenant_id}#PHONE#{e164}"


def email(tenant_id: str, address: str) -> str:
    return f"T#{tenant_id}#EMAIL#{address}"


def api_key(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def connector(connector_id: str) -> str:
    return f"CONNECTOR#{connector_id}"


def event_claim(tenant_id: str, connector_id: str, event_id: str) -> str:
    return f"T#{tenant_id}#EVT#{connector_id}#{event_id}"


TENANT_DIRECTORY = "TENANTS"


def segment_members(tenant_id: str, segment_id: str) -> str:
    return f"T#{tenant_id}#SEGMENT#{segment_id}"
