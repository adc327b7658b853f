"""The maintenance plan a tenant's car follows: the tenant's own plans (make+model, make, or
"*" for unknown makes) over the built-in catalogue. Car events ask on every change, so the
tenant's plans are read through a short cache."""

import time

from trigly.lifecycle.plans import MaintenancePlan, normalize_make, normalize_name, plan_for
from trigly.store import prices as store

_CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, list[MaintenancePlan]]] = {}


def plan_key(make: str, model: str | None) -> str:
    return f"{'*' if make == '*' else normalize_make(make)}|{normalize_name(model) or '*'}"


def tenant_plans(tenant_id: str) -> list[MaintenancePlan]:
    hit = _cache.get(tenant_id)
    moment = time.monotonic()
    if hit and moment - hit[0] < _CACHE_SECONDS:
        return hit[1]
    plans = [MaintenancePlan.model_validate_json(doc) for doc in store.list_plans(tenant_id)]
    _cache[tenant_id] = (moment, plans)
    return plans


def plan_of(tenant_id: str, make: str | None, model: str | None) -> MaintenancePlan:
    return plan_for(make, model, tenant_plans(tenant_id))


def save_plan(tenant_id: str, plan: MaintenancePlan) -> MaintenancePlan:
    store.put_plan(tenant_id, plan_key(plan.make, plan.model), plan.model_dump_json())
    _cache.pop(tenant_id, None)
    return plan


def delete_plan(tenant_id: str, make: str, model: str | None) -> bool:
    _cache.pop(tenant_id, None)
    return store.delete_plan(tenant_id, plan_key(make, model))
