"""A customer's item collection as the profile and its history: the one way the 360° view, its
history pages and the analytics projection read what one Query of the collection returned."""

from collections.abc import Iterable

from trigly.profiles.model import CustomerProfile
from trigly.profiles.records import CustomerHistory
from trigly.store.customers import ledger_entry
from trigly.store.models import (
    ConsentRecordItem,
    CustomerProfileItem,
    EnrollmentItem,
    MainItem,
    MessageItem,
    RecordItem,
)


def profile_and_history(
    items: Iterable[MainItem],
) -> tuple[CustomerProfile | None, CustomerHistory]:
    profile: CustomerProfile | None = None
    records: dict[str, list[str]] = {}
    for item in items:
        if isinstance(item, CustomerProfileItem):
            profile = CustomerProfile.model_validate_json(item.doc)
        elif isinstance(item, RecordItem):
            records.setdefault(item.sk.split("#", 1)[0], []).append(item.doc)
        elif isinstance(item, MessageItem):
            records.setdefault("MSG", []).append(item.doc)
        elif isinstance(item, EnrollmentItem):
            records.setdefault("JRN", []).append(item.doc)
        elif isinstance(item, ConsentRecordItem):
            records.setdefault("CONSENT", []).append(ledger_entry(item).model_dump_json())
    return profile, CustomerHistory.parse(records)
