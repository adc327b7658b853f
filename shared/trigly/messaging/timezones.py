"""The recipient's time zone, resolved in CONTRACT §3's order:

1. the profile's `timezone` (IANA);
2. its `region` (ISO 3166-2; Russian regions map through `RUSSIAN_REGION_ZONES`);
3. the zone of the customer's location (dealer centre / service station);
4. the phone number, where it maps to exactly one zone (landlines and most foreign numbers;
   Russian mobile numbers are not geographic and map to every Russian zone);
5. the tenant's zone.

A value that does not name a zone (a typo, a foreign region the table lacks) is skipped, never
an error: the next source answers.
"""

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trigly.profiles.model import CustomerProfile


class ZoneSource(StrEnum):
    PROFILE = "profile"
    REGION = "region"
    LOCATION = "location"
    PHONE = "phone"
    TENANT = "tenant"


@dataclass(frozen=True)
class ResolvedZone:
    zone: ZoneInfo
    source: ZoneSource


# Every federal subject in ISO 3166-2:RU → the IANA zone of its capital and most of its people
# (Yakutia spans three zones, Sakhalin two: the capital's zone stands for the region).
RUSSIAN_REGION_ZONES: dict[str, str] = {
    # republics
    "RU-AD": "Europe/Moscow",
    "RU-AL": "Asia/Barnaul",
    "RU-BA": "Asia/Yekaterinburg",
    "RU-BU": "Asia/Irkutsk",
    "RU-CE": "Europe/Moscow",
    "RU-CU": "Europe/Moscow",
    "RU-DA": "Europe/Moscow",
    "RU-IN": "Europe/Moscow",
    "RU-KB": "Europe/Moscow",
    "RU-KL": "Europe/Moscow",
    "RU-KC": "Europe/Moscow",
    "RU-KR": "Europe/Moscow",
    "RU-KK": "Asia/Krasnoyarsk",
    "RU-KO": "Europe/Moscow",
    "RU-ME": "Europe/Moscow",
    "RU-MO": "Europe/Moscow",
    "RU-SA": "Asia/Yakutsk",
    "RU-SE": "Europe/Moscow",
    "RU-TA": "Europe/Moscow",
    "RU-TY": "Asia/Krasnoyarsk",
    "RU-UD": "Europe/Samara",
    # krais
    "RU-ALT": "Asia/Barnaul",
    "RU-KAM": "Asia/Kamchatka",
    "RU-KHA": "Asia/Vladivostok",
    "RU-KDA": "Europe/Moscow",
    "RU-KYA": "Asia/Krasnoyarsk",
    "RU-PER": "Asia/Yekaterinburg",
    "RU-PRI": "Asia/Vladivostok",
    "RU-STA": "Europe/Moscow",
    "RU-ZAB": "Asia/Chita",
    # oblasts
    "RU-AMU": "Asia/Yakutsk",
    "RU-ARK": "Europe/Moscow",
    "RU-AST": "Europe/Astrakhan",
    "RU-BEL": "Europe/Moscow",
    "RU-BRY": "Europe/Moscow",
    "RU-CHE": "Asia/Yekaterinburg",
    "RU-IRK": "Asia/Irkutsk",
    "RU-IVA": "Europe/Moscow",
    "RU-KGD": "Europe/Kaliningrad",
    "RU-KLU": "Europe/Moscow",
    "RU-KEM": "Asia/Novokuznetsk",
    "RU-KIR": "Europe/Kirov",
    "RU-KOS": "Europe/Moscow",
    "RU-KGN": "Asia/Yekaterinburg",
    "RU-KRS": "Europe/Moscow",
    "RU-LEN": "Europe/Moscow",
    "RU-LIP": "Europe/Moscow",
    "RU-MAG": "Asia/Magadan",
    "RU-MOS": "Europe/Moscow",
    "RU-MUR": "Europe/Moscow",
    "RU-NIZ": "Europe/Moscow",
    "RU-NGR": "Europe/Moscow",
    "RU-NVS": "Asia/Novosibirsk",
    "RU-OMS": "Asia/Omsk",
    "RU-ORE": "Asia/Yekaterinburg",
    "RU-ORL": "Europe/Moscow",
    "RU-PNZ": "Europe/Moscow",
    "RU-PSK": "Europe/Moscow",
    "RU-ROS": "Europe/Moscow",
    "RU-RYA": "Europe/Moscow",
    "RU-SAK": "Asia/Sakhalin",
    "RU-SAM": "Europe/Samara",
    "RU-SAR": "Europe/Saratov",
    "RU-SMO": "Europe/Moscow",
    "RU-SVE": "Asia/Yekaterinburg",
    "RU-TAM": "Europe/Moscow",
    "RU-TOM": "Asia/Tomsk",
    "RU-TUL": "Europe/Moscow",
    "RU-TVE": "Europe/Moscow",
    "RU-TYU": "Asia/Yekaterinburg",
    "RU-ULY": "Europe/Ulyanovsk",
    "RU-VLA": "Europe/Moscow",
    "RU-VGG": "Europe/Volgograd",
    "RU-VLG": "Europe/Moscow",
    "RU-VOR": "Europe/Moscow",
    "RU-YAR": "Europe/Moscow",
    # federal cities
    "RU-MOW": "Europe/Moscow",
    "RU-SPE": "Europe/Moscow",
    # autonomous oblast and okrugs
    "RU-YEV": "Asia/Vladivostok",
    "RU-CHU": "Asia/Anadyr",
    "RU-KHM": "Asia/Yekaterinburg",
    "RU-NEN": "Europe/Moscow",
    "RU-YAN": "Asia/Yekaterinburg",
}


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_of_region(region: str) -> ZoneInfo | None:
    name = RUSSIAN_REGION_ZONES.get(region.strip().upper())
    return _zone(name) if name else None


def zones_of_phone(e164: str) -> tuple[str, ...]:
    """Every zone libphonenumber places the number in (none when it cannot say)."""
    import phonenumbers
    from phonenumbers import timezone  # loads its prefix table on first use

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = timezone.time_zones_for_number(number)
    return tuple(z for z in zones if _zone(z) is not None)  # drops "Etc/Unknown"


def zone_of_phones(phones: list[str]) -> ZoneInfo | None:
    """The zone the usable phones agree on, each mapping to exactly one zone; else None."""
    found = set()
    for phone in phones:
        zones = zones_of_phone(phone)
        if len(zones) == 1:
            found.add(zones[0])
    return _zone(found.pop()) if len(found) == 1 else None


def resolve_zone(
    profile: CustomerProfile, *, location_timezone: str | None, tenant_timezone: str
) -> ResolvedZone:
    """The recipient's zone and where it came from (CONTRACT §3 order, see the module)."""
    candidates: list[tuple[ZoneSource, ZoneInfo | None]] = [
        (ZoneSource.PROFILE, _zone(profile.timezone) if profile.timezone else None),
        (ZoneSource.REGION, zone_of_region(profile.region) if profile.region else None),
        (ZoneSource.LOCATION, _zone(location_timezone) if location_timezone else None),
    ]
    for source, zone in candidates:
        if zone is not None:
            return ResolvedZone(zone, source)
    by_phone = zone_of_phones(profile.usable_phones())
    if by_phone is not None:
        return ResolvedZone(by_phone, ZoneSource.PHONE)
    tenant = _zone(tenant_timezone)
    if tenant is None:
        raise ValueError(f"the tenant's time zone {tenant_timezone!r} is not an IANA zone")
    return ResolvedZone(tenant, ZoneSource.TENANT)
