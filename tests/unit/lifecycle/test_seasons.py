"""Tyre change windows by region, within the legal limits, and tenant overrides."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trigly.lifecycle.seasons import (
    REGION_ZONES,
    ZONES,
    RegionSeasons,
    next_tyre_change,
    region_seasons,
    tyre_windows,
)


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_every_zone_changes_tyres_before_the_law_requires_it(zone: str) -> None:
    region = next(code for code, name in REGION_ZONES.items() if name == zone)
    for year in (2026, 2028):
        summer, winter = tyre_windows(region, year)
        assert (summer.kind, winter.kind) == ("summer", "winter")
        assert summer.opens_on < summer.closes_on < date(year, 6, 1) == summer.legal_from
        assert winter.opens_on < winter.closes_on < date(year, 12, 1) == winter.legal_from
        assert "018/2011" in summer.legal_note and "июня" in summer.legal_note
        assert "018/2011" in winter.legal_note and "декабря" in winter.legal_note


@pytest.mark.parametrize(
    ("region", "zone"),
    [
        ("RU-MOW", "central"),
        ("ru-spe", "central"),
        ("RU-KDA", "south"),
        ("RU-NVS", "siberia"),
        ("RU-PRI", "primorye"),
        ("RU-SA", "yakutia"),
        ("RU-YAK", "yakutia"),
        ("SVE", "volga_urals"),
        ("RU-XXX", "central"),
        (None, "central"),
        ("", "central"),
    ],
)
def test_regions_map_to_climate_zones_and_unknown_ones_to_central_russia(
    region: str | None, zone: str
) -> None:
    assert region_seasons(region).zone == zone


def _window(region: str, kind: str, year: int = 2026) -> tuple[date, date]:
    found = next(w for w in tyre_windows(region, year) if w.kind == kind)
    return found.opens_on, found.closes_on


def test_the_south_changes_to_summer_tyres_earlier_and_to_winter_ones_later() -> None:
    assert _window("RU-KDA", "summer")[0] < _window("RU-MOW", "summer")[0]
    assert _window("RU-KDA", "winter")[0] > _window("RU-MOW", "winter")[0]


@pytest.mark.parametrize("region", ["RU-NVS", "RU-KHA", "RU-SA", "RU-MUR", "RU-SVE"])
def test_siberia_the_far_east_the_north_and_the_urals_change_to_winter_earlier(
    region: str,
) -> None:
    assert _window(region, "winter")[0] < _window("RU-MOW", "winter")[0]


def test_yakutia_is_the_earliest_autumn_and_still_done_with_studs_by_june() -> None:
    autumns = {zone: _window(code, "winter")[0] for code, zone in REGION_ZONES.items()}
    assert min(autumns.values()) == autumns["yakutia"]
    assert _window("RU-SA", "summer")[1] == date(2026, 5, 31)


@pytest.mark.parametrize(
    ("today", "kind", "opens_on"),
    [
        (date(2026, 1, 15), "summer", date(2026, 4, 10)),
        (date(2026, 4, 20), "summer", date(2026, 4, 10)),  # inside the window
        (date(2026, 5, 5), "summer", date(2026, 4, 10)),  # its last day
        (date(2026, 5, 6), "winter", date(2026, 10, 10)),
        (date(2026, 11, 10), "winter", date(2026, 10, 10)),
        (date(2026, 11, 11), "summer", date(2027, 4, 10)),
        (date(2026, 12, 31), "summer", date(2027, 4, 10)),
    ],
)
def test_the_next_change_is_the_window_open_today_or_the_next_to_open(
    today: date, kind: str, opens_on: date
) -> None:
    window = next_tyre_change("RU-MOW", today)
    assert (window.kind, window.opens_on) == (kind, opens_on)


def test_a_tenant_overrides_a_region_a_zone_or_the_default_partially_or_whole() -> None:
    overrides = {
        "RU-MOW": {"winter_opens": "10-01"},
        "siberia": {"summer_opens": "05-01", "summer_closes": "05-20"},
        "*": RegionSeasons(
            zone="tenant",
            summer_opens="04-01",
            summer_closes="04-30",
            winter_opens="10-15",
            winter_closes="11-15",
        ),
    }
    moscow = region_seasons("RU-MOW", overrides)
    assert (moscow.winter_opens, moscow.winter_closes) == ("10-01", "11-10")
    assert region_seasons("RU-OMS", overrides).summer_opens == "05-01"
    assert region_seasons("RU-NVS", overrides).winter_opens == "09-25"  # untouched
    assert region_seasons("RU-XXX", overrides).zone == "tenant"
    assert region_seasons("RU-SPE", overrides).winter_opens == "10-10"  # "*" is for unknowns
    assert next_tyre_change("RU-MOW", date(2026, 9, 1), overrides).opens_on == date(2026, 10, 1)


def test_a_tenant_can_word_the_legal_note_for_a_region_that_extended_the_period() -> None:
    note = "В регионе зимние шины обязательны с 1 ноября."
    window = next_tyre_change("RU-SA", date(2026, 8, 1), {"RU-SA": {"winter_note": note}})
    assert window.legal_note == note


def test_an_impossible_day_is_rejected() -> None:
    with pytest.raises(ValidationError):
        region_seasons("RU-MOW", {"RU-MOW": {"winter_opens": "02-30"}})


def test_29_february_in_an_override_falls_back_to_the_28th_in_common_years() -> None:
    overrides = {"RU-KDA": {"summer_opens": "02-29", "summer_closes": "03-31"}}
    assert _window_with("RU-KDA", overrides, 2027) == date(2027, 2, 28)
    assert _window_with("RU-KDA", overrides, 2028) == date(2028, 2, 29)


def _window_with(region: str, overrides: dict[str, dict[str, str]], year: int) -> date:
    return tyre_windows(region, year, overrides)[0].opens_on


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(date(2020, 1, 1), date(2040, 12, 31)),
    region=st.sampled_from([*sorted(REGION_ZONES), None, "RU-XXX"]),
)
def test_the_next_change_never_lies_behind_and_is_within_a_year(
    day: date, region: str | None
) -> None:
    window = next_tyre_change(region, day)
    assert window.closes_on >= day
    assert window.opens_on - day < timedelta(days=366)
