"""Seasonal tyre change by Russian region: the practical windows and the legal limits.

Law (the Customs Union's Technical Regulation TR CU 018/2011 "On the safety of wheeled
vehicles", annex 8, p. 5.5): studded tyres are banned in summer (June, July, August); winter
tyres on every wheel are required in winter (December, January, February); a region may lengthen
either period. The practical window is when the daily mean temperature settles below (autumn) or
above (spring) about +5…+7 °C, the point tyre makers give for the change; it comes from each
climate zone's normals. Windows per zone below, regions by ISO 3166-2 code; a tenant overrides
any region, zone or the default ("*"). Sources and the table in docs/lifecycle.md.
"""

from collections.abc import Mapping
from datetime import date
from typing import Literal

from pydantic import BaseModel, field_validator

LEGAL_WINTER = (
    "Зимние шины на всех колёсах обязательны с 1 декабря по конец февраля "
    "(ТР ТС 018/2011, прил. 8, п. 5.5); регион может продлить срок."
)
LEGAL_SUMMER = (
    "Шипованные шины запрещены с 1 июня по 31 августа "
    "(ТР ТС 018/2011, прил. 8, п. 5.5); регион может продлить срок."
)
DEFAULT = "*"

Kind = Literal["winter", "summer"]


def _month_day(value: str) -> str:
    month, day = (int(part) for part in value.split("-"))
    date(2024, month, day)  # raises on 02-30, 13-01
    return f"{month:02d}-{day:02d}"


class RegionSeasons(BaseModel):
    """Change windows as "MM-DD": summer tyres on in spring, winter tyres on in autumn."""

    zone: str
    summer_opens: str
    summer_closes: str
    winter_opens: str
    winter_closes: str
    summer_note: str = LEGAL_SUMMER
    winter_note: str = LEGAL_WINTER

    @field_validator("summer_opens", "summer_closes", "winter_opens", "winter_closes")
    @classmethod
    def _valid_day(cls, value: str) -> str:
        return _month_day(value)


class TyreWindow(BaseModel):
    kind: Kind  # the tyres to put on
    opens_on: date
    closes_on: date
    legal_note: str
    legal_from: date  # from this day the law requires it (winter) or bans studs (summer)
    zone: str
    region: str | None = None


def _zone(name: str, summer: tuple[str, str], winter: tuple[str, str]) -> RegionSeasons:
    return RegionSeasons(
        zone=name,
        summer_opens=summer[0],
        summer_closes=summer[1],
        winter_opens=winter[0],
        winter_closes=winter[1],
    )


ZONES: dict[str, RegionSeasons] = {
    zone.zone: zone
    for zone in (
        _zone("south", ("03-20", "04-20"), ("11-01", "11-30")),
        _zone("black_earth", ("04-01", "04-30"), ("10-20", "11-20")),
        _zone("central", ("04-10", "05-05"), ("10-10", "11-10")),
        _zone("volga_urals", ("04-15", "05-10"), ("10-01", "10-31")),
        _zone("north", ("05-05", "05-31"), ("09-25", "10-25")),
        _zone("siberia", ("04-20", "05-15"), ("09-25", "10-20")),
        _zone("far_north", ("05-10", "05-31"), ("09-10", "10-05")),
        _zone("amur", ("04-15", "05-10"), ("10-05", "10-31")),
        _zone("primorye", ("04-20", "05-10"), ("10-25", "11-20")),
        _zone("pacific", ("05-01", "05-25"), ("10-15", "11-10")),
        _zone("yakutia", ("05-15", "05-31"), ("09-05", "09-30")),
    )
}

_ZONE_REGIONS = {
    "south": "KDA ROS STA AST VGG AD DA KB KC SE IN CE KL",
    "black_earth": "BEL VOR KRS LIP TAM ORL SAR PNZ",
    "central": "MOW MOS SPE LEN TVE YAR VLA IVA KOS RYA TUL KLU SMO BRY NGR PSK NIZ KGD MO CU ME",
    "volga_urals": "TA BA SAM ULY ORE PER UD KIR SVE CHE KGN TYU",
    "north": "ARK NEN MUR KR KO VLG",
    "siberia": "NVS OMS TOM KEM ALT AL KYA KK TY IRK BU ZAB",
    "far_north": "KHM YAN",
    "amur": "KHA AMU YEV",
    "primorye": "PRI",
    "pacific": "SAK KAM",
    "yakutia": "SA YAK MAG CHU",  # RU-SA is Sakha's ISO code; RU-YAK is accepted as a spelling
}
REGION_ZONES = {
    f"RU-{code}": zone for zone, codes in _ZONE_REGIONS.items() for code in codes.split()
}
DEFAULT_ZONE = "central"


def normalize_region(region: str | None) -> str | None:
    code = (region or "").strip().upper()
    if not code:
        return None
    return code if code.startswith("RU-") or code == DEFAULT else f"RU-{code}"


def region_seasons(
    region: str | None, overrides: Mapping[str, RegionSeasons | Mapping[str, str]] = {}
) -> RegionSeasons:
    """The windows for a region: the tenant's entry for the region, else for its zone, else the
    built-in zone; an unknown region gets the tenant's "*" or central Russia. A partial entry
    (a mapping of some fields) is laid over what it replaces."""
    code = normalize_region(region)
    zone_name = REGION_ZONES.get(code or "")
    base = ZONES[zone_name or DEFAULT_ZONE]
    for key in (code, zone_name) if zone_name else (code, DEFAULT):
        if key is None or key not in overrides:
            continue
        entry = overrides[key]
        if isinstance(entry, RegionSeasons):
            return entry
        return RegionSeasons.model_validate({**base.model_dump(), **dict(entry)})
    return base


def _on(year: int, month_day: str) -> date:
    month, day = (int(part) for part in month_day.split("-"))
    try:
        return date(year, month, day)
    except ValueError:  # 29 February of a common year
        return date(year, month, day - 1)


def tyre_windows(
    region: str | None,
    year: int,
    overrides: Mapping[str, RegionSeasons | Mapping[str, str]] = {},
) -> list[TyreWindow]:
    """The year's two change windows, spring (summer tyres) then autumn (winter tyres)."""
    seasons = region_seasons(region, overrides)
    code = normalize_region(region)
    return [
        TyreWindow(
            kind="summer",
            opens_on=_on(year, seasons.summer_opens),
            closes_on=_on(year, seasons.summer_closes),
            legal_note=seasons.summer_note,
            legal_from=date(year, 6, 1),
            zone=seasons.zone,
            region=code,
        ),
        TyreWindow(
            kind="winter",
            opens_on=_on(year, seasons.winter_opens),
            closes_on=_on(year, seasons.winter_closes),
            legal_note=seasons.winter_note,
            legal_from=date(year, 12, 1),
            zone=seasons.zone,
            region=code,
        ),
    ]


def next_tyre_change(
    region: str | None,
    today: date,
    overrides: Mapping[str, RegionSeasons | Mapping[str, str]] = {},
) -> TyreWindow:
    """The window open today, else the next one to open."""
    for year in (today.year, today.year + 1):
        for window in tyre_windows(region, year, overrides):
            if window.closes_on >= today:
                return window
    raise AssertionError("a year always has a window ahead")  # pragma: no cover
