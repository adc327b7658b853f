"""Change notices: which writes name which customers (the hook's parsing, no AWS)."""

import json

import pytest

from trigly.analytics import notices


def pk(value: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": value}, "sk": {"S": "X"}}


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("PutItem", {"TableName": "main", "Item": pk("T#t1#C#c1")}),
        ("UpdateItem", {"TableName": "main", "Key": pk("T#t1#C#c1")}),
        ("DeleteItem", {"TableName": "main", "Key": pk("T#t1#C#c1")}),
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    "main": [
                        {"PutRequest": {"Item": pk("T#t1#C#c1")}},
                        {"DeleteRequest": {"Key": pk("T#t1#V#VIN1")}},
                    ],
                    "other": [{"PutRequest": {"Item": pk("T#t1#C#c9")}}],
                }
            },
        ),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Update": {"TableName": "main", "Key": pk("T#t1#C#c1")}},
                    {"ConditionCheck": {"TableName": "main", "Key": pk("T#t1#C#c8")}},
                    {"Put": {"TableName": "main", "Item": pk("T#t1#PHONE#+7900")}},
                ]
            },
        ),
    ],
)
def test_a_write_to_a_customers_collection_names_that_customer(
    operation: str, params: dict[str, object]
) -> None:
    found = {
        c
        for key in notices._written_keys(operation, params, "main")
        if (c := notices.customer_of(key))
    }
    assert found == {("t1", "c1")}


def test_other_tables_and_other_keys_name_nobody() -> None:
    assert (
        list(notices._written_keys("PutItem", {"TableName": "idem", "Item": pk("T#t#C#c")}, "main"))
        == []
    )
    for key in ("T#t#V#VIN", "T#t#PHONE#+7900", "APIKEY#h", "T#t#C#", "T#t#C#c#x"):
        assert notices.customer_of(key) is None


def test_a_journey_run_step_names_nobody_the_view_holds_no_runs() -> None:
    from trigly.store.journeys import ENROLLMENT_PREFIX, RunRef

    run = RunRef.of("t", "c", "maintenance_reminder", "VIN1")
    item = {"pk": {"S": "T#t#C#c"}, "sk": {"S": run.sk}}
    assert run.sk.startswith(ENROLLMENT_PREFIX)
    assert list(notices._written_keys("PutItem", {"TableName": "main", "Item": item}, "main")) == []
    message = {"pk": {"S": "T#t#C#c"}, "sk": {"S": "MSG#2026#m1"}}
    found = notices._written_keys("UpdateItem", {"TableName": "main", "Key": message}, "main")
    assert list(found) == ["T#t#C#c"]


def test_notes_are_taken_once_and_sent_per_tenant_in_chunks() -> None:
    notices.take()
    notices.note([("t1", f"c{n}") for n in range(notices.IDS_PER_MESSAGE + 1)] + [("t2", "x")])
    notices.note([("t1", "c0")])  # twice: once
    taken = notices.take()
    assert notices.take() == {}
    bodies = [json.loads(b) for b in notices.bodies(taken)]
    assert [(b["tenant_id"], len(b["customer_ids"])) for b in bodies] == [
        ("t1", notices.IDS_PER_MESSAGE),
        ("t1", 1),
        ("t2", 1),
    ]
    assert notices.parse(json.dumps(bodies[2])) == ("t2", ["x"])


def test_without_a_queue_a_flush_drops_the_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(notices.QUEUE_URL_VARIABLE, raising=False)
    notices.note([("t1", "c1")])
    assert notices.flush() == 0
    assert notices.pending() == {}
