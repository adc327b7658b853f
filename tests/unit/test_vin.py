"""Vehicle identifiers: VINs (check digit not required), Japanese frame numbers, decoding."""

import pytest

from trigly.vehicles.vin import VinInfo, decode_vin, is_frame_number, normalize_vehicle_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("XTA210740C1234567", "XTA210740C1234567"),
        # Given lower case and stray spaces, When normalized, Then upper-cased and trimmed
        ("  xta210740c1234567 ", "XTA210740C1234567"),
        # A check digit that is wrong (common outside North America) is accepted
        ("WBA3A5C50CF256651", "WBA3A5C50CF256651"),
        # Letters typed on a Russian keyboard look the same and mean the same
        ("ХТА210740С1234567", "XTA210740C1234567"),
    ],
)
def test_a_17_character_vin_is_normalized(raw: str, expected: str) -> None:
    assert normalize_vehicle_id(raw) == expected
    assert not is_frame_number(expected)


@pytest.mark.parametrize("raw", ["XTA21074OC1234567", "ITA210740C1234567", "XTA210740C123456Q"])
def test_a_vin_with_i_o_or_q_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="no I, O or Q"):
        normalize_vehicle_id(raw)


@pytest.mark.parametrize("raw", ["XTA210740C123456", "XTA210740C12345678", "", "hello", "12-34"])
def test_anything_else_is_refused_naming_both_accepted_forms(raw: str) -> None:
    with pytest.raises(ValueError) as refused:
        normalize_vehicle_id(raw)
    assert "17-character VIN" in str(refused.value)
    assert "frame number like NZE141-1234567" in str(refused.value)


def test_a_16_character_vin_says_how_long_it_was() -> None:
    with pytest.raises(ValueError, match="got 16 characters"):
        normalize_vehicle_id("XTA210740C123456")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NZE141-1234567", "NZE141-1234567"),
        ("gx100-0012345", "GX100-0012345"),
        ("FD3S-123456", "FD3S-123456"),
        ("GDB-0123", "GDB-0123"),
        (" ZRE152 – 12345678 ", "ZRE152-12345678"),
    ],
)
def test_a_japanese_frame_number_is_accepted(raw: str, expected: str) -> None:
    assert normalize_vehicle_id(raw) == expected
    assert is_frame_number(raw)


@pytest.mark.parametrize("raw", ["NZE141-123", "NZE141-123456789", "141-1234567", "NZE141_1234567"])
def test_a_malformed_frame_number_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="NZE141-1234567"):
        normalize_vehicle_id(raw)


@pytest.mark.parametrize(
    ("vin", "make", "year", "country"),
    [
        ("XWEPH81ADK0001234", "Kia", 2019, "Russia"),  # Kia assembled in Russia
        ("KNAGM4A77D5316538", "Kia", 2013, "South Korea"),
        ("XTA210740C1234567", "Lada", 2012, "Russia"),  # vininfo says AvtoVAZ
        ("WBA3A5C56CF256651", "BMW", 2012, "Germany"),
        ("Z8NTANT31ES123456", "Nissan", 2014, "Russia"),  # a plant vininfo does not know
        ("xta210740c1234567", "Lada", 2012, "Russia"),
    ],
)
def test_decoding_tells_make_year_and_country(vin: str, make: str, year: int, country: str) -> None:
    assert decode_vin(vin) == VinInfo(make=make, year=year, country=country)


@pytest.mark.parametrize(
    "odd", ["NZE141-1234567", "", "XTA21074OC1234567", "not a vin", "ZZZZZZZZZZZZZZZZZ", None, 42]
)
def test_decoding_never_raises(odd: object) -> None:
    info = decode_vin(odd)  # type: ignore[arg-type]
    assert info.make is None


def test_an_unknown_maker_still_gives_the_latest_possible_year() -> None:
    # The year letter repeats every 30 years: A is 1980 or 2010; the latest is taken
    info = decode_vin("ZZZZZZZZZAZZZZZZZ")
    assert (info.make, info.year) == (None, 2010)
