"""The maintenance plan a tenant's car follows: the tenant's own plans (make+model, make, or
"*" for unknown makes) over the built-in catalogue. Car events ask on every change, so the
tenant's plans are read through a short cache."""

from trigly.lifecycle.plans import MaintenancePlan, normalize_make, normalize_name, plan_for
from trigly.platform.cache import TenantCache
from trigly.store import prices as store


def plan_key(make: str, model: str | None) -> str:
    return f"{'*' if make == '*' else normalize_make(make)}|{normalize_name(model) or '*'}"


def _load(tenant_id: str) -> list[MaintenancePlan]:
    return [MaintenancePlan.model_validate_json(doc) for doc in store.list_plans(tenant_id)]


_cache = TenantCache(_load, seconds=60.0)


def tenant_plans(tenant_id: str) -> list[MaintenancePlan]:
    return _cache.get(tenant_id)


def plan_of(tenant_id: str, make: str | None, model: str | None) -> MaintenancePlan:
    return plan_for(make, model, tenant_plans(tenant_id))


def save_plan(tenant_id: str, plan: MaintenancePlan) -> MaintenancePlan:
    store.put_plan(tenant_id, plan_key(plan.make, plan.model), plan.model_dump_json())
    _cache.forget(tenant_id)
    return plan


def delete_plan(tenant_id: str, make: str, model: str | None) -> bool:
    _cache.forget(tenant_id)
    return store.delete_plan(tenant_id, plan_key(make, model))
