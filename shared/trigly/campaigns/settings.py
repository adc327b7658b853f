"""The tenant's marketing settings (CONTRACT §6 `PUT /v1/settings/marketing`): the global
control group and whether marketing campaigns must carry an `erid`."""

from typing import Any

from trigly.campaigns.model import MarketingSettings
from trigly.store import campaigns as store


def marketing_settings(tenant_id: str) -> MarketingSettings:
    doc = store.load_marketing_settings(tenant_id)
    return MarketingSettings.model_validate_json(doc) if doc else MarketingSettings()


def change_marketing_settings(tenant_id: str, change: dict[str, Any]) -> MarketingSettings:
    """A partial change: only the fields named change."""
    merged = MarketingSettings.model_validate(
        {**marketing_settings(tenant_id).model_dump(), **change}
    )
    store.save_marketing_settings(tenant_id, merged.model_dump_json())
    return merged
