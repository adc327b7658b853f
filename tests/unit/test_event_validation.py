from datetime import UTC, datetime

from trigly.events.customer import CustomerUpserted
from trigly.events.validation import ValidEvent, validate_event
from trigly.platform.errors import FieldError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def event(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "evt-1",
        "type": "customer.upserted",
        "occurred_at": "2026-11-20T10:15:00+03:00",
        "data": {"external_id": "C-1", "phones": ["8 912 345 67 89"]},
    }
    base.update(overrides)
    return base


def fields(result: ValidEvent | list[FieldError]) -> list[str]:
    assert isinstance(result, list), "expected the event to be rejected"
    return [e.field for e in result]


def test_a_valid_event_is_typed() -> None:
    result = validate_event(event(), NOW)
    assert isinstance(result, ValidEvent)
    assert isinstance(result.payload, CustomerUpserted)
    assert result.payload.external_id == "C-1"


def test_time_without_offset_is_a_field_error() -> None:
    assert fields(validate_event(event(occurred_at="2026-11-20T10:15:00"), NOW)) == ["occurred_at"]


def test_epoch_number_is_not_a_time() -> None:
    assert fields(validate_event(event(occurred_at=1763622900), NOW)) == ["occurred_at"]


def test_unknown_type_names_the_known_ones() -> None:
    result = validate_event(event(type="customer.upsertd"), NOW)
    assert fields(result) == ["type"]
    assert isinstance(result, list)
    assert "customer.upserted" in result[0].message


def test_data_errors_are_dot_joined_with_list_indexes() -> None:
    data = {"external_id": "C-1", "phones": ["8 912 345 67 89", 42], "region": "Moscow"}
    assert sorted(fields(validate_event(event(data=data), NOW))) == ["data.phones.1", "data.region"]


def test_missing_external_id_and_non_object_event() -> None:
    assert fields(validate_event(event(data={}), NOW)) == ["data.external_id"]
    assert fields(validate_event([1, 2], NOW)) == [""]
    assert sorted(fields(validate_event({}, NOW))) == ["data", "id", "occurred_at", "type"]


def test_things_that_happened_may_not_lie_more_than_a_day_ahead() -> None:
    assert fields(validate_event(event(occurred_at="2026-11-27T12:00:00+00:00"), NOW)) == [
        "occurred_at"
    ]
    assert isinstance(
        validate_event(event(occurred_at="2026-11-26T11:00:00+00:00"), NOW), ValidEvent
    )
    consents = {"sms": {"marketing": True, "at": "2027-01-01T00:00:00+00:00", "source": "form"}}
    data = {"external_id": "C-1", "consents": consents}
    assert fields(validate_event(event(data=data), NOW)) == ["data.consents.sms.at"]


def test_unknown_channel_and_bad_timezone_are_rejected() -> None:
    data = {"external_id": "C-1", "preferred_channel": "pigeon", "timezone": "Mars/Olympus"}
    assert sorted(fields(validate_event(event(data=data), NOW))) == [
        "data.preferred_channel",
        "data.timezone",
    ]
