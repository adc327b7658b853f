"""The webhook function, called with real HTTP API v2 events, against the deployed template."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from functions.webhook.app import handler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.support import FakeLambdaContext, customer_event, http_event, signed_headers


def post(
    dealer: TenantFixture,
    body: bytes,
    headers: dict[str, str] | None = None,
    connector_id: str | None = None,
    secret: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Through the dealer's connector, or another one given with its id and secret."""
    connector = connector_id or dealer.connector_id
    event = http_event(
        "POST",
        f"/v1/webhooks/{connector}",
        route_key="POST /v1/webhooks/{connector_id}",
        path_parameters={"connector_id": connector},
        headers=headers if headers is not None else signed_headers(secret or dealer.secret, body),
        body=body,
    )
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def encode(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def queued(stack: DeployedStack) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.queues["IngestQueue"].url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_a_signed_event_is_accepted_and_queued(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    status, body = post(dealer, encode(customer_event("e-1", "C-1", phones=["8 912 345 67 89"])))
    assert (status, body) == (202, {"accepted": 1, "duplicates": 0, "rejected": []})
    assert queued(stack) == 1
    drain()


def test_a_wrong_signature_is_401_and_nothing_is_stored(
    stack: DeployedStack, dealer: TenantFixture
) -> None:
    body = encode(customer_event("e-1", "C-1"))
    headers = signed_headers("whsec_" + "A" * 44, body)
    status, problem = post(dealer, body, headers)
    assert status == 401
    assert problem["status"] == 401 and problem["type"].endswith("/unauthorized")
    assert queued(stack) == 0


def test_an_unknown_connector_answers_like_a_bad_signature(dealer: TenantFixture) -> None:
    body = encode(customer_event("e-1", "C-1"))
    status, problem = post(dealer, body, connector_id="con_doesnotexist")
    assert status == 401
    assert problem["detail"] == post(dealer, body, headers={})[1]["detail"]


def test_a_stale_or_future_timestamp_is_refused(dealer: TenantFixture) -> None:
    body = encode(customer_event("e-1", "C-1"))
    for skew in (timedelta(minutes=-6), timedelta(minutes=6)):
        headers = signed_headers(dealer.secret, body, timestamp=datetime.now(UTC) + skew)
        assert post(dealer, body, headers)[0] == 401


def test_malformed_json_is_400_but_only_after_the_signature(dealer: TenantFixture) -> None:
    assert post(dealer, b"{not json")[0] == 400
    assert post(dealer, b"[1, 2]")[0] == 400
    assert post(dealer, b"{not json", headers={})[0] == 401


def test_oversized_body_and_batch_are_413(dealer: TenantFixture) -> None:
    big = encode({"events": [customer_event("e", "C", city="x" * 100)] * 6000})
    assert len(big) > 1024 * 1024
    assert post(dealer, big, headers={})[0] == 413  # size is checked before the signature
    batch = encode({"events": [customer_event(f"e-{i}", f"C-{i}") for i in range(501)]})
    assert post(dealer, batch)[0] == 413


def test_one_bad_event_in_a_batch_of_three(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    events = [
        customer_event("b-1", "C-1"),
        {
            "id": "b-2",
            "type": "customer.upserted",
            "occurred_at": "2026-11-20T10:15:00+03:00",
            "data": {"phones": []},
        },
        customer_event("b-3", "C-3"),
    ]
    status, body = post(dealer, encode({"events": events}))
    assert status == 202
    assert body["accepted"] == 2 and body["duplicates"] == 0
    [rejected] = body["rejected"]
    assert rejected["index"] == 1 and rejected["id"] == "b-2"
    assert rejected["errors"] == [{"field": "data.external_id", "message": "Field required"}]
    drain()


def test_the_same_event_id_twice_is_one_acceptance_and_one_duplicate(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    event = customer_event("dup-1", "C-1")
    assert post(dealer, encode(event))[1]["accepted"] == 1
    assert post(dealer, encode(event))[1] == {"accepted": 0, "duplicates": 1, "rejected": []}
    drain()


def test_a_rejected_id_is_not_used_up(dealer: TenantFixture, drain: IngestDrain) -> None:
    bad = customer_event("fix-1", "C-1", region="Moscow")
    assert len(post(dealer, encode(bad))[1]["rejected"]) == 1
    good = customer_event("fix-1", "C-1", region="RU-MOW")
    assert post(dealer, encode(good))[1] == {"accepted": 1, "duplicates": 0, "rejected": []}
    drain()


def test_unknown_type_and_empty_object_are_rejected_per_event(dealer: TenantFixture) -> None:
    status, body = post(
        dealer, encode({"events": [{**customer_event("u-1", "C"), "type": "car.washed"}]})
    )
    assert status == 202 and body["rejected"][0]["errors"][0]["field"] == "type"
    status, body = post(dealer, b"{}")
    assert status == 202 and body["accepted"] == 0 and len(body["rejected"]) == 1


def test_an_event_over_256kb_is_rejected_and_archived_whole(
    stack: DeployedStack, dealer: TenantFixture
) -> None:
    huge = customer_event("big-1", "C-1", city="x" * 200, notes="y" * (300 * 1024))
    status, body = post(dealer, encode(huge))
    assert status == 202
    [rejected] = body["rejected"]
    assert rejected["errors"][0]["message"].startswith("too_large")
    objects = boto3.client("s3").list_objects_v2(Bucket=stack.outputs["ArchiveBucketName"])
    keys = [o["Key"] for o in objects.get("Contents", [])]
    assert any(rejected["rejection_id"] in key for key in keys)


def test_a_secret_rotated_keeps_the_old_one_valid_for_the_overlap(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    from trigly.platform import tenancy

    new_secret = tenancy.rotate_connector_secret(dealer.tenant.tenant_id, dealer.connector_id)
    old_body = encode(customer_event("rot-1", "C-1"))
    new_body = encode(customer_event("rot-2", "C-1"))
    assert post(dealer, old_body)[0] == 202
    assert post(dealer, new_body, signed_headers(new_secret, new_body))[0] == 202
    drain()


def test_a_batch_over_one_claim_transaction_counts_each_id_once(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    """Ids are claimed 100 to a transaction: ids taken earlier cancel a transaction, which is
    claimed again without them; an id that was only rejected is accepted and its rejection
    resolved; an id twice in the batch counts once."""
    from trigly.ingest import rejections

    bad = customer_event("big-7", "C-7", region="Moscow")
    rejection_id = post(dealer, encode(bad))[1]["rejected"][0]["rejection_id"]
    earlier = [customer_event(f"big-{n}", f"C-{n}") for n in range(0, 150, 2)]
    assert post(dealer, encode({"events": earlier}))[1]["accepted"] == 75

    batch = [customer_event(f"big-{n}", f"C-{n}") for n in range(150)]
    batch.append(customer_event("big-9", "C-9"))
    status, body = post(dealer, encode({"events": batch}))

    assert status == 202
    assert body == {"accepted": 75, "duplicates": 76, "rejected": []}
    assert rejections.get_rejected(dealer.tenant.tenant_id, rejection_id).status == "resolved"
    assert post(dealer, encode({"events": batch}))[1]["accepted"] == 0
    drain()
