"""Undoing a merge: which side keeps what was recorded after it (pure rules of profiles.merge)."""

from datetime import datetime, timedelta

from trigly.events.types import Channel, ConsentPurpose
from trigly.platform import clock
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.merge import (
    Snapshot,
    came_through,
    merge_link,
    merge_profiles,
    split_duplicate,
    split_survivor,
)
from trigly.profiles.model import ConsentState, CustomerProfile, MergeRecord
from trigly.profiles.records import ConsentProof

EMAIL_MARKETING = (Channel.EMAIL, ConsentPurpose.MARKETING)
SMS_MARKETING = (Channel.SMS, ConsentPurpose.MARKETING)


def ok(value: str) -> Contact:
    return Contact(value=value, status=ContactStatus.OK)


def consent(granted: bool, at: datetime, source: str = "анкета") -> ConsentState:
    return ConsentState(granted=granted, at=at, source=source)


def merged_pair(now: datetime) -> tuple[MergeRecord, Snapshot]:
    """A survivor with a phone and SMS consent, a duplicate with an email and email consent."""
    survivor = CustomerProfile(
        customer_id="cus_s",
        created_at=now,
        updated_at=now,
        external_ids={"dms": "S-1"},
        first_name="Анна",
        phones=[ok("+79160000001")],
        consents={Channel.SMS: {ConsentPurpose.MARKETING: consent(True, now - timedelta(days=9))}},
    )
    duplicate = CustomerProfile(
        customer_id="cus_d",
        created_at=now,
        updated_at=now,
        external_ids={"crm": "D-1"},
        city="Тверь",
        emails=[ok("anna@example.ru")],
        consents={
            Channel.EMAIL: {ConsentPurpose.MARKETING: consent(True, now - timedelta(days=8))}
        },
    )
    record = MergeRecord(
        merge_id="mrg_1",
        survivor_id="cus_s",
        duplicate_id="cus_d",
        reason="одна клиентка",
        at=now,
        snapshot_key="merges/t/mrg_1.json",
    )
    after = merge_profiles(survivor, duplicate, merge_link(record))
    after.merged_from = ["mrg_1"]
    snapshot = Snapshot(
        survivor_before=survivor,
        survivor_after=after,
        survivor_sks=[],
        duplicate_before=duplicate,
        duplicate_items=[],
    )
    return record, snapshot


def test_nothing_recorded_since_gives_each_back_what_it_had() -> None:
    now = clock.now()
    _, snapshot = merged_pair(now)
    survivor = split_survivor(snapshot.survivor_after, snapshot, "mrg_1", set(), now)
    duplicate = split_duplicate(snapshot.survivor_after, snapshot, set(), now)
    assert survivor.model_copy(update={"updated_at": now}) == snapshot.survivor_before
    assert duplicate.model_copy(update={"updated_at": now}) == snapshot.duplicate_before


def test_a_later_withdrawal_stays_on_the_survivor_and_follows_the_duplicates_contact() -> None:
    now = clock.now()
    _, snapshot = merged_pair(now)
    current = snapshot.survivor_after.model_copy(deep=True)
    withdrawn = consent(False, now + timedelta(hours=1), "unsubscribe link")
    current.consents[Channel.EMAIL][ConsentPurpose.MARKETING] = withdrawn
    current.emails = [Contact(value="anna@example.ru", status=ContactStatus.BOUNCED)]
    current.city = "Клин"  # set after the merge: the survivor's now

    survivor = split_survivor(current, snapshot, "mrg_1", set(), now)
    duplicate = split_duplicate(current, snapshot, {EMAIL_MARKETING}, now)

    assert survivor.consents[Channel.EMAIL][ConsentPurpose.MARKETING] == withdrawn
    assert survivor.emails == [] and survivor.external_ids == {"dms": "S-1"}
    assert survivor.city == "Клин" and survivor.merged_from == []
    assert duplicate.consents[Channel.EMAIL][ConsentPurpose.MARKETING] == withdrawn
    assert duplicate.emails[0].status is ContactStatus.BOUNCED
    assert Channel.SMS not in duplicate.consents
    # splitting a split survivor again changes nothing (an interrupted undo runs again)
    assert split_survivor(survivor, snapshot, "mrg_1", set(), now) == survivor


def test_a_later_grant_through_the_duplicate_only_is_not_the_survivors() -> None:
    now = clock.now()
    _, snapshot = merged_pair(now)
    current = snapshot.survivor_after.model_copy(deep=True)
    granted = consent(True, now + timedelta(hours=1), "preference centre")
    current.consents.setdefault(Channel.SMS, {})[ConsentPurpose.SERVICE] = granted
    pair = (Channel.SMS, ConsentPurpose.SERVICE)

    survivor = split_survivor(current, snapshot, "mrg_1", {pair}, now)
    duplicate = split_duplicate(current, snapshot, {pair}, now)

    assert ConsentPurpose.SERVICE not in survivor.consents[Channel.SMS]
    assert duplicate.consents[Channel.SMS][ConsentPurpose.SERVICE] == granted
    # the survivor's own marketing consent is untouched
    assert survivor.consents[Channel.SMS][ConsentPurpose.MARKETING].granted is True


def test_a_statement_came_through_a_dms_id_or_a_message_to_a_contact() -> None:
    now = clock.now()
    _, snapshot = merged_pair(now)
    duplicate, survivor = snapshot.duplicate_before, snapshot.survivor_before
    sent_to = {"msg_1": "anna@example.ru", "msg_2": "+79160000001"}

    def entry(**fields: object) -> ConsentProof:
        base: dict[str, object] = {
            "channel": "email",
            "purpose": "marketing",
            "granted": False,
            "at": now,
            "source": "x",
        }
        return ConsentProof.model_validate(base | fields)

    by_link = entry(connector_id="trigly", proof={"message_id": "msg_1"})
    assert came_through(by_link, duplicate, sent_to)
    assert not came_through(by_link, survivor, sent_to)
    by_sms_link = entry(connector_id="trigly", proof={"message_id": "msg_2"})
    assert came_through(by_sms_link, survivor, sent_to)
    assert not came_through(by_sms_link, duplicate, sent_to)
    by_crm = entry(connector_id="crm", external_id="D-1")
    assert came_through(by_crm, duplicate, sent_to)
    assert not came_through(by_crm, survivor, sent_to)
    assert not came_through(entry(connector_id="crm"), duplicate, sent_to)
