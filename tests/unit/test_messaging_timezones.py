"""The recipient's time zone, in CONTRACT §3's order: profile, region, location, phone, tenant."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from trigly.messaging.timezones import (
    RUSSIAN_REGION_ZONES,
    ZoneSource,
    resolve_zone,
    zone_of_region,
    zones_of_phone,
)
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.model import CustomerProfile

T0 = datetime(2026, 11, 20, tzinfo=UTC)

MOBILE = "+79123456789"  # Russian mobile numbers are not geographic: every Russian zone
VLADIVOSTOK_LANDLINE = "+74232123456"  # 423: Primorsky krai
YEKATERINBURG_LANDLINE = "+73432123456"  # 343: Sverdlovsk oblast
BERLIN = "+4930901820"
MSK = "Europe/Moscow"
Z = ZoneSource
STALE = ContactStatus.STALE


def profile(
    *,
    timezone: str | None = None,
    region: str | None = None,
    phones: tuple[str, ...] = (),
    phone_status: ContactStatus = ContactStatus.OK,
) -> CustomerProfile:
    return CustomerProfile(
        customer_id="cus_1",
        created_at=T0,
        updated_at=T0,
        timezone=timezone,
        region=region,
        phones=[Contact(value=p, status=phone_status) for p in phones],
    )


@pytest.mark.parametrize(
    ("given", "location", "zone", "source"),
    [
        # the profile's own zone wins over everything
        (
            profile(timezone="Asia/Vladivostok", region="RU-MOW", phones=(BERLIN,)),
            "Europe/Kaliningrad",
            "Asia/Vladivostok",
            ZoneSource.PROFILE,
        ),
        # then the region
        (profile(region="RU-PRI"), "Europe/Moscow", "Asia/Vladivostok", ZoneSource.REGION),
        (profile(region=" ru-kgd "), None, "Europe/Kaliningrad", ZoneSource.REGION),
        # a zone that is no zone falls through to the region
        (profile(timezone="Mars/Olympus", region="RU-KAM"), None, "Asia/Kamchatka", Z.REGION),
        # then the customer's location
        (profile(region="FR-75"), "Asia/Yekaterinburg", "Asia/Yekaterinburg", ZoneSource.LOCATION),
        (profile(), "Asia/Novosibirsk", "Asia/Novosibirsk", ZoneSource.LOCATION),
        # then the phone, when it maps to exactly one zone
        (profile(phones=(MOBILE, VLADIVOSTOK_LANDLINE)), "No/Zone", "Asia/Vladivostok", Z.PHONE),
        (profile(phones=(BERLIN,)), None, "Europe/Berlin", ZoneSource.PHONE),
        # a mobile number spans all of Russia: the tenant's zone
        (profile(phones=(MOBILE,)), None, "Europe/Moscow", ZoneSource.TENANT),
        # two landlines in different zones: no single zone, the tenant's
        (profile(phones=(VLADIVOSTOK_LANDLINE, YEKATERINBURG_LANDLINE)), None, MSK, Z.TENANT),
        # a phone that is not usable says nothing
        (profile(phones=(VLADIVOSTOK_LANDLINE,), phone_status=STALE), None, MSK, Z.TENANT),
        # nothing known: the tenant's
        (profile(), None, "Europe/Moscow", ZoneSource.TENANT),
    ],
)  # fmt: skip
def test_the_zone_comes_from_the_first_source_that_names_one(
    given: CustomerProfile, location: str | None, zone: str, source: ZoneSource
) -> None:
    # When the recipient's zone is resolved for a Moscow tenant
    resolved = resolve_zone(given, location_timezone=location, tenant_timezone="Europe/Moscow")
    # Then it is the first source's, and says where it came from
    assert (resolved.zone.key, resolved.source) == (zone, source)


def test_every_russian_federal_subject_maps_to_a_real_zone() -> None:
    assert len(RUSSIAN_REGION_ZONES) == 83
    for code, name in RUSSIAN_REGION_ZONES.items():
        assert code.startswith("RU-")
        assert ZoneInfo(name).utcoffset(T0) is not None


@pytest.mark.parametrize(
    ("region", "utc_offset_hours"),
    [
        ("RU-MOW", 3),
        ("RU-KGD", 2),
        ("RU-SAM", 4),
        ("RU-SVE", 5),
        ("RU-OMS", 6),
        ("RU-NVS", 7),
        ("RU-IRK", 8),
        ("RU-SA", 9),
        ("RU-PRI", 10),
        ("RU-MAG", 11),
        ("RU-KAM", 12),
    ],
)
def test_russian_regions_span_eleven_zones_none_with_summer_time(
    region: str, utc_offset_hours: int
) -> None:
    zone = zone_of_region(region)
    assert zone is not None
    for moment in (datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)):
        offset = moment.astimezone(zone).utcoffset()
        assert offset is not None and offset.total_seconds() == utc_offset_hours * 3600


def test_a_number_libphonenumber_cannot_place_has_no_zone() -> None:
    assert zones_of_phone("+800 1234 5678") == ()  # international freephone: "Etc/Unknown"
    assert zones_of_phone("not a number") == ()
    assert len(zones_of_phone(MOBILE)) > 5


def test_an_unknown_tenant_zone_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="not an IANA zone"):
        resolve_zone(profile(), location_timezone=None, tenant_timezone="Moscow")
