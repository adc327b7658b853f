"""Service slots of a location (access pattern 14): `T#{tenant}#LOC#{location}#SLOTS` /
`{date}T{HH:MM}`, one Query for a range of days, one conditional update to take a place."""

from datetime import date

from pynamodb.exceptions import DoesNotExist

from trigly.store.conditions import held
from trigly.store.models import SlotItem, bind


def _slots_pk(tenant_id: str, location_id: str) -> str:
    return f"T#{tenant_id}#LOC#{location_id}#SLOTS"


def booked_slots(tenant_id: str, location_id: str, first: date, last: date) -> dict[str, int]:
    """`{date}T{HH:MM}` → places taken, for the days first..last: one Query."""
    bind()
    query = SlotItem.query(
        _slots_pk(tenant_id, location_id),
        SlotItem.sk.between(first.isoformat(), f"{last.isoformat()}T~"),
    )
    return {item.sk: int(item.booked) for item in query}


def take_slot(tenant_id: str, location_id: str, slot: str, posts: int, appointment_id: str) -> bool:
    """Take one place in the slot for this appointment; True also when it already holds one
    (a resubmitted form books once). False when the slot is full."""
    bind()
    item = SlotItem(_slots_pk(tenant_id, location_id), slot)
    taken = held(
        lambda: item.update(
            actions=[
                SlotItem.booked.add(1),
                SlotItem.appointment_ids.add({appointment_id}),
                # An update that creates the item must name its kind, or Queries skip it.
                SlotItem.kind.set(SlotItem),
            ],
            condition=(SlotItem.booked.does_not_exist() | (SlotItem.booked < posts))
            & ~SlotItem.appointment_ids.contains(appointment_id),
        )
    )
    if taken:
        return True
    try:
        current = SlotItem.get(item.pk, slot, consistent_read=True)
    except DoesNotExist:
        return False
    return appointment_id in (current.appointment_ids or set())


def release_slot(tenant_id: str, location_id: str, slot: str, appointment_id: str) -> None:
    bind()
    item = SlotItem(_slots_pk(tenant_id, location_id), slot)
    held(  # not holding a place (released already): nothing to give back
        lambda: item.update(
            actions=[SlotItem.booked.add(-1), SlotItem.appointment_ids.delete({appointment_id})],
            condition=SlotItem.appointment_ids.contains(appointment_id),
        )
    )
