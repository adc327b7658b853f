"""The frequency-cap ledger (access pattern 10): one item per customer, read with GetItem and
written only under the version it was read at (a conditional put), so concurrent senders take
the cap's places one at a time."""

from pynamodb.exceptions import DoesNotExist

from trigly.store import keys
from trigly.store.conditions import held
from trigly.store.models import CapLedgerItem, bind

LEDGER_SK = "CAP#MARKETING"


def get_ledger(tenant_id: str, customer_id: str) -> tuple[str, int] | None:
    """(slots document, version), or None while the customer has none."""
    bind()
    try:
        item = CapLedgerItem.get(
            keys.customer(tenant_id, customer_id), LEDGER_SK, consistent_read=True
        )
    except DoesNotExist:
        return None
    return item.slots, int(item.version or 0)


def put_ledger(tenant_id: str, customer_id: str, slots: str, version: int | None) -> bool:
    """Write the slots over `version` (None: the first); False when another sender wrote first."""
    bind()
    item = CapLedgerItem(keys.customer(tenant_id, customer_id), LEDGER_SK, slots=slots)
    if version is not None:
        item.version = version
    return held(item.save)
