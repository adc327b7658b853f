from datetime import UTC, datetime, timedelta
from itertools import permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from trigly.events.customer import CustomerUpserted
from trigly.profiles.contacts import ContactStatus
from trigly.profiles.model import CustomerProfile
from trigly.profiles.ordering import event_stamp
from trigly.profiles.upsert import merge_customer_upserted

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RECEIVED = datetime(2026, 11, 25, tzinfo=UTC)


def empty() -> CustomerProfile:
    return CustomerProfile(customer_id="cus_1", created_at=T0, updated_at=T0)


def apply(
    profile: CustomerProfile, data: dict[str, object], minute: int, index: int = 0
) -> CustomerProfile:
    payload = CustomerUpserted.model_validate({"external_id": "C-1", **data})
    stamp = event_stamp(T0 + timedelta(minutes=minute), RECEIVED, index)
    return merge_customer_upserted(
        profile, payload, connector_id="con_1", stamp=stamp, default_country="RU", now=RECEIVED
    )


def test_absent_fields_leave_what_we_hold() -> None:
    profile = apply(empty(), {"first_name": "Иван", "city": "Москва"}, minute=1)
    profile = apply(profile, {"last_name": "Петров"}, minute=2)
    assert (profile.first_name, profile.last_name, profile.city) == ("Иван", "Петров", "Москва")


def test_an_older_event_never_overwrites_a_newer_one() -> None:
    profile = apply(empty(), {"city": "Казань"}, minute=10)
    profile = apply(profile, {"city": "Москва"}, minute=5)
    assert profile.city == "Казань"


def test_a_tie_goes_to_the_later_receipt() -> None:
    profile = apply(empty(), {"city": "Казань"}, minute=10, index=2)
    profile = apply(profile, {"city": "Москва"}, minute=10, index=1)
    assert profile.city == "Казань"


def test_contacts_missing_from_the_current_list_turn_stale_but_stay() -> None:
    profile = apply(empty(), {"phones": ["8 912 345 67 89"]}, minute=1)
    profile = apply(profile, {"phones": ["+7 916 000 11 22"]}, minute=2)
    assert [(c.value, c.status) for c in profile.phones] == [
        ("+79160001122", ContactStatus.OK),
        ("+79123456789", ContactStatus.STALE),
    ]


def test_invalid_contacts_are_flagged_not_dropped() -> None:
    profile = apply(empty(), {"phones": ["12"], "emails": ["not-an-email"]}, minute=1)
    assert [c.status for c in profile.phones + profile.emails] == [ContactStatus.INVALID] * 2


def test_consents_order_by_their_own_time_not_arrival() -> None:
    later = {"sms": {"marketing": False, "at": "2026-05-01T10:00:00+03:00", "source": "call"}}
    earlier = {"sms": {"marketing": True, "at": "2026-04-01T10:00:00+03:00", "source": "form"}}
    # the event carrying the earlier consent is newer by occurred_at, yet it must not win
    profile = apply(empty(), {"consents": later}, minute=1)
    profile = apply(profile, {"consents": earlier}, minute=9)
    assert profile.consents["sms"]["marketing"].granted is False


def test_applying_the_same_event_twice_changes_nothing() -> None:
    data = {"first_name": "Анна", "phones": ["89123456789"], "emails": ["A@B.RU"]}
    once = apply(empty(), data, minute=3)
    assert apply(once, data, minute=3) == once


names = st.sampled_from(["Иван", "Пётр", "Анна", None])
phones = st.lists(
    st.sampled_from(["89123456789", "+7 916 000 11 22", "8 903 111 22 33", "12"]), max_size=3
)
consent = st.fixed_dictionaries(
    {
        "marketing": st.booleans(),
        "at": st.sampled_from(["2026-03-01T10:00:00+03:00", "2026-04-01T10:00:00+03:00"]),
        "source": st.sampled_from(["form", "call"]),
    }
)
event_data = st.fixed_dictionaries(
    {},
    optional={
        "first_name": names,
        "city": st.sampled_from(["Москва", "Казань"]),
        "phones": phones,
        "consents": st.fixed_dictionaries({"sms": consent}),
    },
)


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(st.tuples(event_data, st.integers(0, 5)), min_size=1, max_size=4),
    data=st.data(),
)
def test_any_order_and_any_duplicates_converge_to_the_same_profile(
    events: list[tuple[dict[str, object], int]], data: st.DataObject
) -> None:
    # Given a stream of events, each with its own time and its position in one delivery
    stream = [(payload, minute, index) for index, (payload, minute) in enumerate(events)]
    in_order = empty()
    for payload, minute, index in sorted(stream, key=lambda e: (e[1], e[2])):
        in_order = apply(in_order, payload, minute, index)
    # When the same events arrive shuffled and some twice
    shuffled = data.draw(st.permutations(stream))
    repeats = data.draw(st.lists(st.sampled_from(stream), max_size=3))
    other = empty()
    for payload, minute, index in [*shuffled, *repeats]:
        other = apply(other, payload, minute, index)

    # Then the profile is the same, except for the order stale contacts were first seen in
    def comparable(p: CustomerProfile) -> dict[str, object]:
        dumped = p.model_dump(exclude={"updated_at"})
        dumped["phones"] = sorted((c["value"], c["status"]) for c in dumped["phones"])
        return dumped

    assert comparable(other) == comparable(in_order)


def test_three_events_in_every_order() -> None:
    events = [
        ({"first_name": "Иван", "phones": ["89123456789"]}, 1, 0),
        ({"first_name": "Пётр"}, 2, 1),
        ({"phones": ["+7 916 000 11 22"]}, 3, 2),
    ]
    results = []
    for order in permutations(events):
        profile = empty()
        for payload, minute, index in order:
            profile = apply(profile, payload, minute, index)
        results.append(profile.model_dump(exclude={"updated_at"}))
    assert all(r == results[0] for r in results)


@settings(max_examples=100, deadline=None)
@given(
    a=st.tuples(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
        st.integers(0, 499),
    ),
    b=st.tuples(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
        st.integers(0, 499),
    ),
)
def test_stamps_compare_like_the_times_they_encode(
    a: tuple[datetime, int], b: tuple[datetime, int]
) -> None:
    (when_a, index_a), (when_b, index_b) = a, b
    stamp_a = event_stamp(when_a.replace(tzinfo=UTC), RECEIVED, index_a)
    stamp_b = event_stamp(when_b.replace(tzinfo=UTC), RECEIVED, index_b)
    key_a = (when_a.replace(microsecond=when_a.microsecond // 1000 * 1000), index_a)
    key_b = (when_b.replace(microsecond=when_b.microsecond // 1000 * 1000), index_b)
    assert (stamp_a < stamp_b) == (key_a < key_b)
    assert len(stamp_a) == 21
