"""Link keys rotate without breaking what was sent (ADR 0014): a token names its key, links and
callback secrets from before a rotation keep working until they expire, a leaked key can be
revoked at once, and the suppression list — hashed under its own key — forgets nothing."""

import base64
import json
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import ingest, only_customer
from tests.support import customer_event
from trigly.channels import configuration
from trigly.cli import main
from trigly.events.types import Channel
from trigly.messaging import customer_links, inbound, suppression
from trigly.messaging.guardrails import SuppressionKind
from trigly.platform import clock, tokens
from trigly.platform.errors import NotFound
from trigly.platform.settings import get_settings
from trigly.store import customers as customer_store
from trigly.store import feedback as feedback_store

PHONE = "+79161112233"


@pytest.fixture
def fresh_ring(stack: DeployedStack) -> Iterator[None]:
    """Each test starts from the stack's own secret: one generated key (key 0)."""
    secrets = boto3.client("secretsmanager")
    arn = get_settings().link_secret_arn
    original = secrets.get_secret_value(SecretId=arn)["SecretString"]
    tokens.key_ring(fresh=True)
    yield
    secrets.put_secret_value(SecretId=arn, SecretString=original)
    tokens.key_ring(fresh=True)


def customer(dealer: TenantFixture, drain: IngestDrain, external_id: str) -> str:
    ingest(dealer, drain, customer_event(f"{external_id}-1", external_id, phones=[PHONE]))
    return str(only_customer(dealer, external_id=external_id)["id"])


def token_of(url: str) -> str:
    return url.rsplit("/l/", 1)[1]


def link(dealer: TenantFixture, customer_id: str) -> str:
    url = customer_links.url_for("preferences", dealer.tenant.tenant_id, customer_id, clock.now())
    return token_of(url)


def test_links_name_their_key_and_outlive_a_rotation(
    dealer: TenantFixture, drain: IngestDrain, fresh_ring: None
) -> None:
    customer_id = customer(dealer, drain, "LK-1")
    before = link(dealer, customer_id)
    assert before.split(".")[0] == "0"

    assert tokens.rotate_link_key() == "1"

    after = link(dealer, customer_id)
    assert after.split(".")[0] == "1"
    for token in (before, after):  # the old link still opens the same customer's page
        assert customer_links.open_link(token).customer_id == customer_id


def test_a_revoked_key_stops_at_once(
    dealer: TenantFixture, drain: IngestDrain, fresh_ring: None
) -> None:
    customer_id = customer(dealer, drain, "LK-2")
    leaked = link(dealer, customer_id)

    tokens.rotate_link_key(revoke_previous=True)

    with pytest.raises(NotFound):
        customer_links.open_link(leaked)
    assert customer_links.open_link(link(dealer, customer_id)).customer_id == customer_id


def test_a_retired_key_cannot_sign_a_link_that_outlives_it(
    dealer: TenantFixture, drain: IngestDrain, fresh_ring: None
) -> None:
    customer_id = customer(dealer, drain, "LK-3")
    old_key = tokens.key_ring().keys["0"].secret
    tokens.rotate_link_key()
    # Someone holding the retired key mints a link expiring after that key's window.
    claims = {"t": dealer.tenant.tenant_id, "c": customer_id, "p": "preferences"}
    late = clock.now() + tokens.MAX_LIFETIME + timedelta(days=30)
    body = base64.urlsafe_b64encode(
        json.dumps({**claims, "exp": int(late.timestamp())}, separators=(",", ":")).encode()
    )
    signed = f"0.{body.decode().rstrip('=')}"
    mac = base64.urlsafe_b64encode(tokens._mac(old_key, signed)).decode().rstrip("=")

    with pytest.raises(NotFound):
        customer_links.open_link(f"{signed}.{mac}")


def test_a_link_from_before_key_ids_still_opens(
    dealer: TenantFixture, drain: IngestDrain, fresh_ring: None
) -> None:
    customer_id = customer(dealer, drain, "LK-4")
    # The earlier format: `{claims}.{signature}`, the MAC over the claims under the stack's key.
    key_id, body, _ = link(dealer, customer_id).split(".")
    old_key = tokens.key_ring().keys[key_id].secret
    mac = base64.urlsafe_b64encode(tokens._mac(old_key, body)).decode().rstrip("=")
    tokens.rotate_link_key()

    assert customer_links.open_link(f"{body}.{mac}").customer_id == customer_id


def test_a_key_rotated_by_another_container_verifies_here_at_once(
    dealer: TenantFixture, drain: IngestDrain, fresh_ring: None
) -> None:
    customer_id = customer(dealer, drain, "LK-5")
    tokens.key_ring()  # this container has the ring cached
    rotated = tokens.key_ring(fresh=True).rotated(clock.now())
    boto3.client("secretsmanager").put_secret_value(
        SecretId=get_settings().link_secret_arn, SecretString=rotated.dump()
    )
    # A link another container signed with the new key (this one still caches the old ring).
    assert tokens.key_ring().current == "0"
    claims = {"t": dealer.tenant.tenant_id, "c": customer_id, "p": "preferences"}
    body = base64.urlsafe_b64encode(
        json.dumps({**claims, "exp": int((clock.now() + timedelta(days=5)).timestamp())}).encode()
    )
    signed = f"1.{body.decode().rstrip('=')}"
    mac = tokens._mac(rotated.keys["1"].secret, signed)
    token = f"{signed}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    assert customer_links.open_link(token).customer_id == customer_id


def test_callback_secrets_registered_before_a_rotation_still_verify(
    dealer: TenantFixture, fresh_ring: None
) -> None:
    tenant_id = dealer.tenant.tenant_id
    registered = inbound.callback_secret(tenant_id, "smsru")
    webhook = configuration.connect_bot(tenant_id, "bot-lk-6")

    tokens.rotate_link_key()

    inbound.check_callback_secret(tenant_id, "smsru", registered)
    inbound.check_callback_secret(tenant_id, "smsru", inbound.callback_secret(tenant_id, "smsru"))
    assert inbound.authenticate_bot("bot-lk-6", webhook) == tenant_id
    assert inbound.callback_secret(tenant_id, "smsru") != registered  # new ones use the new key


def test_the_suppression_list_forgets_nothing_when_link_keys_rotate(
    dealer: TenantFixture, drain: IngestDrain, fresh_ring: None
) -> None:
    tenant_id = dealer.tenant.tenant_id
    customer_id = customer(dealer, drain, "LK-7")
    suppression.add(tenant_id, Channel.SMS, PHONE, SuppressionKind.COMPLAINED, clock.now())
    # and an opt-out written before the list had its own key (hashed under link key 0)
    legacy = tokens.legacy_suppression_digest("suppress:email", "vera@example.ru")
    assert legacy is not None
    feedback_store.add_suppression_rules(
        tenant_id, legacy, [suppression.rule(SuppressionKind.BOUNCED, None, None, clock.now())]
    )
    ingest(dealer, drain, customer_event("LK-7-2", "LK-7", emails=["vera@example.ru"]))

    tokens.rotate_link_key()
    tokens.rotate_link_key()

    loaded = customer_store.load_profile(tenant_id, customer_id)
    assert loaded is not None
    found = {(e.address, e.kind) for e in suppression.for_profile(tenant_id, loaded[0])}
    assert found == {
        (PHONE, SuppressionKind.COMPLAINED),
        ("vera@example.ru", SuppressionKind.BOUNCED),
    }
    # The list's own key is not a link key: its hashes never depend on the ring.
    assert suppression.digest(Channel.SMS, PHONE) not in {
        tokens._digest(k.secret, "suppress:phone", PHONE) for k in tokens.key_ring().keys.values()
    }


def test_an_operator_rotates_the_link_keys_with_the_cli(
    dealer: TenantFixture,
    drain: IngestDrain,
    fresh_ring: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    customer_id = customer(dealer, drain, "LK-8")
    before = link(dealer, customer_id)

    assert main(["keys", "rotate-links"]) == 0

    assert json.loads(capsys.readouterr().out) == {"current_key": "1", "previous_revoked": False}
    assert link(dealer, customer_id).startswith("1.")
    assert customer_links.open_link(before).customer_id == customer_id
