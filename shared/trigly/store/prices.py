"""The tenant's service catalogue: what each scheduled service costs per make and model
(reminders quote it; `T#{tenant}#PRICES` / `{make}|{model}|{step}`, learnt from closed repair
orders and editable) and its own maintenance plans (`T#{tenant}#PLANS` / `{MAKE}|{MODEL or *}`)."""

from pynamodb.exceptions import DoesNotExist

from trigly.store.conditions import held
from trigly.store.models import PlanItem, PriceItem, bind


def _pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#PRICES"


def get_price(tenant_id: str, key: str) -> float | None:
    bind()
    try:
        return float(PriceItem.get(_pk(tenant_id), key).amount)
    except DoesNotExist:
        return None


def _model_prefix(key: str) -> str:
    return f"{key.rsplit('|', 1)[0]}|"


def quote(tenant_id: str, key: str) -> float | None:
    """What a reminder quotes: this step's price on this model, else what the latest
    maintenance of this model cost (a first ТО-2 quoted at the ТО-1 price beats no price;
    one small Query of the model's prices, off the hot path)."""
    exact = get_price(tenant_id, key)
    if exact is not None:
        return exact
    bind()
    known = PriceItem.query(_pk(tenant_id), PriceItem.sk.startswith(_model_prefix(key)))
    latest = max(known, key=lambda item: item.updated_at, default=None)
    return float(latest.amount) if latest is not None else None


_learnt: dict[tuple[str, str], float] = {}  # what this container wrote or saw, per price


def learn_price(tenant_id: str, key: str, amount: float, at: str) -> None:
    """A price a closed visit teaches; it never overwrites a newer one or one the tenant set.
    Most visits repeat the price list: a container writes a price only when it differs from
    what it last wrote for that key."""
    if _learnt.get((tenant_id, key)) == amount:
        return
    bind()
    item = PriceItem(_pk(tenant_id), key, amount=amount, source="visit", updated_at=at)
    held(  # refused: a newer visit's price, or the tenant's own, stands
        lambda: item.save(
            condition=PriceItem.pk.does_not_exist()
            | ((PriceItem.source == "visit") & (PriceItem.updated_at <= at))
        )
    )
    _learnt[(tenant_id, key)] = amount


def set_price(tenant_id: str, key: str, amount: float, at: str) -> None:
    bind()
    PriceItem(_pk(tenant_id), key, amount=amount, source="tenant", updated_at=at).save()


def _plans_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#PLANS"


def put_plan(tenant_id: str, key: str, doc: str) -> None:
    bind()
    PlanItem(_plans_pk(tenant_id), key, doc=doc).save()


def delete_plan(tenant_id: str, key: str) -> bool:
    bind()
    try:
        PlanItem.get(_plans_pk(tenant_id), key).delete()
    except DoesNotExist:
        return False
    return True


def list_plans(tenant_id: str) -> list[str]:
    bind()
    return [item.doc for item in PlanItem.query(_plans_pk(tenant_id))]
