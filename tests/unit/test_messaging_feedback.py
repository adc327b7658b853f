"""Providers' delivery reports read into facts, machine-open detection, suppression rules — pure."""

import json
from datetime import UTC, datetime, timedelta

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging import reports, suppression
from trigly.messaging.guardrails import SuppressionKind
from trigly.messaging.intent import MessageStatus, Reason
from trigly.messaging.tracking import likely_machine_open
from trigly.profiles.model import ConsentState, CustomerProfile

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def ses(kind: str, **detail: object) -> dict[str, object]:
    key = {"Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivery"}.get(
        kind, kind.lower()
    )
    return {
        "eventType": kind,
        "mail": {
            "timestamp": "2026-12-01T08:00:00.000Z",
            "messageId": "0102018f-ses",
            "tags": {"ses:configuration-set": ["trigly-dev"], "tenant": ["ten_1"]},
        },
        key: {"timestamp": "2026-12-01T08:30:00.000Z", **detail},
    }


def test_ses_events_map_to_statuses_and_suppressions() -> None:
    [delivered] = reports.ses_events(ses("Delivery"), received_at=NOW)
    assert (delivered.tenant_id, delivered.channel, delivered.provider_message_id) == (
        "ten_1",
        Channel.EMAIL,
        "0102018f-ses",
    )
    assert delivered.status is MessageStatus.DELIVERED
    assert delivered.at == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    [hard] = reports.ses_events(ses("Bounce", bounceType="Permanent"), received_at=NOW)
    assert (hard.status, hard.reason, hard.suppress) == (
        MessageStatus.FAILED,
        Reason.BOUNCED,
        SuppressionKind.BOUNCED,
    )
    assert reports.ses_events(ses("Bounce", bounceType="Transient"), received_at=NOW) == []
    [complaint] = reports.ses_events(ses("Complaint"), received_at=NOW)
    assert complaint.suppress is SuppressionKind.COMPLAINED
    [click] = reports.ses_events(ses("Click", link="https://x"), received_at=NOW)
    assert click.status is MessageStatus.CLICKED
    # Apple's proxy fetched the image: an open, flagged as a machine's
    [proxy] = reports.ses_events(ses("Open", userAgent="Mozilla/5.0"), received_at=NOW)
    assert proxy.status is MessageStatus.OPENED and proxy.machine
    # No tenant tag (not our mail): nothing
    untagged = ses("Delivery")
    untagged["mail"] = {"messageId": "x", "tags": {}}
    assert reports.ses_events(untagged, received_at=NOW) == []


def test_an_sns_envelope_is_unwrapped_and_our_own_reports_are_read() -> None:
    envelope = {"Type": "Notification", "Message": json.dumps(ses("Delivery"))}
    [event] = reports.queued_events(json.dumps(envelope), received_at=NOW)
    assert event.status is MessageStatus.DELIVERED
    own = {
        "source": "sandbox",
        "tenant_id": "ten_1",
        "channel": "sms",
        "provider_message_id": "sbx_1",
        "status": "delivered",
        "at": NOW.isoformat(),
    }
    [sandbox] = reports.queued_events(json.dumps(own), received_at=NOW)
    assert (sandbox.channel, sandbox.provider_message_id) == (Channel.SMS, "sbx_1")


def test_sms_ru_callback_lines() -> None:
    form = {
        "data[0]": ["sms_status\n000000-10000001\n103\n1764579600"],
        "data[1]": ["sms_status\n000000-10000002\n106\n1764579601"],
        "data[2]": ["callback_check\n"],
    }
    delivered, refused = reports.smsru_events("ten_1", form, received_at=NOW)
    assert (delivered.provider_message_id, delivered.status) == (
        "000000-10000001",
        MessageStatus.DELIVERED,
    )
    assert delivered.at == datetime.fromtimestamp(1764579600, UTC)
    assert (refused.status, refused.reason, refused.suppress) == (
        MessageStatus.FAILED,
        Reason.UNDELIVERED,
        SuppressionKind.CARRIER_REFUSAL,
    )


def test_smsc_status_fields() -> None:
    [event] = reports.smsc_events(
        "ten_1", {"id": ["42"], "phone": ["79160000001"], "status": ["1"]}, received_at=NOW
    )
    assert (event.provider_message_id, event.status) == ("42", MessageStatus.DELIVERED)
    [wrong] = reports.smsc_events("ten_1", {"id": ["43"], "status": ["22"]}, received_at=NOW)
    assert (wrong.reason, wrong.suppress) == (Reason.BOUNCED, SuppressionKind.CARRIER_REFUSAL)
    assert reports.smsc_events("ten_1", {"id": ["44"], "status": ["-1"]}, received_at=NOW) == []


def test_whatsapp_statuses() -> None:
    document = {
        "entry": [
            {
                "changes": [
                    {
                        "value": {
                            "statuses": [
                                {"id": "wamid.1", "status": "read", "timestamp": "1764579600"},
                                {
                                    "id": "wamid.2",
                                    "status": "failed",
                                    "timestamp": "1764579600",
                                    "errors": [{"code": 131026}],
                                },
                            ]
                        }
                    }
                ]
            }
        ]
    }
    read, failed = reports.whatsapp_events("ten_1", document, received_at=NOW)
    assert read.status is MessageStatus.OPENED
    assert failed.suppress is SuppressionKind.CARRIER_REFUSAL


def test_machine_opens() -> None:
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
    assert not likely_machine_open(iphone, NOW, NOW + timedelta(minutes=5))
    assert likely_machine_open(iphone, NOW, NOW + timedelta(seconds=3))  # too soon for a person
    assert likely_machine_open("Mozilla/5.0", NOW, NOW + timedelta(hours=1))  # Apple MPP
    assert likely_machine_open(
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        NOW,
        NOW + timedelta(hours=1),
    )
    assert likely_machine_open(None, NOW, NOW + timedelta(hours=1))


def test_an_unsubscribe_rule_yields_only_to_a_newer_opt_in() -> None:
    rule = suppression.rule(
        SuppressionKind.UNSUBSCRIBED, Channel.SMS, ConsentPurpose.MARKETING, NOW
    )
    parsed = suppression._parse("+79160000001", rule)
    assert parsed is not None
    entry, at = parsed
    assert entry.channels == frozenset({Channel.SMS}) and entry.purpose is ConsentPurpose.MARKETING
    profile = CustomerProfile(customer_id="c", created_at=NOW, updated_at=NOW)
    old_yes = ConsentState(granted=True, at=NOW - timedelta(days=300), source="DMS")
    profile.consents = {Channel.SMS: {ConsentPurpose.MARKETING: old_yes}}
    assert not suppression._lifted(profile, entry, at)
    new_yes = ConsentState(granted=True, at=NOW + timedelta(days=1), source="форма")
    profile.consents = {Channel.SMS: {ConsentPurpose.MARKETING: new_yes}}
    assert suppression._lifted(profile, entry, at)
    bounced = suppression._parse(
        "a@b.c", suppression.rule(SuppressionKind.BOUNCED, None, None, NOW)
    )
    assert bounced is not None and bounced[0].channels == frozenset()
    assert not suppression._lifted(profile, *bounced)
