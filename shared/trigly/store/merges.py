"""Merge records (`MERGE#{id}` in the survivor's collection) and the mark a merged duplicate
leaves under its id, so it is never merged twice (store.models.MergeItem)."""

from pydantic import BaseModel
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from trigly.profiles.model import MergeRecord, MergeState
from trigly.store import keys
from trigly.store.conditions import held
from trigly.store.models import MainItem, MergeItem, RecordItem, bind

MARK_SK = "MERGED"


class MergedInto(BaseModel):
    merge_id: str
    survivor_id: str


def sk(merge_id: str) -> str:
    return f"MERGE#{merge_id}"


def _mark_pk(tenant_id: str, customer_id: str) -> str:
    return f"{keys.tenant(tenant_id)}#MERGED#{customer_id}"


def _item(tenant_id: str, record: MergeRecord) -> MergeItem:
    return MergeItem(
        keys.customer(tenant_id, record.survivor_id),
        sk(record.merge_id),
        doc=record.model_dump_json(exclude_none=True),
        state=record.state.value,
    )


def begin(tenant_id: str, record: MergeRecord) -> bool:
    """Record the merge and mark the duplicate, both or neither (one transaction); False when the
    duplicate is marked already (merged, or being merged, by someone else)."""
    bind()
    mark = MergedInto(merge_id=record.merge_id, survivor_id=record.survivor_id)
    try:
        with TransactWrite(connection=MainItem._get_connection().connection) as transaction:
            transaction.save(
                MergeItem(
                    _mark_pk(tenant_id, record.duplicate_id),
                    MARK_SK,
                    doc=mark.model_dump_json(),
                    state=record.state.value,
                ),
                condition=MergeItem.pk.does_not_exist(),
            )
            transaction.save(_item(tenant_id, record), condition=MergeItem.pk.does_not_exist())
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            return False
        raise
    return True


def merged_into(tenant_id: str, customer_id: str) -> MergedInto | None:
    """Where a customer was merged (or is being merged) to; None when it never was."""
    bind()
    try:
        item = MergeItem.get(_mark_pk(tenant_id, customer_id), MARK_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return MergedInto.model_validate_json(item.doc)


def forget_mark(tenant_id: str, customer_id: str) -> None:
    """After an undo (the duplicate lives again) or the survivor's erasure."""
    bind()
    MergeItem(_mark_pk(tenant_id, customer_id), MARK_SK).delete()


def load(tenant_id: str, survivor_id: str, merge_id: str) -> MergeRecord | None:
    bind()
    try:
        # Merges recorded before MergeItem existed are RecordItems (their state is `done`).
        item = MainItem.get(
            keys.customer(tenant_id, survivor_id), sk(merge_id), consistent_read=True
        )
    except DoesNotExist:
        return None
    if not isinstance(item, MergeItem | RecordItem):
        return None
    return MergeRecord.model_validate_json(item.doc)


def save(tenant_id: str, record: MergeRecord) -> None:
    bind()
    _item(tenant_id, record).save()


def move_on(tenant_id: str, record: MergeRecord, expected: MergeState) -> bool:
    """Save the record in its next state only while it is in `expected`: of two undos at once,
    one goes ahead and the other is told."""
    bind()
    item = _item(tenant_id, record)
    condition = MergeItem.state == expected.value
    if expected is MergeState.DONE:
        condition = condition | MergeItem.state.does_not_exist()
    return held(lambda: item.save(condition=condition))


def in_collection(records: dict[str, str]) -> list[MergeRecord]:
    """The merge records among a collection's records (CustomerCollection.merges)."""
    return [MergeRecord.model_validate_json(doc) for doc in records.values()]
